package io.damjava.cli;

import io.damjava.api.ModelLoadException;
import io.damjava.convert.CheckpointException;
import io.damjava.convert.ConvertOptions;
import io.damjava.convert.ConvertSummary;
import io.damjava.convert.Converter;
import io.damjava.onnx.bundle.BundleManifest;
import io.damjava.onnx.bundle.BundleManifest.Precision;
import io.damjava.onnx.bundle.BundleManifest.Style;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Turns a {@code --model} value into a bundle directory: an existing directory is used as is; a
 * Hugging Face id ({@code owner/name[@revision]}) is looked up in {@code $DAM_HOME/models} (default
 * {@code ~/.cache/dam-java}) and, the first time, downloaded and converted there (fp32, contrib).
 */
final class ModelResolver {
  static final Pattern HUB_ID =
      Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*(@[A-Za-z0-9._/-]+)?");

  private final Map<String, String> env;
  private final PrintWriter err;
  private final boolean bars;

  ModelResolver(Map<String, String> env, PrintWriter err, boolean bars) {
    this.env = env;
    this.err = err;
    this.bars = bars;
  }

  /** The cache root: {@code $DAM_HOME}, else {@code ~/.cache/dam-java}. */
  static Path home(Map<String, String> env) {
    String h = env.get("DAM_HOME");
    if (h != null && !h.isBlank()) {
      return Path.of(h);
    }
    return Path.of(System.getProperty("user.home"), ".cache", "dam-java");
  }

  /** Where a hub id's bundle lives in the cache. */
  static Path cached(Map<String, String> env, String hubId) {
    int at = hubId.indexOf('@');
    String id = at < 0 ? hubId : hubId.substring(0, at);
    String rev = at < 0 ? "" : "@" + hubId.substring(at + 1).replace('/', '_');
    int slash = id.indexOf('/');
    return home(env)
        .resolve("models")
        .resolve(id.substring(0, slash))
        .resolve(id.substring(slash + 1) + rev);
  }

  Path resolve(String model) {
    Path dir = Path.of(model);
    if (Files.isDirectory(dir)) {
      return checkBundle(dir);
    }
    if (!HUB_ID.matcher(model).matches()) {
      throw new ModelLoadException(
          "model directory not found: "
              + model
              + " (give a bundle directory written by `dam convert`, or a Hugging Face id such as"
              + " nvidia/DAM-3B)");
    }
    Path bundle = cached(env, model);
    if (Files.isRegularFile(bundle.resolve(BundleManifest.FILE_NAME))) {
      return bundle;
    }
    err.println(
        "dam: "
            + model
            + " is not in the model cache yet: downloading and converting it once into "
            + bundle
            + " (set DAM_HOME to use another folder)");
    err.flush();
    ConsoleProgress progress = new ConsoleProgress(err, bars, "download+convert");
    try {
      ConvertSummary s =
          Converter.run(
              new ConvertOptions(
                  null, model, bundle, Precision.FP32, Style.CONTRIB, null, progress));
      progress.finish();
      err.println("dam: converted " + s);
      err.flush();
      return s.bundle();
    } catch (CheckpointException | UncheckedIOException | IllegalArgumentException e) {
      progress.finish();
      throw new ModelLoadException(
          "could not download and convert "
              + model
              + ": "
              + e.getMessage()
              + (e.getMessage() != null && e.getMessage().contains("dam convert --checkpoint")
                  ? ""
                  : " To use a checkpoint folder you already have: dam convert --checkpoint DIR"
                      + " --out BUNDLE, then dam describe --model BUNDLE ..."),
          e);
    }
  }

  private static Path checkBundle(Path dir) {
    if (Files.isRegularFile(dir.resolve(BundleManifest.FILE_NAME))) {
      return dir;
    }
    if (Files.isRegularFile(dir.resolve("config.json")) && Files.isDirectory(dir.resolve("llm"))) {
      throw new ModelLoadException(
          dir
              + " is a checkpoint, not a bundle: convert it first with `dam convert --checkpoint "
              + dir
              + " --out BUNDLE_DIR` and pass --model BUNDLE_DIR");
    }
    throw new ModelLoadException(
        dir
            + " is not a model bundle (no "
            + BundleManifest.FILE_NAME
            + "): give a directory written by `dam convert`");
  }
}

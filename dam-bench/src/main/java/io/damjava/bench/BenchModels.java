package io.damjava.bench;

import io.damjava.convert.ConvertOptions;
import io.damjava.convert.Converter;
import io.damjava.onnx.bundle.BundleManifest.Precision;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Finds or makes the benchmark checkpoints and bundles.
 *
 * <ul>
 *   <li>{@code -Ddam.bench.models=DIR} (default {@code ~/.cache/dam-bench}): where checkpoints
 *       ({@code ckpt-L<n>}) and bundles ({@code <checkpoint>-<precision>}) are kept between runs.
 *   <li>{@code -Ddam.bench.checkpoint=DIR}: use this checkpoint instead of making a {@code bench}
 *       one (the smoke test passes the tiny fixture).
 *   <li>{@code -Ddam.bench.layers=N} (default 2): depth of the made {@code bench} checkpoint; 2 is
 *       the least that runs a vision block (the vision tower uses {@code layers - 1} blocks).
 *   <li>{@code -Ddam.python=PATH} (default {@code /usr/bin/python3}) and {@code
 *       -Ddam.reference=DIR} (default {@code tools/reference} found from the working directory).
 * </ul>
 */
public final class BenchModels {
  private BenchModels() {}

  public static Path home() {
    String p = System.getProperty("dam.bench.models");
    return p != null ? Path.of(p) : Path.of(System.getProperty("user.home"), ".cache", "dam-bench");
  }

  public static int layers() {
    return Integer.getInteger("dam.bench.layers", 2);
  }

  public static String python() {
    return System.getProperty("dam.python", "/usr/bin/python3");
  }

  /**
   * The command that times the PyTorch reference on {@code ckpt} (tools/reference/
   * bench_reference.py): decode on a random KV cache at contexts 256 and 1024, and the prefill of a
   * {@code promptLength}-position prompt.
   */
  static List<String> referenceBench(
      Path ckpt, int threads, int reps, int decodeTokens, int promptLength) {
    return List.of(
        python(),
        referenceDir().resolve("bench_reference.py").toString(),
        "--checkpoint",
        ckpt.toString(),
        "--threads",
        Integer.toString(threads),
        "--context",
        "256,1024",
        "--reps",
        Integer.toString(reps),
        "--decode-tokens",
        Integer.toString(decodeTokens),
        "--prompt-length",
        Integer.toString(promptLength),
        "--random-cache");
  }

  /** tools/reference, looked up from the working directory and its parents. */
  public static Path referenceDir() {
    String p = System.getProperty("dam.reference");
    if (p != null) {
      return Path.of(p);
    }
    for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
      Path r = d.resolve("tools/reference");
      if (Files.isRegularFile(r.resolve("make_checkpoint.py"))) {
        return r;
      }
    }
    throw new IllegalStateException(
        "tools/reference not found from "
            + Path.of("").toAbsolutePath()
            + ": pass -Ddam.reference");
  }

  /** The bundle of the configured checkpoint at a precision (made on first use). */
  public static Path bundle(String precision) {
    String ck = System.getProperty("dam.bench.checkpoint");
    Path checkpoint = ck != null ? Path.of(ck) : checkpoint(layers());
    return bundle(checkpoint, precision);
  }

  /** A {@code bench} checkpoint (real DAM-3B widths) of the given depth, made on first use. */
  public static Path checkpoint(int layers) {
    Path dir = home().resolve("ckpt-L" + layers);
    if (Files.isRegularFile(dir.resolve("config.json"))) {
      return dir;
    }
    run(
        List.of(
            python(),
            referenceDir().resolve("make_checkpoint.py").toString(),
            "--preset",
            "bench",
            "--variant",
            "image",
            "--layers",
            Integer.toString(layers),
            "--out",
            dir.toString()));
    return dir;
  }

  /** The bundle of a checkpoint at a precision, converted on first use. */
  public static synchronized Path bundle(Path checkpoint, String precision) {
    Path out =
        home()
            .resolve(
                checkpoint.toAbsolutePath().normalize().getFileName()
                    + "-"
                    + precision.toLowerCase(Locale.ROOT));
    if (Files.isRegularFile(out.resolve("dam-bundle.json"))) {
      return out;
    }
    try {
      Files.createDirectories(home());
      deleteRecursively(out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Converter.run(
        ConvertOptions.of(checkpoint, out)
            .withPrecision(Precision.valueOf(precision.toUpperCase(Locale.ROOT))));
    return out;
  }

  static void deleteRecursively(Path p) throws IOException {
    if (!Files.exists(p)) {
      return;
    }
    try (var s = Files.walk(p)) {
      for (Path x : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(x);
      }
    }
  }

  static void run(List<String> cmd) {
    try {
      Process p = new ProcessBuilder(cmd).inheritIO().start();
      int rc = p.waitFor();
      if (rc != 0) {
        throw new IllegalStateException("exit " + rc + ": " + String.join(" ", cmd));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted: " + String.join(" ", cmd), e);
    }
  }
}

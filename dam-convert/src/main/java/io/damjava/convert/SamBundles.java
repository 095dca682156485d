package io.damjava.convert;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.damjava.convert.onnx.OnnxProto;
import io.damjava.onnx.bundle.BundleManifest;
import io.damjava.onnx.bundle.FileDigest;
import io.damjava.onnx.bundle.SamManifest;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Segmenter bundles ({@code sam-bundle.json} plus two graphs) for the engine's {@code Segmenter}:
 * fetched from a Hugging Face repository holding the transformers.js / Optimum split export of
 * {@code SamModel}, or written around graphs already on disk. docs/segmentation.md lists exports
 * that work.
 *
 * <pre>{@code
 * Path sam = SamBundles.fetch(HubDownloader.Settings.fromEnvironment(), "Xenova/sam-vit-base",
 *     "", Path.of("sam-bundle"), Progress.NONE);
 * DescribeAnything.builder().model(dam).segmenter(sam).build();
 * }</pre>
 */
public final class SamBundles {
  private SamBundles() {}

  /**
   * Downloads {@code vision_encoder{variant}.onnx} and {@code
   * prompt_encoder_mask_decoder{variant}.onnx} (under {@code onnx/} as transformers.js publishes
   * them, or at the root as Optimum writes them), their external data files ({@code .onnx_data} or
   * {@code .onnx.data}) if any, and {@code preprocessor_config.json}, then writes a segmenter
   * bundle into {@code out}.
   *
   * @param repoSpec {@code owner/name[@revision]}
   * @param variant file name suffix: "" (fp32), "_quantized", "_fp16", ...
   */
  public static Path fetch(
      HubDownloader.Settings settings, String repoSpec, String variant, Path out, Progress p) {
    HubDownloader.Repo repo = HubDownloader.Repo.parse(repoSpec);
    List<String> wanted = new ArrayList<>(List.of("preprocessor_config.json"));
    for (String dir : List.of("onnx/", "")) {
      for (String g : List.of("vision_encoder", "prompt_encoder_mask_decoder")) {
        wanted.add(dir + g + variant + ".onnx");
        wanted.add(dir + g + variant + ".onnx_data");
        wanted.add(dir + g + variant + ".onnx.data");
      }
    }
    Path src = new HubDownloader(settings, p).download(repo, wanted, List.of());
    String prefix =
        Files.isRegularFile(src.resolve("onnx/vision_encoder" + variant + ".onnx")) ? "onnx/" : "";
    String enc = "vision_encoder" + variant + ".onnx";
    String dec = "prompt_encoder_mask_decoder" + variant + ".onnx";
    for (String g : List.of(enc, dec)) {
      if (!Files.isRegularFile(src.resolve(prefix + g))) {
        throw new CheckpointException(
            repoSpec
                + " has no "
                + g
                + " (looked in onnx/ and the root): not a transformers.js / Optimum SAM export,"
                + " or another variant suffix is needed");
      }
    }
    try {
      Files.createDirectories(out);
      for (String f : wanted) {
        Path s = src.resolve(f);
        if (Files.isRegularFile(s) && !f.equals("preprocessor_config.json")) {
          Files.copy(
              s, out.resolve(s.getFileName().toString()), StandardCopyOption.REPLACE_EXISTING);
        }
      }
      SamManifest.Processor proc =
          processor(src.resolve("preprocessor_config.json"), SamManifest.Processor.defaults());
      SamManifest.Layout layout = layoutOf(out.resolve(dec));
      p.step("segmenter bundle: layout " + layout + ", " + enc + " + " + dec);
      return write(out, layout, repo.id() + "@" + repo.revision(), enc, dec, proc);
    } catch (IOException e) {
      throw new CheckpointException("cannot write the segmenter bundle " + out + ": " + e, e);
    }
  }

  /**
   * Writes {@code sam-bundle.json} for graphs already in {@code dir}, listing every file there with
   * its size and SHA-256.
   */
  public static Path write(
      Path dir,
      SamManifest.Layout layout,
      String source,
      String encoder,
      String decoder,
      SamManifest.Processor processor)
      throws IOException {
    List<BundleManifest.FileEntry> files = new ArrayList<>();
    try (Stream<Path> s = Files.list(dir)) {
      for (Path f : s.sorted().toList()) {
        String name = f.getFileName().toString();
        if (Files.isRegularFile(f) && !name.equals(SamManifest.FILE_NAME)) {
          files.add(new BundleManifest.FileEntry(name, Files.size(f), sha256(f)));
        }
      }
    }
    SamManifest.write(
        dir,
        new SamManifest(
            SamManifest.FORMAT_VERSION, layout, source, encoder, decoder, processor, files));
    return dir;
  }

  /** The layout a decoder graph follows, from its input names. */
  static SamManifest.Layout layoutOf(Path decoder) throws IOException {
    OnnxProto.ModelProto m;
    try (InputStream in = Files.newInputStream(decoder)) {
      m = OnnxProto.ModelProto.parseFrom(in);
    }
    List<String> inputs =
        m.getGraph().getInputList().stream().map(OnnxProto.ValueInfoProto::getName).toList();
    if (inputs.contains("input_points")) {
      return SamManifest.Layout.HF_SPLIT;
    }
    if (inputs.contains("point_coords")) {
      return SamManifest.Layout.SAM_ONNX;
    }
    throw new CheckpointException(
        decoder.getFileName()
            + " is neither a transformers.js/Optimum SAM decoder (no input_points) nor a"
            + " segment-anything export (no point_coords); its inputs: "
            + inputs);
  }

  /** SamImageProcessor's constants from preprocessor_config.json, or the defaults. */
  static SamManifest.Processor processor(Path config, SamManifest.Processor defaults)
      throws IOException {
    if (!Files.isRegularFile(config)) {
      return defaults;
    }
    JsonNode c = new ObjectMapper().readTree(config.toFile());
    if (c.path("resample").asInt(2) != 2) {
      throw new CheckpointException(
          "preprocessor_config.json asks for resample "
              + c.get("resample")
              + "; only 2 (BILINEAR), SamImageProcessor's, is supported");
    }
    return new SamManifest.Processor(
        c.path("size").path("longest_edge").asInt(defaults.longestEdge()),
        c.path("pad_size").path("height").asInt(defaults.padSize()),
        c.path("rescale_factor").asDouble(defaults.rescaleFactor()),
        list(c.path("image_mean"), defaults.imageMean()),
        list(c.path("image_std"), defaults.imageStd()),
        "BILINEAR",
        defaults.maskThreshold());
  }

  private static List<Double> list(JsonNode n, List<Double> d) {
    if (!n.isArray()) {
      return d;
    }
    List<Double> out = new ArrayList<>();
    n.forEach(v -> out.add(v.asDouble()));
    return out;
  }

  private static String sha256(Path p) {
    try {
      return FileDigest.sha256(p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}

package io.damjava.onnx.bundle;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import io.damjava.api.InvalidBundleException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The manifest of a segmenter bundle ({@code sam-bundle.json}): which public SAM export layout the
 * two graphs follow, their files with SHA-256, and SamProcessor's constants. Written by
 * dam-convert's {@code SamBundles}, read by the engine's {@code Segmenter}; docs/segmentation.md
 * documents every field. Parsing is strict, as for {@link BundleManifest}.
 *
 * @param formatVersion {@link #FORMAT_VERSION}
 * @param layout the graphs' I/O convention
 * @param source where the graphs came from (hub repo@revision, or a note), informational
 * @param encoder the image encoder graph file: one float input (1, 3, S, S) → image embeddings
 * @param decoder the prompt encoder + mask decoder graph file
 * @param processor SamProcessor's constants
 * @param files every file of the bundle with its size and SHA-256
 */
@JsonPropertyOrder({
  "formatVersion",
  "layout",
  "source",
  "encoder",
  "decoder",
  "processor",
  "files"
})
public record SamManifest(
    int formatVersion,
    Layout layout,
    String source,
    String encoder,
    String decoder,
    Processor processor,
    List<BundleManifest.FileEntry> files) {

  /** The manifest file name inside a segmenter bundle directory. */
  public static final String FILE_NAME = "sam-bundle.json";

  /** The format this code reads and writes. */
  public static final int FORMAT_VERSION = 1;

  /** The graph I/O conventions the engine understands. */
  public enum Layout {
    /**
     * Hugging Face Optimum / transformers.js split export of {@code SamModel}: {@code
     * vision_encoder.onnx} and {@code prompt_encoder_mask_decoder.onnx}.
     */
    HF_SPLIT,
    /**
     * segment-anything's {@code scripts/export_onnx_model.py} decoder ({@code point_coords}, {@code
     * point_labels}, {@code mask_input}, ...) plus a separate image encoder graph.
     */
    SAM_ONNX
  }

  /**
   * SamImageProcessor's constants ({@code preprocessor_config.json} names in brackets).
   *
   * @param longestEdge resize target of the longest side [size.longest_edge], 1024
   * @param padSize square pad size [pad_size.height/width], 1024
   * @param rescaleFactor [rescale_factor], 1/255
   * @param imageMean [image_mean], ImageNet
   * @param imageStd [image_std], ImageNet
   * @param resample Pillow filter name [resample: 2 = BILINEAR]; only BILINEAR is supported
   * @param maskThreshold logit threshold of post_process_masks, 0.0
   */
  @JsonPropertyOrder({
    "longestEdge",
    "padSize",
    "rescaleFactor",
    "imageMean",
    "imageStd",
    "resample",
    "maskThreshold"
  })
  public record Processor(
      int longestEdge,
      int padSize,
      double rescaleFactor,
      List<Double> imageMean,
      List<Double> imageStd,
      String resample,
      double maskThreshold) {
    public Processor {
      if (longestEdge <= 0 || padSize < longestEdge) {
        throw bad("processor.padSize", padSize, "must be >= longestEdge (" + longestEdge + ") > 0");
      }
      if (!(rescaleFactor > 0)) {
        throw bad("processor.rescaleFactor", rescaleFactor, "must be > 0");
      }
      if (!Double.isFinite(maskThreshold)) {
        throw bad("processor.maskThreshold", maskThreshold, "must be finite");
      }
      imageMean = List.copyOf(imageMean);
      imageStd = List.copyOf(imageStd);
      if (imageMean.size() != 3 || imageStd.size() != 3) {
        throw bad("processor.imageMean/imageStd", imageMean + "/" + imageStd, "need 3 values each");
      }
      if (imageStd.stream().anyMatch(v -> !(v > 0))) {
        throw bad("processor.imageStd", imageStd, "must be > 0");
      }
      if (!"BILINEAR".equals(resample)) {
        throw bad(
            "processor.resample", resample, "only BILINEAR (SamImageProcessor's) is supported");
      }
    }

    /** SamImageProcessor's defaults, as in facebook/sam-vit-* preprocessor_config.json. */
    public static Processor defaults() {
      return new Processor(
          1024,
          1024,
          1 / 255.0,
          List.of(0.485, 0.456, 0.406),
          List.of(0.229, 0.224, 0.225),
          "BILINEAR",
          0.0);
    }
  }

  public SamManifest {
    if (formatVersion != FORMAT_VERSION) {
      throw bad("formatVersion", formatVersion, "this runtime reads version " + FORMAT_VERSION);
    }
    if (layout == null) {
      throw bad("layout", null, "must be HF_SPLIT or SAM_ONNX");
    }
    source = source == null ? "" : source;
    files = List.copyOf(files);
    for (String g : List.of(encoder, decoder)) {
      if (g == null || files.stream().noneMatch(f -> f.path().equals(g))) {
        throw bad("files", g, "the graph file is not listed with a checksum");
      }
    }
  }

  /** Parses a segmenter manifest from JSON text. */
  public static SamManifest parse(String json) {
    return ManifestIo.parse(json, SamManifest.class, "segmenter manifest");
  }

  /** Reads {@code dir/sam-bundle.json}. */
  public static SamManifest read(Path dir) {
    Path file = dir.resolve(FILE_NAME);
    return ManifestIo.read(
        file,
        SamManifest.class,
        "segmenter manifest",
        "not a segmenter bundle: "
            + file
            + " does not exist (make one with dam-convert's SamBundles.fetch)");
  }

  /** Writes {@code dir/sam-bundle.json}. */
  public static void write(Path dir, SamManifest m) throws IOException {
    Files.writeString(dir.resolve(FILE_NAME), ManifestIo.json(m), StandardCharsets.UTF_8);
  }

  private static InvalidBundleException bad(String path, Object value, String why) {
    return new InvalidBundleException(
        "invalid segmenter manifest: " + path + " = " + value + ": " + why);
  }
}

package io.damjava.onnx.bundle;

import io.damjava.api.InvalidBundleException;
import io.damjava.onnx.bundle.BundleManifest.Dims;
import io.damjava.onnx.bundle.BundleManifest.GraphSpec;
import io.damjava.onnx.bundle.BundleManifest.Graphs;
import io.damjava.onnx.bundle.BundleManifest.KvCache;
import io.damjava.onnx.bundle.BundleManifest.Style;
import java.util.List;

/**
 * The consistency rules of {@code dam-bundle.json} (docs/bundle-format.md) that the constructors of
 * {@link BundleManifest} and its parts enforce; each broken rule is an {@link
 * InvalidBundleException} naming the field's JSON path and value.
 */
final class ManifestRules {
  private ManifestRules() {}

  /** The manifest's own fields, before its files are looked at. */
  static void header(
      int formatVersion, String modelName, String tokenizer, Style style, Dims dims) {
    if (formatVersion != BundleManifest.FORMAT_VERSION) {
      throw bad(
          "formatVersion",
          formatVersion,
          "this runtime reads version " + BundleManifest.FORMAT_VERSION);
    }
    nonBlank("modelName", modelName);
    nonBlank("tokenizer", tokenizer);
    if (dims.kvCache() == KvCache.SHARED && style != Style.CONTRIB) {
      throw bad("dims.kvCache", "shared", "needs style contrib (GroupQueryAttention)");
    }
  }

  /** Every graph file and the tokenizer are listed with a checksum. */
  static void listed(Graphs graphs, String tokenizer, List<BundleManifest.FileEntry> files) {
    for (GraphSpec g : graphs.all().values()) {
      if (files.stream().noneMatch(f -> f.path().equals(g.file()))) {
        throw bad("files", g.file(), "the graph file is not listed with a checksum");
      }
    }
    if (files.stream().noneMatch(f -> f.path().equals(tokenizer))) {
      throw bad("files", tokenizer, "the tokenizer file is not listed with a checksum");
    }
  }

  /** {@link Dims}: positive sizes, token counts that follow from them, a known KV layout. */
  static void dims(Dims d) {
    positive("dims.imageSize", d.imageSize());
    positive("dims.patchSize", d.patchSize());
    positive("dims.visionHidden", d.visionHidden());
    positive("dims.hidden", d.hidden());
    positive("dims.layers", d.layers());
    positive("dims.heads", d.heads());
    positive("dims.kvHeads", d.kvHeads());
    positive("dims.headDim", d.headDim());
    positive("dims.vocabSize", d.vocabSize());
    positive("dims.maxPositions", d.maxPositions());
    // A stride-patchSize convolution without padding: 384 / 14 gives a 27x27 grid (the last 6
    // pixel rows and columns are never seen), as in SigLIP.
    int grid = d.imageSize() / d.patchSize();
    if (d.visionTokens() != grid * grid) {
      throw bad(
          "dims.visionTokens",
          d.visionTokens(),
          "expected floor(imageSize/patchSize)^2 = " + grid * grid);
    }
    int merged = (grid + 1) / 2;
    if (d.imageTokens() != merged * merged) {
      throw bad(
          "dims.imageTokens", d.imageTokens(), "expected ceil(grid/2)^2 = " + merged * merged);
    }
    if (d.heads() % d.kvHeads() != 0) {
      throw bad("dims.kvHeads", d.kvHeads(), "must divide dims.heads " + d.heads());
    }
    if (!d.kvDtype().equals("float32") && !d.kvDtype().equals("float16")) {
      throw bad("dims.kvDtype", d.kvDtype(), "must be float32 or float16");
    }
    if (d.kvCache() == null) {
      throw bad("dims.kvCache", null, "must be growing or shared");
    }
    if (d.kvCache() == KvCache.SHARED && !d.kvDtype().equals("float32")) {
      throw bad("dims.kvCache", "shared", "needs dims.kvDtype float32");
    }
  }

  /** {@link BundleManifest.Preprocess}: the only preprocessing the runtime implements. */
  static void preprocess(
      List<Double> mean, List<Double> std, String resample, int crop, int minBox, String aspect) {
    if (mean.size() != 3) {
      throw bad("preprocess.imageMean", mean, "needs 3 values");
    }
    if (std.size() != 3 || std.stream().anyMatch(s -> !(s > 0))) {
      throw bad("preprocess.imageStd", std, "needs 3 positive values");
    }
    if (!resample.equals("bicubic")) {
      throw bad("preprocess.resample", resample, "only bicubic is supported");
    }
    if (!aspect.equals("resize")) {
      throw bad("preprocess.aspectRatio", aspect, "only resize is supported");
    }
    positive("preprocess.cropFactor", crop);
    positive("preprocess.minBox", minBox);
  }

  /** {@link BundleManifest.FileEntry}: a plain relative path, a size, a SHA-256. */
  static void fileEntry(String path, long bytes, String sha256) {
    nonBlank("files[].path", path);
    if (path.startsWith("/") || path.contains("..") || path.contains("\\")) {
      throw bad("files[].path", path, "must be a plain relative path inside the bundle");
    }
    if (bytes < 0) {
      throw bad("files[].bytes", bytes, "must be >= 0");
    }
    if (sha256 == null || !sha256.matches("[0-9a-f]{64}")) {
      throw bad("files[].sha256", sha256, "must be 64 lowercase hex digits");
    }
  }

  static InvalidBundleException bad(String path, Object value, String why) {
    return new InvalidBundleException(
        "invalid bundle manifest: " + path + " = " + value + ": " + why);
  }

  static void positive(String path, int v) {
    if (v <= 0) {
      throw bad(path, v, "must be > 0");
    }
  }

  static void nonBlank(String path, String v) {
    if (v == null || v.isBlank()) {
      throw bad(path, v, "must not be empty");
    }
  }
}

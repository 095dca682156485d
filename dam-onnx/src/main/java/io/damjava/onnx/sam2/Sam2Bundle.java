package io.damjava.onnx.sam2;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.damjava.api.InvalidBundleException;
import io.damjava.onnx.bundle.FileDigest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;

/**
 * A SAM 2.1 video bundle: {@code sam2-bundle.json} plus the four graphs and their data files
 * (written by dam-convert's {@code Sam2Bundles}). The manifest holds the sizes, the tracking
 * settings, the small learned tensors the host needs ({@code no_object_pointer}, {@code
 * memory_temporal_positional_encoding}) and a SHA-256 for every file; {@link #read} checks them
 * all.
 *
 * @param dir the bundle folder
 * @param params sizes and host tensors
 * @param settings memory-bank settings
 */
public record Sam2Bundle(Path dir, Sam2VideoParams params, Sam2TrackingSettings settings) {
  /** Manifest file name. */
  public static final String MANIFEST = "sam2-bundle.json";

  /** Manifest format tag. */
  public static final String FORMAT = "dam-java-sam2-video";

  /** Reads and verifies a bundle. */
  public static Sam2Bundle read(Path dir) {
    Path mf = dir.resolve(MANIFEST);
    if (!Files.isRegularFile(mf)) {
      throw new InvalidBundleException(
          dir
              + ": no "
              + MANIFEST
              + " (not a SAM 2 bundle; write one with dam-convert Sam2Bundles)");
    }
    JsonNode m;
    try {
      m = new ObjectMapper().readTree(mf.toFile());
    } catch (IOException e) {
      throw new InvalidBundleException(mf + ": cannot parse: " + e.getMessage(), e);
    }
    if (!FORMAT.equals(m.path("format").asText())) {
      throw new InvalidBundleException(mf + ": format is not " + FORMAT);
    }
    Iterator<Map.Entry<String, JsonNode>> files = m.path("files").fields();
    if (!files.hasNext()) {
      throw new InvalidBundleException(mf + ": lists no files");
    }
    while (files.hasNext()) {
      Map.Entry<String, JsonNode> e = files.next();
      String name = e.getKey();
      if (name.contains("/") || name.contains("\\") || name.startsWith(".")) {
        throw new InvalidBundleException(mf + ": bad file name '" + name + "'");
      }
      Path f = dir.resolve(name);
      if (!Files.isRegularFile(f)) {
        throw new InvalidBundleException(dir + ": missing bundle file " + name);
      }
      String sha;
      try {
        sha = FileDigest.sha256(f);
      } catch (IOException ex) {
        throw new InvalidBundleException(f + ": cannot read: " + ex.getMessage(), ex);
      }
      if (!sha.equals(e.getValue().asText())) {
        throw new InvalidBundleException(
            f + ": checksum mismatch (the bundle is corrupt or was changed; convert it again)");
      }
    }
    int memDim = m.path("mem_dim").asInt();
    JsonNode tpe = m.path("memory_temporal_positional_encoding");
    float[][] tp = new float[tpe.size()][];
    for (int i = 0; i < tp.length; i++) {
      tp[i] = floats(tpe.get(i));
      if (tp[i].length != memDim) {
        throw new InvalidBundleException(mf + ": memory_temporal_positional_encoding row " + i);
      }
    }
    Sam2VideoParams params =
        new Sam2VideoParams(
            m.path("image_size").asInt(),
            m.path("feat_side").asInt(),
            m.path("hidden").asInt(),
            memDim,
            floats(m.path("no_object_pointer")),
            tp,
            (float) m.path("stability_delta").asDouble(0.05),
            (float) m.path("stability_threshold").asDouble(0.98),
            floats(m.path("mask_downsample")));
    Sam2TrackingSettings settings =
        new Sam2TrackingSettings(
            m.path("num_maskmem").asInt(7),
            m.path("max_object_pointers").asInt(16),
            params.hidden(),
            memDim);
    if (params.noObjectPointer().length != params.hidden()
        || tp.length != settings.numMaskmem()
        || params.maskDownsample().length != 17) {
      throw new InvalidBundleException(
          mf + ": host tensors do not match hidden / num_maskmem / mask_downsample");
    }
    return new Sam2Bundle(dir, params, settings);
  }

  private static float[] floats(JsonNode a) {
    float[] out = new float[a.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = (float) a.get(i).asDouble();
    }
    return out;
  }
}

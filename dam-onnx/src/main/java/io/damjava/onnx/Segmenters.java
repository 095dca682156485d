package io.damjava.onnx;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.damjava.api.InvalidBundleException;
import io.damjava.onnx.bundle.SamManifest;
import io.damjava.onnx.sam2.Sam2Bundle;
import java.nio.file.Files;
import java.nio.file.Path;

/** Opens a segmenter bundle of either kind, told apart by its manifest file. */
public final class Segmenters {
  private Segmenters() {}

  /**
   * A {@link Sam2Segmenter} for a folder with {@code sam2-bundle.json}, a {@link Segmenter} for one
   * with {@code sam-bundle.json}.
   *
   * @param options session options (not closed here)
   * @throws InvalidBundleException if the folder holds neither manifest, or the bundle is corrupt
   */
  public static RegionSegmenter load(
      Path dir, OrtEnvironment env, OrtSession.SessionOptions options) {
    if (Files.isRegularFile(dir.resolve(Sam2Bundle.MANIFEST))) {
      return Sam2Segmenter.load(dir, env, options);
    }
    if (Files.isRegularFile(dir.resolve(SamManifest.FILE_NAME))) {
      return Segmenter.load(dir, env, options);
    }
    throw new InvalidBundleException(
        "not a segmenter bundle: "
            + dir
            + " holds neither "
            + SamManifest.FILE_NAME
            + " (SAM) nor "
            + Sam2Bundle.MANIFEST
            + " (SAM 2.1); see docs/segmentation.md");
  }
}

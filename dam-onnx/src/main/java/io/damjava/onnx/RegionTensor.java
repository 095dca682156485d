package io.damjava.onnx;

import io.damjava.onnx.bundle.BundleManifest;
import java.nio.FloatBuffer;
import java.util.List;

/**
 * Normalises resized 8-bit planes into the vision input layout and holds the per-channel lookup
 * tables. The reference's region tensor is (8, S, S) float {@code [R, G, B, M_full, R', G', B',
 * M_crop]}; the context graph takes the first four channels and the focal graph the last four, so
 * this class writes one 4-channel half at a time.
 *
 * <p>Each value is computed as the Hugging Face image processor does: {@code x = (float) (p *
 * (1/255.0))} in double, then {@code (x - mean) / std} in float32. The mask uses channel 0's mean
 * and std (the reference normalises the mask as an RGB image and keeps band 0). Immutable.
 */
final class RegionTensor {
  /** (4, 256): normalised value of each byte for R, G, B and the mask. */
  private final float[][] lut = new float[4][256];

  RegionTensor(BundleManifest.Preprocess p) {
    List<Double> mean = p.imageMean();
    List<Double> std = p.imageStd();
    for (int c = 0; c < 4; c++) {
      int band = c == 3 ? 0 : c;
      float m = mean.get(band).floatValue();
      float s = std.get(band).floatValue();
      for (int v = 0; v < 256; v++) {
        float x = (float) (v * (1 / 255.0));
        lut[c][v] = (x - m) / s;
      }
    }
  }

  /**
   * Writes one 4-channel half, (4, S, S) float32 CHW, at the buffer's position and advances it.
   *
   * @param rgb (S, S, 3) uint8 interleaved
   * @param mask (S, S) uint8
   */
  void write(FloatBuffer dst, byte[] rgb, byte[] mask) {
    int n = mask.length;
    for (int c = 0; c < 3; c++) {
      float[] t = lut[c];
      for (int i = 0; i < n; i++) {
        dst.put(t[rgb[i * 3 + c] & 0xFF]);
      }
    }
    float[] t = lut[3];
    for (int i = 0; i < n; i++) {
      dst.put(t[mask[i] & 0xFF]);
    }
  }

  /** The reference's full (8, S, S) tensor of one region; for tests and goldens. */
  float[] full(Preprocessor.Region r) {
    int n = r.fullMask().length;
    FloatBuffer b = FloatBuffer.allocate(8 * n);
    write(b, r.fullRgb(), r.fullMask());
    write(b, r.cropRgb(), r.cropMask());
    return b.array();
  }
}

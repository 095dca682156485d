package io.damjava.onnx.sam2;

/**
 * Host-side numerics of SAM 2.1 tracking that sit between the graphs: the bfloat16 rounding both
 * upstreams apply when a memory is stored, and the 1-D sine temporal encoding of object pointers
 * (before its learned projection).
 */
public final class Sam2Numerics {
  private Sam2Numerics() {}

  /** Rounds to the nearest bfloat16 (ties to even) and back to float; NaN stays NaN. */
  public static float roundToBf16(float x) {
    if (Float.isNaN(x)) {
      return x;
    }
    int bits = Float.floatToRawIntBits(x);
    int rounding = ((bits >>> 16) & 1) + 0x7FFF;
    return Float.intBitsToFloat(((bits + rounding) >>> 16) << 16);
  }

  /** In-place {@link #roundToBf16} over an array. */
  public static void roundToBf16(float[] a) {
    for (int i = 0; i < a.length; i++) {
      a[i] = roundToBf16(a[i]);
    }
  }

  /**
   * The pointers' temporal encoding: t = distance / (maxPointers - 1); {@code dim / 2} sines then
   * {@code dim / 2} cosines of t / 10000^(2 floor(k / 2) / (dim / 2)); each step rounded to float32
   * as in torch (the power and the sine are taken in double, so a value may differ from torch's
   * float32 kernels by an ulp).
   *
   * @param distances signed temporal distance per pointer
   * @param maxPointers pointers in use for this video ({@link Sam2TrackingSettings#pointersFor})
   * @param dim the pointer width (hidden dim)
   * @return [pointers][dim]
   */
  public static float[][] pointerSineEncoding(int[] distances, int maxPointers, int dim) {
    int half = dim / 2;
    float denom = (float) (maxPointers - 1);
    float[] dimT = new float[half];
    for (int k = 0; k < half; k++) {
      float e = (float) (2 * (k / 2)) / (float) half;
      dimT[k] = (float) Math.pow(10000.0, e);
    }
    float[][] out = new float[distances.length][dim];
    for (int p = 0; p < distances.length; p++) {
      float t = (float) distances[p] / denom;
      for (int k = 0; k < half; k++) {
        float v = t / dimT[k];
        out[p][k] = (float) Math.sin(v);
        out[p][half + k] = (float) Math.cos(v);
      }
    }
    return out;
  }

  /**
   * The normalised 2-D sine position encoding of the FPN levels and of the memories: [HW][c], c / 2
   * channels for y then c / 2 for x; within each half, channel 2k is sin(p / t_k) and 2k + 1 is
   * cos(p / t_k), with t_k = 10000^(2 floor(k') / (c / 2)) for k' = channel index in the half, and
   * p = (row or column + 1) / (n + 1e-6) * 2 pi.
   */
  public static float[] sinePosition2d(int c, int h, int w) {
    int half = c / 2;
    float[] dimT = new float[half];
    for (int k = 0; k < half; k++) {
      dimT[k] = (float) Math.pow(10000.0, (float) (2 * (k / 2)) / (float) half);
    }
    float twoPi = (float) (2 * Math.PI);
    float[] out = new float[h * w * c];
    for (int y = 0; y < h; y++) {
      float py = (float) (y + 1) / (float) (h + 1e-6) * twoPi;
      for (int x = 0; x < w; x++) {
        float px = (float) (x + 1) / (float) (w + 1e-6) * twoPi;
        int base = (y * w + x) * c;
        for (int k = 0; k < half; k++) {
          float vy = py / dimT[k];
          float vx = px / dimT[k];
          out[base + k] = (float) ((k % 2 == 0) ? Math.sin(vy) : Math.cos(vy));
          out[base + half + k] = (float) ((k % 2 == 0) ? Math.sin(vx) : Math.cos(vx));
        }
      }
    }
    return out;
  }
}

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

  /**
   * torch's {@code F.interpolate(mode="bilinear", align_corners=False, antialias=True)} of one
   * channel [h][w] -> [outH][outW]: a triangle filter widened by the scale when downsampling,
   * weights normalised per output pixel, the width pass first, then the height pass.
   */
  public static float[] antialiasBilinear(float[] src, int h, int w, int outH, int outW) {
    float[] tmp = new float[h * outW];
    float[][] wx = new float[outW][];
    int[] x0 = new int[outW];
    weights(w, outW, wx, x0);
    for (int y = 0; y < h; y++) {
      for (int o = 0; o < outW; o++) {
        float acc = 0f;
        for (int j = 0; j < wx[o].length; j++) {
          acc += wx[o][j] * src[y * w + x0[o] + j];
        }
        tmp[y * outW + o] = acc;
      }
    }
    float[][] wy = new float[outH][];
    int[] y0 = new int[outH];
    weights(h, outH, wy, y0);
    float[] out = new float[outH * outW];
    for (int o = 0; o < outH; o++) {
      for (int x = 0; x < outW; x++) {
        float acc = 0f;
        for (int j = 0; j < wy[o].length; j++) {
          acc += wy[o][j] * tmp[(y0[o] + j) * outW + x];
        }
        out[o * outW + x] = acc;
      }
    }
    return out;
  }

  private static void weights(int in, int out, float[][] w, int[] start) {
    float scale = (float) in / (float) out;
    float support = scale >= 1f ? scale : 1f;
    float invscale = scale >= 1f ? 1f / scale : 1f;
    for (int i = 0; i < out; i++) {
      float center = scale * (i + 0.5f);
      int xmin = Math.max((int) (center - support + 0.5f), 0);
      int xsize = Math.min((int) (center + support + 0.5f), in) - xmin;
      float[] ws = new float[xsize];
      float total = 0f;
      for (int j = 0; j < xsize; j++) {
        float x = (j + xmin - center + 0.5f) * invscale;
        float v = Math.max(0f, 1f - Math.abs(x));
        ws[j] = v;
        total += v;
      }
      for (int j = 0; j < xsize; j++) {
        ws[j] = total != 0f ? ws[j] / total : 0f;
      }
      w[i] = ws;
      start[i] = xmin;
    }
  }

  /**
   * Low-res mask logits [side][side] to a binary mask at video resolution [h][w]: torch's {@code
   * F.interpolate(mode="bilinear", align_corners=False)}, then logit {@code > 0}, as both upstreams
   * turn a frame's output into its mask.
   */
  public static boolean[] videoMask(float[] low, int side, int h, int w) {
    boolean[] out = new boolean[h * w];
    float sy = (float) side / h;
    float sx = (float) side / w;
    for (int y = 0; y < h; y++) {
      float fy = Math.max(0f, sy * (y + 0.5f) - 0.5f);
      int y0 = Math.min((int) fy, side - 1);
      int y1 = Math.min(y0 + 1, side - 1);
      float ly = fy - y0;
      for (int x = 0; x < w; x++) {
        float fx = Math.max(0f, sx * (x + 0.5f) - 0.5f);
        int x0 = Math.min((int) fx, side - 1);
        int x1 = Math.min(x0 + 1, side - 1);
        float lx = fx - x0;
        float v =
            (1 - ly) * ((1 - lx) * low[y0 * side + x0] + lx * low[y0 * side + x1])
                + ly * ((1 - lx) * low[y1 * side + x0] + lx * low[y1 * side + x1]);
        out[y * w + x] = v > 0;
      }
    }
    return out;
  }

  /**
   * A video-resolution mask prompt [h][w] to the model's S x S input, as the reference's {@code
   * prepare_mask}: antialiased bilinear resize of the 0/1 mask, then {@code >= 0.5}.
   */
  public static boolean[] promptMask(boolean[] mask, int h, int w, int s) {
    float[] m = new float[h * w];
    for (int i = 0; i < m.length; i++) {
      m[i] = mask[i] ? 1f : 0f;
    }
    float[] r = h == s && w == s ? m : antialiasBilinear(m, h, w, s, s);
    boolean[] out = new boolean[s * s];
    for (int i = 0; i < out.length; i++) {
      out[i] = r[i] >= 0.5f;
    }
    return out;
  }
}

package io.damjava.onnx;

/**
 * Pillow's {@code Image.resize(size, Image.BICUBIC)} (DAM) and {@code Image.BILINEAR} (SAM's
 * processor) on 8-bit images, bit for bit: the semantics of {@code ImagingResample} in Pillow's
 * {@code src/libImaging/Resample.c} (Pillow 7 to 11).
 *
 * <ul>
 *   <li>Bicubic kernel with a = -0.5 and support 2 (bilinear: the triangle, support 1), widened by
 *       the scale factor when downscaling (antialiasing).
 *   <li>Separable: the horizontal pass runs first, its result is rounded and clipped to uint8, then
 *       the vertical pass runs on it. A pass is skipped when its size does not change.
 *   <li>Per output pixel the window is {@code [int(center - support + 0.5), int(center + support +
 *       0.5))} clipped to the input; its weights are normalised to sum 1 in double, then turned
 *       into fixed point with {@link #PRECISION_BITS} fraction bits, rounding half away from zero.
 *   <li>Accumulation in 32-bit int starting at half a unit; the result is {@code acc >> 22} clamped
 *       to 0..255.
 * </ul>
 *
 * {@code Image.resize} with the default {@code box} (the whole image) and no {@code reducing_gap}
 * (the default) calls exactly this; an unchanged size returns a copy. Stateless and thread-safe.
 */
final class PillowResize {
  /** Pillow: 32 bits minus 8 for the result minus 2 for overflow of negative lobes. */
  static final int PRECISION_BITS = 32 - 8 - 2;

  /** Pillow's resampling filters used by the reference: the kernel and its support. */
  enum Filter {
    /** {@code Image.BICUBIC}: a = -0.5, support 2. */
    BICUBIC(2.0),
    /** {@code Image.BILINEAR}: the triangle, support 1. */
    BILINEAR(1.0);

    final double support;

    Filter(double support) {
      this.support = support;
    }

    double weight(double x) {
      return this == BICUBIC ? bicubic(x) : bilinear(x);
    }
  }

  private PillowResize() {}

  /** Bicubic resize, as DAM's preprocessing does. */
  static byte[] resize(byte[] src, int w, int h, int channels, int outW, int outH) {
    return resize(src, w, h, channels, outW, outH, Filter.BICUBIC);
  }

  /**
   * Resizes interleaved 8-bit pixels.
   *
   * @param src (h, w, channels) uint8, row-major, interleaved
   * @param channels 1 (L) or 3 (RGB); every band is filtered the same way
   * @return (outH, outW, channels) uint8
   */
  static byte[] resize(byte[] src, int w, int h, int channels, int outW, int outH, Filter filter) {
    if (w <= 0 || h <= 0 || outW <= 0 || outH <= 0 || channels <= 0) {
      throw new IllegalArgumentException(
          "bad resize " + w + "x" + h + "x" + channels + " -> " + outW + "x" + outH);
    }
    if ((long) w * h * channels != src.length) {
      throw new IllegalArgumentException("pixel array length " + src.length + " != w*h*channels");
    }
    byte[] cur = src;
    int curW = w;
    if (outW != w) {
      cur = horizontal(cur, w, h, channels, outW, filter);
      curW = outW;
    }
    if (outH != h) {
      cur = vertical(cur, curW, h, channels, outH, filter);
    }
    return cur == src ? src.clone() : cur;
  }

  /** Fixed-point weights for one axis: per output index, the first input index and its weights. */
  private record Coeffs(int ksize, int[] start, int[] count, int[] weights) {}

  private static Coeffs coeffs(int inSize, int outSize, Filter filter) {
    double scale = (double) inSize / outSize;
    double filterScale = Math.max(scale, 1.0);
    double support = filter.support * filterScale;
    int ksize = (int) Math.ceil(support) * 2 + 1;
    int[] start = new int[outSize];
    int[] count = new int[outSize];
    int[] weights = new int[outSize * ksize];
    double[] k = new double[ksize];
    for (int xx = 0; xx < outSize; xx++) {
      double center = (xx + 0.5) * scale;
      double ss = 1.0 / filterScale;
      int xmin = Math.max((int) (center - support + 0.5), 0);
      int xmax = Math.min((int) (center + support + 0.5), inSize) - xmin;
      double ww = 0.0;
      for (int x = 0; x < xmax; x++) {
        k[x] = filter.weight((x + xmin - center + 0.5) * ss);
        ww += k[x];
      }
      for (int x = 0; x < xmax; x++) {
        double v = ww != 0.0 ? k[x] / ww : k[x];
        weights[xx * ksize + x] =
            v < 0
                ? (int) (-0.5 + v * (1 << PRECISION_BITS))
                : (int) (0.5 + v * (1 << PRECISION_BITS));
      }
      start[xx] = xmin;
      count[xx] = Math.max(xmax, 0);
    }
    return new Coeffs(ksize, start, count, weights);
  }

  private static double bicubic(double x) {
    final double a = -0.5;
    x = Math.abs(x);
    if (x < 1.0) {
      return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
    }
    if (x < 2.0) {
      return (((x - 5) * x + 8) * x - 4) * a;
    }
    return 0.0;
  }

  private static double bilinear(double x) {
    x = Math.abs(x);
    return x < 1.0 ? 1.0 - x : 0.0;
  }

  private static byte clip8(int acc) {
    int v = acc >> PRECISION_BITS;
    return (byte) (v < 0 ? 0 : Math.min(v, 255));
  }

  private static byte[] horizontal(byte[] in, int w, int h, int ch, int outW, Filter f) {
    Coeffs c = coeffs(w, outW, f);
    byte[] out = new byte[outW * h * ch];
    for (int y = 0; y < h; y++) {
      int rowIn = y * w * ch;
      int rowOut = y * outW * ch;
      for (int xx = 0; xx < outW; xx++) {
        int k0 = xx * c.ksize;
        int x0 = c.start[xx];
        int n = c.count[xx];
        for (int b = 0; b < ch; b++) {
          int acc = 1 << (PRECISION_BITS - 1);
          for (int x = 0; x < n; x++) {
            acc += (in[rowIn + (x0 + x) * ch + b] & 0xFF) * c.weights[k0 + x];
          }
          out[rowOut + xx * ch + b] = clip8(acc);
        }
      }
    }
    return out;
  }

  private static byte[] vertical(byte[] in, int w, int h, int ch, int outH, Filter f) {
    Coeffs c = coeffs(h, outH, f);
    int stride = w * ch;
    byte[] out = new byte[outH * stride];
    for (int yy = 0; yy < outH; yy++) {
      int k0 = yy * c.ksize;
      int y0 = c.start[yy];
      int n = c.count[yy];
      for (int i = 0; i < stride; i++) {
        int acc = 1 << (PRECISION_BITS - 1);
        for (int y = 0; y < n; y++) {
          acc += (in[(y0 + y) * stride + i] & 0xFF) * c.weights[k0 + y];
        }
        out[yy * stride + i] = clip8(acc);
      }
    }
    return out;
  }
}

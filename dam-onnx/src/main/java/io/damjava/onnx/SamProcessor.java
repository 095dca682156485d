package io.damjava.onnx;

import io.damjava.api.DamImage;
import io.damjava.api.Mask;
import io.damjava.onnx.bundle.SamManifest;

/**
 * SamProcessor's pre- and post-processing (transformers' slow {@code SamImageProcessor}, which
 * DAM's reference uses), step for step; checked against tools/reference/sam goldens. Stateless
 * apart from its constants; thread-safe.
 *
 * <pre>
 * pixelValues   image (h, w, 3) uint8 → Pillow BILINEAR to (nh, nw) → x/255 (double, then float)
 *               → (x - mean) / std (float) → zero pad to (P, P) → (1, 3, P, P) float32
 * scale         (x, y) → (x · nw / w, y · nh / h) in double (boxes: each corner)
 * postProcess   (lh, lw) logits → bilinear (align_corners=False) to (P, P) → crop (nh, nw)
 *               → bilinear to (h, w) → &gt; maskThreshold
 * </pre>
 *
 * with (nh, nw) = {@link #targetSize} and P = padSize.
 */
final class SamProcessor {
  private final int longest;
  private final int pad;
  private final double rescale;
  private final float[] mean = new float[3];
  private final float[] std = new float[3];
  private final float threshold;

  SamProcessor(SamManifest.Processor p) {
    this.longest = p.longestEdge();
    this.pad = p.padSize();
    this.rescale = p.rescaleFactor();
    for (int c = 0; c < 3; c++) {
      mean[c] = (float) (double) p.imageMean().get(c);
      std[c] = (float) (double) p.imageStd().get(c);
    }
    this.threshold = (float) p.maskThreshold();
  }

  int padSize() {
    return pad;
  }

  /** {@code _get_preprocess_shape}: (new height, new width), rounding half up. */
  static int[] targetSize(int h, int w, int longestEdge) {
    double scale = longestEdge * 1.0 / Math.max(h, w);
    return new int[] {(int) (h * scale + 0.5), (int) (w * scale + 0.5)};
  }

  int[] targetSize(int h, int w) {
    return targetSize(h, w, longest);
  }

  /** The image resized with Pillow's BILINEAR filter: (nh, nw, 3) uint8. */
  byte[] resized(DamImage image) {
    int[] t = targetSize(image.height(), image.width());
    return PillowResize.resize(
        image.rgb(), image.width(), image.height(), 3, t[1], t[0], PillowResize.Filter.BILINEAR);
  }

  /** {@code pixel_values}: (3, P, P) float32, channels first, zero padding bottom/right. */
  float[] pixelValues(DamImage image) {
    int[] t = targetSize(image.height(), image.width());
    int nh = t[0];
    int nw = t[1];
    byte[] rgb = resized(image);
    float[] lut = new float[256 * 3]; // the value of each byte per channel
    for (int c = 0; c < 3; c++) {
      for (int v = 0; v < 256; v++) {
        float x = (float) (v * rescale);
        lut[c * 256 + v] = (x - mean[c]) / std[c];
      }
    }
    float[] out = new float[3 * pad * pad];
    for (int y = 0; y < nh; y++) {
      for (int x = 0; x < nw; x++) {
        int src = (y * nw + x) * 3;
        for (int c = 0; c < 3; c++) {
          out[(c * pad + y) * pad + x] = lut[c * 256 + (rgb[src + c] & 0xFF)];
        }
      }
    }
    return out;
  }

  /** {@code _normalize_coordinates}: a point of the original image in the resized frame. */
  double[] scale(double x, double y, int h, int w) {
    int[] t = targetSize(h, w);
    return new double[] {x * ((double) t[1] / w), y * ((double) t[0] / h)};
  }

  /**
   * {@code post_process_masks} for one low-res mask.
   *
   * @param logits the decoder's masks, (…, lh, lw) float32
   * @param offset where this mask starts in {@code logits}
   */
  Mask postProcess(float[] logits, int offset, int lh, int lw, int h, int w) {
    int[] t = targetSize(h, w);
    float[] up = Bilinear.resize(logits, offset, lh, lw, pad, pad, t[0], t[1]);
    float[] full = Bilinear.resize(up, 0, t[0], t[1], h, w, h, w);
    boolean[] inside = new boolean[h * w];
    for (int i = 0; i < inside.length; i++) {
      inside[i] = full[i] > threshold;
    }
    return Mask.of(inside, w, h);
  }

  /**
   * torch's {@code F.interpolate(mode="bilinear", align_corners=False)} on the CPU, in float32:
   * source index {@code scale · (dst + 0.5) - 0.5} clamped at 0, the right/bottom neighbour clamped
   * to the edge, and {@code h0 · (w0 · a + w1 · b) + h1 · (w0 · c + w1 · d)}. torch's kernel may
   * round in another order (FMA, vector lanes), so values differ by an ulp and only pixels within
   * about 1e-5 of the threshold can flip.
   */
  static final class Bilinear {
    private Bilinear() {}

    /**
     * Resizes (inH, inW) to (outH, outW), computing only the top-left (keepH, keepW) of the output
     * (the crop that follows).
     */
    static float[] resize(
        float[] in, int offset, int inH, int inW, int outH, int outW, int keepH, int keepW) {
      int[] x0 = new int[keepW];
      int[] x1 = new int[keepW];
      float[] lx = new float[keepW];
      index(inW, outW, keepW, x0, x1, lx);
      int[] y0 = new int[keepH];
      int[] y1 = new int[keepH];
      float[] ly = new float[keepH];
      index(inH, outH, keepH, y0, y1, ly);
      float[] out = new float[keepH * keepW];
      for (int y = 0; y < keepH; y++) {
        int r0 = offset + y0[y] * inW;
        int r1 = offset + y1[y] * inW;
        float h1 = ly[y];
        float h0 = 1.0f - h1;
        for (int x = 0; x < keepW; x++) {
          float w1 = lx[x];
          float w0 = 1.0f - w1;
          float top = w0 * in[r0 + x0[x]] + w1 * in[r0 + x1[x]];
          float bottom = w0 * in[r1 + x0[x]] + w1 * in[r1 + x1[x]];
          out[y * keepW + x] = h0 * top + h1 * bottom;
        }
      }
      return out;
    }

    private static void index(int in, int out, int keep, int[] i0, int[] i1, float[] lambda) {
      float scale = (float) in / out;
      for (int d = 0; d < keep; d++) {
        float src = (float) (scale * (d + 0.5) - 0.5);
        if (src < 0) {
          src = 0;
        }
        int i = (int) src;
        i0[d] = i;
        i1[d] = i < in - 1 ? i + 1 : i;
        lambda[d] = src - i;
      }
    }
  }
}

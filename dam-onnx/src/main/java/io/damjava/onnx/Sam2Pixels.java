package io.damjava.onnx;

import io.damjava.api.InvalidInputException;

/**
 * SAM 2.1 frame preprocessing, a public seam over the package's Pillow resize: RGB resized to size
 * x size with Pillow BILINEAR (HF Sam2VideoProcessor), then x / 255 (in double, rounded to float)
 * and ImageNet mean/std normalisation in float32. Returns channels-first [3][size][size].
 */
public final class Sam2Pixels {
  private static final float[] MEAN = {0.485f, 0.456f, 0.406f};
  private static final float[] STD = {0.229f, 0.224f, 0.225f};

  private Sam2Pixels() {}

  /**
   * @param rgb interleaved 8-bit RGB, row-major, {@code h * w * 3} bytes
   */
  public static float[] pixelValues(byte[] rgb, int w, int h, int size) {
    if (rgb.length != w * h * 3) {
      throw new InvalidInputException(
          "frame has " + rgb.length + " bytes, expected " + w + "x" + h + "x3 RGB");
    }
    byte[] r = PillowResize.resize(rgb, w, h, 3, size, size, PillowResize.Filter.BILINEAR);
    int n = size * size;
    float[] out = new float[3 * n];
    for (int i = 0; i < n; i++) {
      for (int c = 0; c < 3; c++) {
        float v = (float) ((r[i * 3 + c] & 0xFF) * (1 / 255.0));
        out[c * n + i] = (v - MEAN[c]) / STD[c];
      }
    }
    return out;
  }
}

package io.damjava.onnx;

import io.damjava.api.Mask;

/**
 * The mask as the reference feeds it: the 0/1 mask times 255 as an 8-bit image, cropped like the
 * RGB image, then through the same Pillow bicubic resize (the reference converts it to RGB first;
 * its three bands are equal, so one band is resized). Normalised later with channel 0's mean/std,
 * giving -1 outside, +1 inside and ringing values at the edges.
 */
final class MaskChannel {
  private MaskChannel() {}

  /**
   * The window of the mask as 0/255 bytes resized to {@code size x size}.
   *
   * @return (size, size) uint8
   */
  static byte[] resized(Mask mask, FocalCrop.Window win, int size) {
    int w = win.width();
    int h = win.height();
    byte[] bits = mask.toBytes();
    byte[] crop = new byte[w * h];
    for (int y = 0; y < h; y++) {
      int row = (win.y0() + y) * mask.width() + win.x0();
      for (int x = 0; x < w; x++) {
        crop[y * w + x] = bits[row + x] != 0 ? (byte) 255 : 0;
      }
    }
    return PillowResize.resize(crop, w, h, 1, size, size);
  }
}

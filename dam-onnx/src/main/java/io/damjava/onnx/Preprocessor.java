package io.damjava.onnx;

import io.damjava.api.DamImage;
import io.damjava.api.Mask;
import java.util.Arrays;

/**
 * Image + mask → the two resized 4-channel views of one region (or video frame): the full image
 * with its mask, and the focal crop with its crop mask, each (S, S) with S = dims.imageSize. Pure
 * Java, stateless apart from its constants, thread-safe.
 */
final class Preprocessor {
  private final FocalCrop focalCrop;
  private final int size;

  Preprocessor(FocalCrop focalCrop, int imageSize) {
    this.focalCrop = focalCrop;
    this.size = imageSize;
  }

  /**
   * One region's resized 8-bit planes.
   *
   * @param fullRgb (S, S, 3) uint8: the whole image resized
   * @param fullMask (S, S) uint8: the 0/255 mask resized
   * @param cropRgb (S, S, 3) uint8: the focal window resized
   * @param cropMask (S, S) uint8: the mask's focal window resized
   * @param window the focal window in image pixels
   * @param focalIsContext the reference's equality branch: the crop half equals the full half byte
   *     for byte, so the region is encoded from the context features alone (no focal pass)
   */
  record Region(
      byte[] fullRgb,
      byte[] fullMask,
      byte[] cropRgb,
      byte[] cropMask,
      FocalCrop.Window window,
      boolean focalIsContext) {}

  int size() {
    return size;
  }

  /** Preprocesses a region; the mask must be non-empty and of the image's size (checked before). */
  Region region(DamImage image, Mask mask) {
    int w = image.width();
    int h = image.height();
    byte[] rgb = image.rgb();
    FocalCrop.Window whole = new FocalCrop.Window(0, 0, w, h);
    FocalCrop.Window win = focalCrop.window(mask);
    byte[] fullRgb = PillowResize.resize(rgb, w, h, 3, size, size);
    byte[] fullMask = MaskChannel.resized(mask, whole, size);
    byte[] cropRgb;
    byte[] cropMask;
    if (win.coversWhole(w, h)) {
      cropRgb = fullRgb;
      cropMask = fullMask;
    } else {
      cropRgb = PillowResize.resize(crop(rgb, w, win), win.width(), win.height(), 3, size, size);
      cropMask = MaskChannel.resized(mask, win, size);
    }
    boolean same = Arrays.equals(fullRgb, cropRgb) && Arrays.equals(fullMask, cropMask);
    return new Region(fullRgb, fullMask, cropRgb, cropMask, win, same);
  }

  private static byte[] crop(byte[] rgb, int width, FocalCrop.Window win) {
    int rowBytes = win.width() * 3;
    byte[] out = new byte[rowBytes * win.height()];
    for (int y = 0; y < win.height(); y++) {
      System.arraycopy(rgb, ((win.y0() + y) * width + win.x0()) * 3, out, y * rowBytes, rowBytes);
    }
    return out;
  }
}

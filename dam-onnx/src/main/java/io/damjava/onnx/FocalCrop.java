package io.damjava.onnx;

import io.damjava.api.Mask;

/**
 * The reference's focal crop ({@code crop_image} in describe_anything_model.py): the window around
 * a mask's bounding box that the focal pass sees.
 *
 * <ol>
 *   <li>Centre of the tight box, as a double: {@code xc = x0 + w / 2}.
 *   <li>Box sides raised to at least {@code minBox} (48).
 *   <li>Box corner recomputed with truncation toward zero: {@code x0 = (int) (xc - w / 2)}.
 *   <li>Window {@code [x0 - w, x0 + 2w) x [y0 - h, y0 + 2h)} for crop factor 3 (in general {@code
 *       (f - 1) / 2} box sides before and {@code (f + 1) / 2} after), clipped to the image, never
 *       shifted or padded.
 * </ol>
 *
 * @param minBox minimum box side before the window is taken
 * @param cropFactor window side in box sides; odd
 */
record FocalCrop(int minBox, int cropFactor) {

  FocalCrop {
    if (minBox <= 0 || cropFactor <= 0 || cropFactor % 2 == 0) {
      throw new IllegalArgumentException(
          "minBox must be > 0 and cropFactor odd, got " + minBox + ", " + cropFactor);
    }
  }

  /**
   * A pixel window, upper bounds exclusive.
   *
   * @param x0 first column
   * @param y0 first row
   * @param x1 one past the last column
   * @param y1 one past the last row
   */
  record Window(int x0, int y0, int x1, int y1) {
    int width() {
      return x1 - x0;
    }

    int height() {
      return y1 - y0;
    }

    boolean coversWhole(int imageWidth, int imageHeight) {
      return x0 == 0 && y0 == 0 && x1 == imageWidth && y1 == imageHeight;
    }
  }

  /** The window for a (non-empty) mask on its image. */
  Window window(Mask mask) {
    Mask.Box box = mask.boundingBox();
    return window(box.x0(), box.y0(), box.x1(), box.y1(), mask.width(), mask.height());
  }

  /** The window for a tight box {@code [x0, x1) x [y0, y1)} on a {@code width x height} image. */
  Window window(int x0, int y0, int x1, int y1, int width, int height) {
    int w = x1 - x0;
    int h = y1 - y0;
    double xc = x0 + w / 2.0;
    double yc = y0 + h / 2.0;
    w = Math.max(w, minBox);
    h = Math.max(h, minBox);
    int bx = (int) (xc - w / 2.0);
    int by = (int) (yc - h / 2.0);
    int before = (cropFactor - 1) / 2;
    int after = (cropFactor + 1) / 2;
    return new Window(
        Math.max(bx - before * w, 0),
        Math.max(by - before * h, 0),
        Math.min(bx + after * w, width),
        Math.min(by + after * h, height));
  }
}

package io.damjava.bench;

import io.damjava.api.DamImage;
import io.damjava.api.Mask;
import java.util.Random;

/** Deterministic benchmark inputs: a textured image and an elliptical object mask. */
public final class Synthetic {
  private Synthetic() {}

  /** A {@code w x h} RGB image: gradients plus noise (not constant, so resizing does real work). */
  public static DamImage image(int w, int h) {
    byte[] rgb = new byte[w * h * 3];
    Random r = new Random(7);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int i = (y * w + x) * 3;
        int n = r.nextInt(32);
        rgb[i] = (byte) ((x * 255 / w + n) & 0xFF);
        rgb[i + 1] = (byte) ((y * 255 / h + n) & 0xFF);
        rgb[i + 2] = (byte) (((x + y) * 127 / (w + h) + 2 * n) & 0xFF);
      }
    }
    return DamImage.ofRgb(w, h, rgb);
  }

  /**
   * An ellipse a fifth of the image wide and a quarter high, left of centre: a typical object,
   * whose focal window (3x its box) is smaller than the image, so the focal pass runs.
   */
  public static Mask mask(int w, int h) {
    return ellipse(w, h, 0.4, 0.5, 0.1, 0.125);
  }

  /**
   * An ellipse centred at ({@code fx} w, {@code fy} h) with radii {@code rx} w and {@code ry} h.
   */
  public static Mask ellipse(int w, int h, double fx, double fy, double rx, double ry) {
    byte[] m = new byte[w * h];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        double dx = (x - fx * w) / (rx * w);
        double dy = (y - fy * h) / (ry * h);
        if (dx * dx + dy * dy <= 1) {
          m[y * w + x] = 1;
        }
      }
    }
    return Mask.of(m, w, h);
  }
}

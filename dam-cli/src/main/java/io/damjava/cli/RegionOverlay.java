package io.damjava.cli;

import io.damjava.api.DamImage;
import io.damjava.api.InvalidInputException;
import io.damjava.api.Mask;
import io.damjava.api.Region;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;

/**
 * Draws regions onto the photo as the reference's dam_with_sam example does: the region tinted with
 * a translucent colour and its contour drawn in a solid one.
 */
final class RegionOverlay {
  /** Tint colours per region, cycling. */
  static final int[] COLOURS = {0x1E90FF, 0xFF4500, 0x32CD32, 0xFFD700, 0xDA70D6};

  static final double TINT = 0.4;

  private RegionOverlay() {}

  static BufferedImage draw(DamImage photo, List<Mask> masks) {
    BufferedImage img = photo.toBufferedImage();
    int w = photo.width();
    int h = photo.height();
    for (int r = 0; r < masks.size(); r++) {
      Mask m = masks.get(r);
      int c = COLOURS[r % COLOURS.length];
      for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
          if (!m.get(x, y)) {
            continue;
          }
          img.setRGB(x, y, isEdge(m, x, y) ? c : blend(img.getRGB(x, y), c));
        }
      }
    }
    return img;
  }

  /** An inside pixel with a 4-neighbour outside the mask or the image. */
  static boolean isEdge(Mask m, int x, int y) {
    return x == 0
        || y == 0
        || x == m.width() - 1
        || y == m.height() - 1
        || !m.get(x - 1, y)
        || !m.get(x + 1, y)
        || !m.get(x, y - 1)
        || !m.get(x, y + 1);
  }

  private static int blend(int rgb, int c) {
    int out = 0;
    for (int shift = 0; shift <= 16; shift += 8) {
      int a = (rgb >> shift) & 0xFF;
      int b = (c >> shift) & 0xFF;
      out |= ((int) Math.round(a * (1 - TINT) + b * TINT)) << shift;
    }
    return out;
  }

  static Mask boxMask(Region.BoxRegion b, int w, int h) {
    byte[] v = new byte[w * h];
    for (int y = (int) b.y0(); y < Math.min(h, Math.ceil(b.y1())); y++) {
      for (int x = (int) b.x0(); x < Math.min(w, Math.ceil(b.x1())); x++) {
        v[y * w + x] = 1;
      }
    }
    return Mask.of(v, w, h);
  }

  static void write(DamImage photo, List<Mask> masks, Path file) throws IOException {
    try {
      if (!ImageIO.write(draw(photo, masks), "png", file.toFile())) {
        throw new InvalidInputException("cannot write PNG " + file);
      }
    } catch (IOException e) {
      throw new InvalidInputException(
          "cannot write --output-image " + file + ": " + e.getMessage(), e);
    }
  }
}

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
 * Draws regions onto the photo as the reference's dam_with_sam example does: a mask is tinted with
 * a translucent colour and its contour drawn in the solid colour. The engine does not hand back the
 * mask its segmenter makes from a box, clicks or a scribble, so those are drawn as given: the box
 * outline, a dot per click (black for a negative click) and the stroke itself.
 */
final class RegionOverlay {
  /** Colours per region, cycling. */
  static final int[] COLOURS = {0x1E90FF, 0xFF4500, 0x32CD32, 0xFFD700, 0xDA70D6};

  static final int NEGATIVE = 0x000000;
  static final double TINT = 0.4;

  private RegionOverlay() {}

  /** Masks as given; for other regions only their prompt (the engine's mask is not known). */
  static BufferedImage draw(DamImage photo, List<Region> regions) {
    return draw(photo, regions, null);
  }

  /**
   * Every region's mask tinted with its contour, then the prompts they came from (box outlines,
   * clicks, strokes) on top of all masks.
   *
   * @param masks the mask described for each region (from {@code DescribeAnything.segment}), or
   *     null to tint only mask regions
   */
  static BufferedImage draw(DamImage photo, List<Region> regions, List<Mask> masks) {
    BufferedImage img = photo.toBufferedImage();
    for (int r = 0; r < regions.size(); r++) {
      int c = COLOURS[r % COLOURS.length];
      if (masks != null) {
        mask(img, masks.get(r), c);
      } else if (regions.get(r) instanceof Region.MaskRegion m) {
        mask(img, m.mask(), c);
      }
    }
    for (int r = 0; r < regions.size(); r++) {
      int c = COLOURS[r % COLOURS.length];
      Region region = regions.get(r);
      if (region instanceof Region.ScribbleRegion s) {
        Mask m = s.stroke();
        for (int y = 0; y < m.height(); y++) {
          for (int x = 0; x < m.width(); x++) {
            if (m.get(x, y)) {
              img.setRGB(x, y, c);
            }
          }
        }
      } else if (region instanceof Region.BoxRegion b) {
        box(img, b, c, thickness(img));
      } else if (region instanceof Region.PointsRegion p) {
        int radius = 2 * thickness(img) + 1;
        for (Region.Point pt : p.points()) {
          dot(img, (int) pt.x(), (int) pt.y(), radius, pt.positive() ? c : NEGATIVE);
        }
      }
    }
    return img;
  }

  private static int thickness(BufferedImage img) {
    return Math.max(1, Math.min(img.getWidth(), img.getHeight()) / 200);
  }

  private static void mask(BufferedImage img, Mask m, int c) {
    for (int y = 0; y < m.height(); y++) {
      for (int x = 0; x < m.width(); x++) {
        if (m.get(x, y)) {
          img.setRGB(x, y, isEdge(m, x, y) ? c : blend(img.getRGB(x, y), c));
        }
      }
    }
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

  /** The box's outline, {@code t} pixels wide, inside the box. */
  private static void box(BufferedImage img, Region.BoxRegion b, int c, int t) {
    int x0 = clamp((int) Math.floor(b.x0()), img.getWidth());
    int y0 = clamp((int) Math.floor(b.y0()), img.getHeight());
    int x1 = clamp((int) Math.ceil(b.x1()) - 1, img.getWidth());
    int y1 = clamp((int) Math.ceil(b.y1()) - 1, img.getHeight());
    for (int y = y0; y <= y1; y++) {
      for (int x = x0; x <= x1; x++) {
        if (x - x0 < t || x1 - x < t || y - y0 < t || y1 - y < t) {
          img.setRGB(x, y, c);
        }
      }
    }
  }

  private static void dot(BufferedImage img, int cx, int cy, int radius, int c) {
    for (int y = cy - radius; y <= cy + radius; y++) {
      for (int x = cx - radius; x <= cx + radius; x++) {
        if (x >= 0
            && y >= 0
            && x < img.getWidth()
            && y < img.getHeight()
            && (x - cx) * (x - cx) + (y - cy) * (y - cy) <= radius * radius) {
          img.setRGB(x, y, c);
        }
      }
    }
  }

  private static int clamp(int v, int size) {
    return Math.max(0, Math.min(size - 1, v));
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

  static void write(DamImage photo, List<Region> regions, List<Mask> masks, Path file) {
    try {
      if (!ImageIO.write(draw(photo, regions, masks), "png", file.toFile())) {
        throw new InvalidInputException("cannot write PNG " + file);
      }
    } catch (IOException e) {
      throw new InvalidInputException(
          "cannot write --output-image " + file + ": " + e.getMessage(), e);
    }
  }
}

package io.damjava.spark;

import io.damjava.api.InvalidInputException;
import io.damjava.api.Mask;
import java.util.ArrayList;
import java.util.List;

/**
 * COCO run-length masks (the {@code segmentation} of COCO-style annotations such as DLC-Bench's):
 * counts of alternating background and foreground runs, starting with background, over the pixels
 * in column-major order. The compressed form writes each count (after the third, as the difference
 * to the count two back) in 5-bit groups, little end first, as characters from {@code '0'} (48),
 * bit 5 meaning "more groups follow" and bit 4 of the last group the sign.
 */
public final class CocoRle {
  private CocoRle() {}

  /** Decodes a compressed counts string into run lengths. */
  public static long[] decodeCounts(String s) {
    List<Long> counts = new ArrayList<>();
    int p = 0;
    while (p < s.length()) {
      long x = 0;
      int k = 0;
      boolean more = true;
      while (more) {
        if (p >= s.length()) {
          throw new InvalidInputException("RLE counts string ends inside a number");
        }
        int c = s.charAt(p) - 48;
        if (c < 0 || c > 63) {
          throw new InvalidInputException(
              "RLE counts string has a character outside '0'..'o' at " + p);
        }
        x |= (long) (c & 0x1f) << (5 * k);
        more = (c & 0x20) != 0;
        p++;
        k++;
        if (!more && (c & 0x10) != 0) {
          x |= -1L << (5 * k);
        }
      }
      int m = counts.size();
      if (m > 2) {
        x += counts.get(m - 2);
      }
      counts.add(x);
    }
    long[] out = new long[counts.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = counts.get(i);
    }
    return out;
  }

  /** Encodes run lengths into the compressed counts string (the inverse of decodeCounts). */
  public static String encodeCounts(long[] counts) {
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < counts.length; i++) {
      long x = counts[i];
      if (i > 2) {
        x -= counts[i - 2];
      }
      boolean more = true;
      while (more) {
        long c = x & 0x1f;
        x >>= 5;
        more = (c & 0x10) != 0 ? x != -1 : x != 0;
        if (more) {
          c |= 0x20;
        }
        s.append((char) (c + 48));
      }
    }
    return s.toString();
  }

  /** The mask of {@code counts} over an image of {@code width} x {@code height}. */
  public static Mask toMask(long[] counts, int width, int height) {
    long total = 0;
    for (long c : counts) {
      if (c < 0) {
        throw new InvalidInputException("RLE has a negative run length " + c);
      }
      total += c;
    }
    long pixels = (long) width * height;
    if (total != pixels) {
      throw new InvalidInputException(
          "RLE covers "
              + total
              + " pixels but the image has "
              + width
              + "x"
              + height
              + " = "
              + pixels);
    }
    byte[] values = new byte[(int) pixels];
    long pos = 0;
    for (int i = 0; i < counts.length; i++) {
      if (i % 2 == 1) {
        for (long j = pos; j < pos + counts[i]; j++) {
          int x = (int) (j / height);
          int y = (int) (j % height);
          values[y * width + x] = 1;
        }
      }
      pos += counts[i];
    }
    return Mask.of(values, width, height);
  }

  /** The run lengths of {@code mask} (column-major, starting with background). */
  public static long[] fromMask(Mask mask) {
    List<Long> runs = new ArrayList<>();
    boolean inside = false;
    long run = 0;
    for (int x = 0; x < mask.width(); x++) {
      for (int y = 0; y < mask.height(); y++) {
        if (mask.get(x, y) != inside) {
          runs.add(run);
          run = 0;
          inside = !inside;
        }
        run++;
      }
    }
    runs.add(run);
    return runs.stream().mapToLong(Long::longValue).toArray();
  }
}

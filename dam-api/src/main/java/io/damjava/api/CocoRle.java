package io.damjava.api;

import java.util.Arrays;

/**
 * COCO run-length encoded masks (the form of COCO, Objects365 and DLC-Bench annotations), read and
 * written as pycocotools does ({@code rleFrString}, {@code rleToString}, {@code rleDecode} and
 * {@code rleEncode} of its {@code maskApi.c}): runs alternate background and foreground, start with
 * background, and walk the image column by column. The compressed string packs each run in 5-bit
 * groups offset by 48, runs from the third on stored as the difference to the run two before.
 *
 * <pre>{@code
 * Mask m = CocoRle.decode(CocoRle.counts(annotation.counts()), height, width);
 * }</pre>
 */
public final class CocoRle {
  private CocoRle() {}

  /**
   * The run lengths of a compressed RLE string.
   *
   * @throws InvalidInputException if a character is outside the alphabet or the string ends inside
   *     a run
   */
  public static long[] counts(String compressed) {
    long[] cnts = new long[compressed.length()];
    int m = 0;
    int p = 0;
    int n = compressed.length();
    while (p < n) {
      long x = 0;
      int k = 0;
      boolean more = true;
      while (more) {
        if (p >= n) {
          throw new InvalidInputException(
              "malformed RLE: the string ends inside a run at character " + p);
        }
        int c = compressed.charAt(p) - 48;
        if (c < 0 || c > 63) {
          throw new InvalidInputException(
              "malformed RLE: character '"
                  + compressed.charAt(p)
                  + "' at "
                  + p
                  + " is outside the COCO alphabet ('0'..'o')");
        }
        if (k > 6) {
          throw new InvalidInputException("malformed RLE: a run longer than 7 groups at " + p);
        }
        x |= (long) (c & 0x1f) << (5 * k);
        more = (c & 0x20) != 0;
        p++;
        k++;
        if (!more && (c & 0x10) != 0) {
          x |= -1L << (5 * k);
        }
      }
      if (m > 2) {
        x += cnts[m - 2];
      }
      // maskApi.c stores the run as a 32-bit unsigned int.
      cnts[m++] = x & 0xFFFFFFFFL;
    }
    return Arrays.copyOf(cnts, m);
  }

  /** The compressed counts string of run lengths (the inverse of {@link #counts}). */
  public static String compress(long[] counts) {
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

  /**
   * Decodes runs into a mask of {@code height} rows and {@code width} columns.
   *
   * @throws InvalidInputException if a run is negative, the runs do not cover exactly {@code height
   *     * width} pixels, or the size is beyond {@link ImageLimits#defaults()}
   */
  public static Mask decode(long[] counts, int height, int width) {
    if (height <= 0 || width <= 0) {
      throw new InvalidInputException(
          "malformed RLE: size must be positive, got " + height + "x" + width);
    }
    ImageLimits.defaults().check(width, height, "RLE mask");
    long total = 0;
    for (long c : counts) {
      if (c < 0) {
        throw new InvalidInputException("malformed RLE: a negative run length " + c);
      }
      total += c;
    }
    long n = (long) height * width;
    if (total != n) {
      throw new InvalidInputException(
          "malformed RLE: its runs cover "
              + total
              + " pixels but the mask is "
              + height
              + "x"
              + width
              + " = "
              + n);
    }
    byte[] rowMajor = new byte[(int) n];
    long pos = 0;
    boolean on = false;
    for (long c : counts) {
      if (on) {
        for (long i = pos; i < pos + c; i++) {
          rowMajor[(int) (i % height) * width + (int) (i / height)] = 1;
        }
      }
      pos += c;
      on = !on;
    }
    return Mask.of(rowMajor, width, height);
  }

  /** The run lengths of a mask (column by column, starting with background). */
  public static long[] encode(Mask mask) {
    long[] runs = new long[16];
    int m = 0;
    boolean inside = false;
    long run = 0;
    for (int x = 0; x < mask.width(); x++) {
      for (int y = 0; y < mask.height(); y++) {
        if (mask.get(x, y) != inside) {
          if (m == runs.length) {
            runs = Arrays.copyOf(runs, 2 * m);
          }
          runs[m++] = run;
          run = 0;
          inside = !inside;
        }
        run++;
      }
    }
    if (m == runs.length) {
      runs = Arrays.copyOf(runs, m + 1);
    }
    runs[m++] = run;
    return Arrays.copyOf(runs, m);
  }
}

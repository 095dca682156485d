package io.damjava.eval;

import com.fasterxml.jackson.databind.JsonNode;
import io.damjava.api.InvalidInputException;
import io.damjava.api.Mask;

/**
 * COCO run-length encoded masks, decoded as pycocotools does ({@code rleFrString} and {@code
 * rleDecode} of its {@code maskApi.c}): runs alternate background / foreground, start with
 * background, and walk the image column by column (Fortran order). The compressed form packs each
 * run in 5-bit groups offset by 48 (ASCII), with runs from the third on stored as a difference to
 * the run two before.
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
    long[] out = new long[m];
    System.arraycopy(cnts, 0, out, 0, m);
    return out;
  }

  /**
   * Decodes runs into a mask of the given size.
   *
   * @throws InvalidInputException if the runs do not cover exactly {@code height * width} pixels
   */
  public static Mask decode(long[] counts, int height, int width) {
    if (height <= 0 || width <= 0) {
      throw new InvalidInputException(
          "malformed RLE: size must be positive, got " + height + "x" + width);
    }
    long total = 0;
    for (long c : counts) {
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
          int x = (int) (i / height);
          int y = (int) (i % height);
          rowMajor[y * width + x] = 1;
        }
      }
      pos += c;
      on = !on;
    }
    return Mask.of(rowMajor, width, height);
  }

  /**
   * Decodes a COCO {@code segmentation} object {@code {"size": [h, w], "counts": ...}}: counts as a
   * compressed string, or as a list of run lengths (uncompressed RLE).
   *
   * @throws InvalidInputException for polygons or a malformed object
   */
  public static Mask decode(JsonNode segmentation) {
    if (segmentation == null || segmentation.isArray()) {
      throw new InvalidInputException(
          "segmentation is "
              + (segmentation == null ? "missing" : "a polygon list")
              + "; DLC-Bench masks are RLE objects {\"size\": [h, w], \"counts\": ...}");
    }
    JsonNode size = segmentation.get("size");
    JsonNode c = segmentation.get("counts");
    if (size == null || !size.isArray() || size.size() != 2 || c == null) {
      throw new InvalidInputException(
          "malformed RLE: expected {\"size\": [h, w], \"counts\": ...}, got " + segmentation);
    }
    int h = size.get(0).asInt();
    int w = size.get(1).asInt();
    long[] counts;
    if (c.isTextual()) {
      counts = counts(c.asText());
    } else if (c.isArray()) {
      counts = new long[c.size()];
      for (int i = 0; i < counts.length; i++) {
        if (!c.get(i).canConvertToLong() || c.get(i).asLong() < 0) {
          throw new InvalidInputException("malformed RLE: run " + i + " is " + c.get(i));
        }
        counts[i] = c.get(i).asLong();
      }
    } else {
      throw new InvalidInputException("malformed RLE: counts is " + c.getNodeType());
    }
    return decode(counts, h, w);
  }
}

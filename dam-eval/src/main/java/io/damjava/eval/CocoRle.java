package io.damjava.eval;

import com.fasterxml.jackson.databind.JsonNode;
import io.damjava.api.InvalidInputException;
import io.damjava.api.Mask;

/**
 * COCO {@code segmentation} objects of DLC-Bench's annotations.json, decoded with dam-api's {@link
 * io.damjava.api.CocoRle} (pycocotools' {@code rleFrString} and {@code rleDecode}).
 */
public final class CocoRle {
  private CocoRle() {}

  /** The run lengths of a compressed RLE string ({@link io.damjava.api.CocoRle#counts}). */
  public static long[] counts(String compressed) {
    return io.damjava.api.CocoRle.counts(compressed);
  }

  /** Decodes runs into a mask ({@link io.damjava.api.CocoRle#decode}). */
  public static Mask decode(long[] counts, int height, int width) {
    return io.damjava.api.CocoRle.decode(counts, height, width);
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

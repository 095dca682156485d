package io.damjava.spark;

import io.damjava.api.Mask;

/**
 * COCO run-length masks in the argument order of this module's row readers (width before height),
 * over dam-api's {@link io.damjava.api.CocoRle} (pycocotools' encoding).
 */
public final class CocoRle {
  private CocoRle() {}

  /** The run lengths of a compressed counts string. */
  public static long[] decodeCounts(String s) {
    return io.damjava.api.CocoRle.counts(s);
  }

  /** Encodes run lengths into the compressed counts string (the inverse of decodeCounts). */
  public static String encodeCounts(long[] counts) {
    return io.damjava.api.CocoRle.compress(counts);
  }

  /** The mask of {@code counts} over an image of {@code width} x {@code height}. */
  public static Mask toMask(long[] counts, int width, int height) {
    return io.damjava.api.CocoRle.decode(counts, height, width);
  }

  /** The run lengths of {@code mask} (column-major, starting with background). */
  public static long[] fromMask(Mask mask) {
    return io.damjava.api.CocoRle.encode(mask);
  }
}

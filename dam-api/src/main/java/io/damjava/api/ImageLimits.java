package io.damjava.api;

import java.awt.image.BufferedImage;

/**
 * Limits on encoded images, checked on the size an image <em>declares</em> in its header before a
 * single pixel is decoded, so a small file claiming 60000 x 60000 pixels (a decompression bomb) is
 * refused with an {@link InvalidInputException} instead of exhausting memory.
 *
 * <p>{@link DamImage#read(java.nio.file.Path)} and {@link Mask#read(java.nio.file.Path)} use {@link
 * #defaults()}: the system property {@value #PROPERTY} when set, else {@value #DEFAULT_MAX_PIXELS}
 * pixels. Pass limits explicitly with the overloads taking an {@code ImageLimits}.
 *
 * <pre>{@code
 * DamImage big = DamImage.read(Path.of("scan.png"), ImageLimits.ofMaxPixels(200_000_000L));
 * }</pre>
 *
 * @param maxPixels the largest width x height accepted, at least 1
 */
public record ImageLimits(long maxPixels) {
  /** The default pixel limit: 50 megapixels (an 8-bit RGB copy of it is 150 MB). */
  public static final long DEFAULT_MAX_PIXELS = 50_000_000L;

  /** System property overriding {@link #DEFAULT_MAX_PIXELS} for {@link #defaults()}. */
  public static final String PROPERTY = "dam.maxImagePixels";

  /**
   * @throws InvalidInputException if {@code maxPixels < 1}
   */
  public ImageLimits {
    if (maxPixels < 1) {
      throw new InvalidInputException("the image pixel limit must be >= 1, got " + maxPixels);
    }
  }

  /** A pixel limit. */
  public static ImageLimits ofMaxPixels(long maxPixels) {
    return new ImageLimits(maxPixels);
  }

  /**
   * {@value #PROPERTY} when set to a positive integer, else {@value #DEFAULT_MAX_PIXELS}.
   *
   * @throws InvalidInputException if the property is set but is not a positive integer
   */
  public static ImageLimits defaults() {
    String v = System.getProperty(PROPERTY);
    if (v == null || v.isBlank()) {
      return new ImageLimits(DEFAULT_MAX_PIXELS);
    }
    try {
      return new ImageLimits(Long.parseLong(v.trim()));
    } catch (NumberFormatException e) {
      throw new InvalidInputException(
          "system property " + PROPERTY + " must be a positive integer, got '" + v + "'", e);
    }
  }

  /**
   * Decodes the first image of PNG, JPEG, GIF or BMP bytes after checking its declared size.
   *
   * @param encoded the file's bytes
   * @param what how to name the input in messages ("mask.png", "the image")
   * @throws InvalidInputException if the bytes are not a readable image or declare more pixels than
   *     {@link #maxPixels()}
   */
  public BufferedImage decode(byte[] encoded, String what) {
    return ImageDecoding.decode(encoded, what, this);
  }

  /**
   * Checks a declared size against the limit.
   *
   * @throws InvalidInputException if a side is not positive or the area is above the limit
   */
  public void check(long width, long height, String what) {
    if (width <= 0 || height <= 0) {
      throw new InvalidInputException(
          what + " declares an invalid size of " + width + "x" + height + " pixels");
    }
    if (width * height > maxPixels) {
      throw new InvalidInputException(
          what
              + " declares "
              + width
              + "x"
              + height
              + " = "
              + width * height
              + " pixels, above the limit of "
              + maxPixels
              + " (raise it with ImageLimits, the CLI's --max-image-pixels or -D"
              + PROPERTY
              + ")");
    }
  }
}

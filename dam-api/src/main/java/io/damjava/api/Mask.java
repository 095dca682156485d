package io.damjava.api;

import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Objects;

/**
 * A binary region mask: a pixel is inside when its value is non-zero, as in the reference ({@code
 * np.asarray(mask) > 0}). Immutable.
 *
 * <p>Sources: a PNG file (grey, 16-bit grey, palette: the palette <em>index</em> counts, as
 * Pillow's {@code np.asarray} gives it; colour: any non-zero colour band counts; alpha is ignored),
 * an image's alpha channel, or an array.
 *
 * <pre>{@code
 * Mask m = Mask.read(Path.of("cat-mask.png"));
 * Mask.Box box = m.boundingBox(); // x1, y1 exclusive
 * }</pre>
 */
public final class Mask {
  private final int width;
  private final int height;
  private final byte[] bits; // (height, width), 0 or 1
  private final int area;
  private final Box box; // null when empty

  private Mask(int width, int height, byte[] bits) {
    if (width <= 0 || height <= 0) {
      throw new InvalidInputException("mask size must be positive, got " + width + "x" + height);
    }
    this.width = width;
    this.height = height;
    this.bits = bits;
    int n = 0;
    int x0 = Integer.MAX_VALUE;
    int y0 = Integer.MAX_VALUE;
    int x1 = -1;
    int y1 = -1;
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        if (bits[y * width + x] != 0) {
          n++;
          x0 = Math.min(x0, x);
          x1 = Math.max(x1, x);
          y0 = Math.min(y0, y);
          y1 = y;
        }
      }
    }
    this.area = n;
    this.box = n == 0 ? null : new Box(x0, y0, x1 + 1, y1 + 1);
  }

  /** Pixels whose byte is non-zero are inside; row-major, {@code width * height} bytes (copied). */
  public static Mask of(byte[] values, int width, int height) {
    Objects.requireNonNull(values, "values");
    checkLength(values.length, width, height);
    byte[] bits = new byte[values.length];
    for (int i = 0; i < bits.length; i++) {
      bits[i] = (byte) (values[i] != 0 ? 1 : 0);
    }
    return new Mask(width, height, bits);
  }

  /** {@code true} pixels are inside; row-major, {@code width * height} values. */
  public static Mask of(boolean[] values, int width, int height) {
    Objects.requireNonNull(values, "values");
    checkLength(values.length, width, height);
    byte[] bits = new byte[values.length];
    for (int i = 0; i < bits.length; i++) {
      bits[i] = (byte) (values[i] ? 1 : 0);
    }
    return new Mask(width, height, bits);
  }

  private static void checkLength(int length, int width, int height) {
    if (width <= 0 || height <= 0) {
      throw new InvalidInputException("mask size must be positive, got " + width + "x" + height);
    }
    if ((long) width * height != length) {
      throw new InvalidInputException(
          "mask array has " + length + " values, expected " + width + "*" + height);
    }
  }

  /** Reads a mask image file (PNG recommended) within {@link ImageLimits#defaults()}. */
  public static Mask read(Path file) {
    return read(file, ImageLimits.defaults());
  }

  /** Reads a mask image file, refusing it before decoding when it declares too many pixels. */
  public static Mask read(Path file, ImageLimits limits) {
    return of(ImageDecoding.decode(ImageDecoding.readAll(file), file.toString(), limits));
  }

  /** Decodes a mask image held in memory within {@link ImageLimits#defaults()}. */
  public static Mask read(byte[] encoded) {
    return read(encoded, ImageLimits.defaults());
  }

  /** Decodes a mask image held in memory, refusing it when it declares too many pixels. */
  public static Mask read(byte[] encoded, ImageLimits limits) {
    return of(ImageDecoding.decode(encoded, "mask bytes", limits));
  }

  /** A mask from an image's values: non-zero grey level, palette index or colour is inside. */
  public static Mask of(BufferedImage image) {
    Objects.requireNonNull(image, "image");
    int w = image.getWidth();
    int h = image.getHeight();
    Raster r = image.getRaster();
    int colourBands =
        image.getColorModel().hasAlpha()
                && !(image.getColorModel() instanceof java.awt.image.IndexColorModel)
            ? r.getNumBands() - 1
            : r.getNumBands();
    byte[] bits = new byte[w * h];
    int[] row = new int[w];
    for (int b = 0; b < colourBands; b++) {
      for (int y = 0; y < h; y++) {
        r.getSamples(0, y, w, 1, b, row);
        for (int x = 0; x < w; x++) {
          if (row[x] != 0) {
            bits[y * w + x] = 1;
          }
        }
      }
    }
    return new Mask(w, h, bits);
  }

  /**
   * The alpha channel as a mask (alpha > 0 is inside), as the reference server reads RGBA PNGs.
   *
   * @throws InvalidInputException if the image has no alpha channel
   */
  public static Mask fromAlpha(BufferedImage image) {
    Objects.requireNonNull(image, "image");
    if (!image.getColorModel().hasAlpha()) {
      throw new InvalidInputException(
          "image has no alpha channel: send an RGBA PNG whose alpha marks the region");
    }
    int w = image.getWidth();
    int h = image.getHeight();
    byte[] bits = new byte[w * h];
    Raster alpha = image.getAlphaRaster();
    int[] row = new int[w];
    for (int y = 0; y < h; y++) {
      if (alpha != null) {
        alpha.getSamples(0, y, w, 1, 0, row);
      } else {
        for (int x = 0; x < w; x++) {
          row[x] = image.getRGB(x, y) >>> 24;
        }
      }
      for (int x = 0; x < w; x++) {
        bits[y * w + x] = (byte) (row[x] != 0 ? 1 : 0);
      }
    }
    return new Mask(w, h, bits);
  }

  public int width() {
    return width;
  }

  public int height() {
    return height;
  }

  /** Number of inside pixels. */
  public int area() {
    return area;
  }

  public boolean isEmpty() {
    return area == 0;
  }

  public boolean get(int x, int y) {
    return bits[y * width + x] != 0;
  }

  /**
   * The tight bounding box, {@code x1} and {@code y1} exclusive, as the reference's {@code
   * mask_to_box}.
   *
   * @throws InvalidInputException if the mask is empty
   */
  public Box boundingBox() {
    if (box == null) {
      throw new InvalidInputException(
          "mask is empty (no non-zero pixel in " + width + "x" + height + "): nothing to describe");
    }
    return box;
  }

  /** A copy of the values, row-major, 0 or 1 per pixel. */
  public byte[] toBytes() {
    return bits.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Mask m
        && m.width == width
        && m.height == height
        && Arrays.equals(m.bits, bits);
  }

  @Override
  public int hashCode() {
    return 31 * (31 * width + height) + Arrays.hashCode(bits);
  }

  @Override
  public String toString() {
    return "Mask["
        + width
        + "x"
        + height
        + ", area "
        + area
        + (box == null ? "" : ", " + box)
        + "]";
  }

  /**
   * A pixel rectangle with exclusive upper bounds.
   *
   * @param x0 first column
   * @param y0 first row
   * @param x1 one past the last column
   * @param y1 one past the last row
   */
  public record Box(int x0, int y0, int x1, int y1) {
    public int width() {
      return x1 - x0;
    }

    public int height() {
      return y1 - y0;
    }
  }
}

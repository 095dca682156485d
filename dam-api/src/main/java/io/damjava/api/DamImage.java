package io.damjava.api;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.Objects;

/**
 * An 8-bit RGB image, the only colour form DAM consumes. Whatever comes in is converted the way
 * Pillow's {@code convert("RGB")} does: alpha is dropped (not composited), grey is replicated,
 * palette images are looked up. JPEG EXIF orientation is applied. Immutable.
 *
 * <pre>{@code
 * DamImage photo = DamImage.read(Path.of("cat.jpg"));
 * DamImage fromAwt = DamImage.of(bufferedImage);
 * }</pre>
 */
public final class DamImage {
  private final int width;
  private final int height;
  private final byte[] rgb; // (height, width, 3) uint8, row-major

  DamImage(int width, int height, byte[] rgb) {
    this.width = width;
    this.height = height;
    this.rgb = rgb;
  }

  /**
   * An image from packed RGB bytes, row-major, 3 bytes per pixel (copied).
   *
   * @throws InvalidInputException if the sizes are not positive or the array length is not {@code
   *     width * height * 3}
   */
  public static DamImage ofRgb(int width, int height, byte[] rgb) {
    Objects.requireNonNull(rgb, "rgb");
    if (width <= 0 || height <= 0) {
      throw new InvalidInputException("image size must be positive, got " + width + "x" + height);
    }
    if ((long) width * height * 3 != rgb.length) {
      throw new InvalidInputException(
          "RGB array has "
              + rgb.length
              + " bytes, expected "
              + width
              + "*"
              + height
              + "*3 = "
              + ((long) width * height * 3));
    }
    return new DamImage(width, height, rgb.clone());
  }

  /** Reads a PNG, JPEG, GIF or BMP file within {@link ImageLimits#defaults()}. */
  public static DamImage read(Path file) {
    return read(file, ImageLimits.defaults());
  }

  /** Reads a PNG, JPEG, GIF or BMP file, refusing it before decoding when above the limits. */
  public static DamImage read(Path file, ImageLimits limits) {
    return read(ImageDecoding.readAll(file), file.toString(), limits);
  }

  /** Decodes an encoded image held in memory within {@link ImageLimits#defaults()}. */
  public static DamImage read(byte[] encoded) {
    return read(encoded, ImageLimits.defaults());
  }

  /** Decodes an encoded image held in memory, refusing it before decoding when above the limits. */
  public static DamImage read(byte[] encoded, ImageLimits limits) {
    return read(encoded, "image bytes", limits);
  }

  /** Decodes an encoded image from a stream (read fully, not closed). */
  public static DamImage read(InputStream in) {
    try {
      return read(in.readAllBytes(), "image stream", ImageLimits.defaults());
    } catch (IOException e) {
      throw new InvalidInputException("cannot read image stream: " + e.getMessage(), e);
    }
  }

  private static DamImage read(byte[] encoded, String what, ImageLimits limits) {
    Objects.requireNonNull(limits, "limits");
    BufferedImage img = ImageDecoding.decode(encoded, what, limits);
    byte[] rgb = ImageDecoding.toRgb(img);
    return ImageDecoding.orient(
        img.getWidth(), img.getHeight(), rgb, ImageDecoding.jpegOrientation(encoded));
  }

  /** Converts an AWT image (no EXIF handling: a BufferedImage has none). */
  public static DamImage of(BufferedImage image) {
    Objects.requireNonNull(image, "image");
    return new DamImage(image.getWidth(), image.getHeight(), ImageDecoding.toRgb(image));
  }

  public int width() {
    return width;
  }

  public int height() {
    return height;
  }

  /** A copy of the pixels: row-major, 3 bytes (R, G, B) per pixel. */
  public byte[] rgb() {
    return rgb.clone();
  }

  /** Red, green or blue (channel 0..2) of one pixel, 0..255. */
  public int sample(int x, int y, int channel) {
    return rgb[(y * width + x) * 3 + channel] & 0xFF;
  }

  /** An AWT copy, for drawing. */
  public BufferedImage toBufferedImage() {
    BufferedImage out = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    int[] row = new int[width];
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        int o = (y * width + x) * 3;
        row[x] = ((rgb[o] & 0xFF) << 16) | ((rgb[o + 1] & 0xFF) << 8) | (rgb[o + 2] & 0xFF);
      }
      out.setRGB(0, y, width, 1, row, 0, width);
    }
    return out;
  }

  @Override
  public String toString() {
    return "DamImage[" + width + "x" + height + "]";
  }
}

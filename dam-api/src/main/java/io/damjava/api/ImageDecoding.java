package io.damjava.api;

import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Iterator;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;

/** Decoding helpers shared by {@link DamImage} and {@link Mask}; no colour management. */
final class ImageDecoding {
  private ImageDecoding() {}

  static byte[] readAll(Path file) {
    try {
      return Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw new InvalidInputException("image file not found: " + file, e);
    } catch (IOException e) {
      throw new InvalidInputException("cannot read image file " + file + ": " + e.getMessage(), e);
    }
  }

  static BufferedImage decode(byte[] bytes, String what) {
    return decode(bytes, what, ImageLimits.defaults());
  }

  /** Reads the header, checks the declared size, then decodes the first image. */
  static BufferedImage decode(byte[] bytes, String what, ImageLimits limits) {
    BufferedImage img = null;
    try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(bytes))) {
      Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
      if (readers.hasNext()) {
        ImageReader reader = readers.next();
        try {
          reader.setInput(in, true, true);
          limits.check(reader.getWidth(0), reader.getHeight(0), what);
          img = reader.read(0);
        } finally {
          reader.dispose();
        }
      }
    } catch (InvalidInputException e) {
      throw e;
    } catch (IOException | RuntimeException e) {
      throw new InvalidInputException(
          "cannot decode " + what + " (" + bytes.length + " bytes): " + e.getMessage(), e);
    }
    if (img == null) {
      throw new InvalidInputException(
          "cannot decode "
              + what
              + " ("
              + bytes.length
              + " bytes): not a PNG, JPEG, GIF or BMP image");
    }
    return img;
  }

  /** True for single-band (plus optional alpha) images whose samples are grey levels. */
  static boolean isGray(BufferedImage img) {
    ColorModel cm = img.getColorModel();
    return !(cm instanceof IndexColorModel)
        && cm.getColorSpace().getType() == java.awt.color.ColorSpace.TYPE_GRAY;
  }

  /**
   * Packed RGB of an image, as Pillow's {@code convert("RGB")} gives it: alpha dropped (not
   * composited), grey replicated without gamma conversion, palette looked up, 16-bit grey scaled to
   * 8 bits.
   */
  static byte[] toRgb(BufferedImage img) {
    int w = img.getWidth();
    int h = img.getHeight();
    byte[] rgb = new byte[Math.multiplyExact(Math.multiplyExact(w, h), 3)];
    if (isGray(img)) {
      Raster r = img.getRaster();
      int shift = Math.max(0, r.getSampleModel().getSampleSize(0) - 8);
      int[] row = new int[w];
      for (int y = 0; y < h; y++) {
        r.getSamples(0, y, w, 1, 0, row);
        for (int x = 0; x < w; x++) {
          byte v = (byte) (row[x] >>> shift);
          int o = (y * w + x) * 3;
          rgb[o] = v;
          rgb[o + 1] = v;
          rgb[o + 2] = v;
        }
      }
      return rgb;
    }
    int[] row = new int[w];
    for (int y = 0; y < h; y++) {
      img.getRGB(0, y, w, 1, row, 0, w);
      for (int x = 0; x < w; x++) {
        int p = row[x];
        int o = (y * w + x) * 3;
        rgb[o] = (byte) (p >>> 16);
        rgb[o + 1] = (byte) (p >>> 8);
        rgb[o + 2] = (byte) p;
      }
    }
    return rgb;
  }

  /**
   * The EXIF orientation (1..8) of a JPEG, or 1 when absent or unreadable. Reads only the APP1
   * segment's IFD0.
   */
  static int jpegOrientation(byte[] b) {
    if (b.length < 4 || (b[0] & 0xFF) != 0xFF || (b[1] & 0xFF) != 0xD8) {
      return 1;
    }
    int p = 2;
    while (p + 4 <= b.length && (b[p] & 0xFF) == 0xFF) {
      int marker = b[p + 1] & 0xFF;
      int len = ((b[p + 2] & 0xFF) << 8) | (b[p + 3] & 0xFF);
      if (marker == 0xDA || len < 2) {
        return 1;
      }
      int start = p + 4;
      if (marker == 0xE1
          && start + 14 <= b.length
          && b[start] == 'E'
          && b[start + 1] == 'x'
          && b[start + 2] == 'i'
          && b[start + 3] == 'f') {
        int o = orientationFromTiff(b, start + 6, Math.min(b.length, p + 2 + len));
        return o >= 1 && o <= 8 ? o : 1;
      }
      p += 2 + len;
    }
    return 1;
  }

  private static int orientationFromTiff(byte[] b, int tiff, int end) {
    boolean le = b[tiff] == 'I';
    int ifd = u32(b, tiff + 4, le);
    int dir = tiff + ifd;
    if (ifd < 8 || dir + 2 > end) {
      return 1;
    }
    int n = u16(b, dir, le);
    for (int i = 0; i < n; i++) {
      int e = dir + 2 + i * 12;
      if (e + 12 > end) {
        return 1;
      }
      if (u16(b, e, le) == 0x0112) {
        return u16(b, e + 8, le);
      }
    }
    return 1;
  }

  private static int u16(byte[] b, int i, boolean le) {
    return le ? (b[i] & 0xFF) | ((b[i + 1] & 0xFF) << 8) : ((b[i] & 0xFF) << 8) | (b[i + 1] & 0xFF);
  }

  private static int u32(byte[] b, int i, boolean le) {
    return le
        ? u16(b, i, true) | (u16(b, i + 2, true) << 16)
        : (u16(b, i, false) << 16) | u16(b, i + 2, false);
  }

  /** Applies an EXIF orientation to packed RGB; returns {width, height} via the holder. */
  static DamImage orient(int w, int h, byte[] rgb, int orientation) {
    if (orientation <= 1) {
      return new DamImage(w, h, rgb);
    }
    boolean swap = orientation >= 5;
    int ow = swap ? h : w;
    int oh = swap ? w : h;
    byte[] out = new byte[rgb.length];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int dx;
        int dy;
        switch (orientation) {
          case 2 -> {
            dx = w - 1 - x;
            dy = y;
          }
          case 3 -> {
            dx = w - 1 - x;
            dy = h - 1 - y;
          }
          case 4 -> {
            dx = x;
            dy = h - 1 - y;
          }
          case 5 -> {
            dx = y;
            dy = x;
          }
          case 6 -> {
            dx = h - 1 - y;
            dy = x;
          }
          case 7 -> {
            dx = h - 1 - y;
            dy = w - 1 - x;
          }
          default -> {
            dx = y;
            dy = w - 1 - x;
          }
        }
        System.arraycopy(rgb, (y * w + x) * 3, out, (dy * ow + dx) * 3, 3);
      }
    }
    return new DamImage(ow, oh, out);
  }
}

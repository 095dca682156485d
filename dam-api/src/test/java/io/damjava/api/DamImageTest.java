package io.damjava.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

class DamImageTest {

  @Test
  void grayImagesAreReplicatedWithoutGammaConversion() throws IOException {
    BufferedImage g = new BufferedImage(2, 1, BufferedImage.TYPE_BYTE_GRAY);
    g.getRaster().setSample(0, 0, 0, 100);
    g.getRaster().setSample(1, 0, 0, 7);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(g, "png", out);
    DamImage img = DamImage.read(out.toByteArray());
    // AWT's getRGB would turn grey 100 into about 167; Pillow's convert("RGB") keeps 100.
    assertArrayEquals(new byte[] {100, 100, 100, 7, 7, 7}, img.rgb());
  }

  @Test
  void alphaIsDroppedNotComposited() {
    BufferedImage a = new BufferedImage(1, 1, BufferedImage.TYPE_INT_ARGB);
    a.setRGB(0, 0, 0x10203040);
    DamImage img = DamImage.of(a);
    assertEquals(0x20, img.sample(0, 0, 0));
    assertEquals(0x30, img.sample(0, 0, 1));
    assertEquals(0x40, img.sample(0, 0, 2));
  }

  @Test
  void exifOrientationSixRotatesClockwise() {
    // 3x2 image; orientation 6 means the stored image must be rotated 90 degrees clockwise.
    byte[] rgb = new byte[3 * 2 * 3];
    for (int i = 0; i < 6; i++) {
      rgb[i * 3] = (byte) i; // red channel = pixel index
    }
    DamImage o = ImageDecoding.orient(3, 2, rgb, 6);
    assertEquals(2, o.width());
    assertEquals(3, o.height());
    // Clockwise: the bottom-left stored pixel (index 3) becomes the top-left.
    assertEquals(3, o.sample(0, 0, 0));
    assertEquals(0, o.sample(1, 0, 0));
    assertEquals(5, o.sample(0, 2, 0));
  }

  @Test
  void readsTheOrientationTagFromAJpegApp1Segment() {
    byte[] tiff = {
      'M', 'M', 0, 42, 0, 0, 0, 8, // header, IFD0 at 8
      0, 1, // one entry
      0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0, // orientation SHORT = 6
      0, 0, 0, 0
    };
    byte[] jpeg = new byte[4 + 2 + 6 + tiff.length + 2];
    int p = 0;
    jpeg[p++] = (byte) 0xFF;
    jpeg[p++] = (byte) 0xD8;
    jpeg[p++] = (byte) 0xFF;
    jpeg[p++] = (byte) 0xE1;
    int len = 2 + 6 + tiff.length;
    jpeg[p++] = (byte) (len >> 8);
    jpeg[p++] = (byte) len;
    for (byte b : new byte[] {'E', 'x', 'i', 'f', 0, 0}) {
      jpeg[p++] = b;
    }
    System.arraycopy(tiff, 0, jpeg, p, tiff.length);
    assertEquals(6, ImageDecoding.jpegOrientation(jpeg));
    assertEquals(1, ImageDecoding.jpegOrientation(new byte[] {1, 2, 3}));
  }

  @Test
  void rgbArraysAreCheckedAndCopied() {
    InvalidInputException e =
        assertThrows(InvalidInputException.class, () -> DamImage.ofRgb(2, 2, new byte[11]));
    assertTrue(e.getMessage().contains("expected 2*2*3 = 12"), e.getMessage());
    byte[] src = new byte[3];
    DamImage img = DamImage.ofRgb(1, 1, src);
    src[0] = 9;
    assertEquals(0, img.sample(0, 0, 0));
    img.rgb()[0] = 9;
    assertEquals(0, img.sample(0, 0, 0));
  }

  @Test
  void undecodableBytesGiveInvalidInput() {
    InvalidInputException e =
        assertThrows(InvalidInputException.class, () -> DamImage.read(new byte[] {0, 1, 2}));
    assertTrue(e.getMessage().contains("cannot decode"), e.getMessage());
  }
}

package io.damjava.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.awt.image.WritableRaster;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MaskTest {

  private static byte[] png(BufferedImage img) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    assertTrue(ImageIO.write(img, "png", out));
    return out.toByteArray();
  }

  @Test
  void paletteMaskUsesTheIndexNotTheColour() throws IOException {
    // Palette: index 0 is white, index 1 is black. Pillow's np.asarray gives indices, so the black
    // pixels (index 1) are inside and the white ones (index 0) are outside.
    byte[] r = {(byte) 255, 0};
    IndexColorModel cm = new IndexColorModel(1, 2, r, r, r);
    BufferedImage img = new BufferedImage(5, 4, BufferedImage.TYPE_BYTE_BINARY, cm);
    img.getRaster().setSample(2, 1, 0, 1);
    img.getRaster().setSample(3, 2, 0, 1);
    Mask m = Mask.read(png(img));
    assertEquals(2, m.area());
    assertTrue(m.get(2, 1));
    assertFalse(m.get(0, 0));
    assertEquals(new Mask.Box(2, 1, 4, 3), m.boundingBox());
  }

  @Test
  void sixteenBitGrayCountsAnyNonZeroSample() throws IOException {
    BufferedImage img = new BufferedImage(6, 3, BufferedImage.TYPE_USHORT_GRAY);
    WritableRaster r = img.getRaster();
    r.setSample(1, 0, 0, 1); // smaller than one 8-bit step: still non-zero
    r.setSample(5, 2, 0, 65535);
    Mask m = Mask.read(png(img));
    assertEquals(2, m.area());
    assertTrue(m.get(1, 0));
    assertEquals(new Mask.Box(1, 0, 6, 3), m.boundingBox());
  }

  @Test
  void alphaChannelBecomesTheMaskAndColourIsIgnored() {
    BufferedImage img = new BufferedImage(4, 4, BufferedImage.TYPE_INT_ARGB);
    img.setRGB(0, 0, 0x00FFFFFF); // white but transparent: outside
    img.setRGB(3, 3, 0x01000000); // black but alpha 1: inside
    Mask m = Mask.fromAlpha(img);
    assertEquals(1, m.area());
    assertTrue(m.get(3, 3));
    // As a plain mask the same image counts colour, not alpha.
    assertEquals(1, Mask.of(img).area());
    assertTrue(Mask.of(img).get(0, 0));
  }

  @Test
  void fromAlphaRejectsImagesWithoutAlpha() {
    BufferedImage rgb = new BufferedImage(2, 2, BufferedImage.TYPE_INT_RGB);
    InvalidInputException e = assertThrows(InvalidInputException.class, () -> Mask.fromAlpha(rgb));
    assertTrue(e.getMessage().contains("no alpha channel"), e.getMessage());
  }

  @Test
  void boundingBoxOfEdgeTouchingMasksIsExclusiveAtTheFarEdges() {
    boolean[] v = new boolean[7 * 5];
    v[0] = true; // (0,0)
    v[7 * 5 - 1] = true; // (6,4)
    Mask m = Mask.of(v, 7, 5);
    assertEquals(new Mask.Box(0, 0, 7, 5), m.boundingBox());
    assertEquals(7, m.boundingBox().width());
    assertEquals(5, m.boundingBox().height());
  }

  @Test
  void singlePixelMaskHasAOneByOneBox() {
    byte[] v = new byte[9];
    v[4] = (byte) 200;
    assertEquals(new Mask.Box(1, 1, 2, 2), Mask.of(v, 3, 3).boundingBox());
  }

  @Test
  void emptyMaskHasNoBoundingBox() {
    Mask m = Mask.of(new byte[12], 4, 3);
    assertTrue(m.isEmpty());
    InvalidInputException e = assertThrows(InvalidInputException.class, m::boundingBox);
    assertTrue(e.getMessage().contains("empty"), e.getMessage());
  }

  @Test
  void arrayLengthMustMatchTheSize() {
    InvalidInputException e =
        assertThrows(InvalidInputException.class, () -> Mask.of(new byte[11], 4, 3));
    assertTrue(e.getMessage().contains("11") && e.getMessage().contains("4*3"), e.getMessage());
    assertThrows(InvalidInputException.class, () -> Mask.of(new boolean[0], 0, 0));
  }

  @Test
  void masksAreImmutable() {
    byte[] v = {0, 1, 0, 1};
    Mask m = Mask.of(v, 2, 2);
    v[0] = 1;
    assertFalse(m.get(0, 0), "the source array was copied");
    byte[] out = m.toBytes();
    out[0] = 1;
    assertFalse(m.get(0, 0), "toBytes returns a copy");
    assertArrayEquals(new byte[] {0, 1, 0, 1}, m.toBytes());
  }

  @Test
  void unreadableFilesGiveInvalidInput(@TempDir Path dir) throws IOException {
    Path junk = dir.resolve("junk.png");
    Files.write(junk, new byte[] {1, 2, 3, 4});
    InvalidInputException e = assertThrows(InvalidInputException.class, () -> Mask.read(junk));
    assertTrue(e.getMessage().contains("junk.png"), e.getMessage());
    InvalidInputException missing =
        assertThrows(InvalidInputException.class, () -> Mask.read(dir.resolve("none.png")));
    assertTrue(missing.getMessage().contains("not found"), missing.getMessage());
  }
}

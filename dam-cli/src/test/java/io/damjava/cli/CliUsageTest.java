package io.damjava.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.damjava.api.DamImage;
import io.damjava.api.Mask;
import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CliUsageTest {
  record Result(int code, String out, String err) {}

  static Result run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = DamCli.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
    return new Result(code, out.toString(), err.toString());
  }

  @Test
  void helpListsTheCommandsAndTheRegionKinds() {
    Result top = run("--help");
    assertEquals(0, top.code());
    assertTrue(top.out().contains("describe"), top.out());
    Result d = run("describe", "--help");
    assertEquals(0, d.code());
    for (String flag :
        List.of(
            "--mask",
            "--box",
            "--points",
            "--scribble",
            "--json",
            "--output-image",
            "--temperature",
            "--top-p",
            "--top-k",
            "--seed",
            "--max-new-tokens",
            "--device",
            "--threads",
            "--video",
            "--masks")) {
      assertTrue(d.out().contains(flag), "help lacks " + flag);
    }
  }

  @Test
  void missingRequiredOptionIsAUsageError() {
    Result r = run("describe", "--image", "x.png");
    assertEquals(DamCli.USAGE, r.code());
    assertTrue(r.err().contains("--model"), r.err());
  }

  @Test
  void unknownFlagIsAUsageError() {
    assertEquals(DamCli.USAGE, run("describe", "--model", "m", "--bogus").code());
  }

  @Test
  void missingImageFileIsBadInput(@TempDir Path dir) {
    Result r =
        run(
            "describe",
            "--model",
            dir.toString(),
            "--image",
            dir.resolve("none.jpg").toString(),
            "--mask",
            "m.png");
    assertEquals(DamCli.BAD_INPUT, r.code());
    assertTrue(r.err().contains("not found") && r.err().contains("none.jpg"), r.err());
    assertTrue(!r.err().contains("at io.damjava"), "no stack trace without --verbose");
  }

  @Test
  void malformedBoxIsBadInputNamingTheFlag(@TempDir Path dir) throws Exception {
    Path img = dir.resolve("a.png");
    ImageIO.write(new BufferedImage(8, 8, BufferedImage.TYPE_INT_RGB), "png", img.toFile());
    Result r =
        run("describe", "--model", dir.toString(), "--image", img.toString(), "--box", "1,2,x,4");
    assertEquals(DamCli.BAD_INPUT, r.code());
    assertTrue(r.err().contains("--box: 'x' is not a number"), r.err());
    Result three =
        run("describe", "--model", dir.toString(), "--image", img.toString(), "--box", "1,2,3");
    assertTrue(three.err().contains("expected 4 comma-separated numbers"), three.err());
  }

  @Test
  void noRegionIsBadInput(@TempDir Path dir) throws Exception {
    Path img = dir.resolve("a.png");
    ImageIO.write(new BufferedImage(8, 8, BufferedImage.TYPE_INT_RGB), "png", img.toFile());
    Result r = run("describe", "--model", dir.toString(), "--image", img.toString());
    assertEquals(DamCli.BAD_INPUT, r.code());
    assertTrue(r.err().contains("give a region"), r.err());
  }

  @Test
  void missingModelDirectoryIsAModelProblem(@TempDir Path dir) throws Exception {
    Path img = dir.resolve("a.png");
    ImageIO.write(new BufferedImage(8, 8, BufferedImage.TYPE_INT_RGB), "png", img.toFile());
    Path mask = dir.resolve("m.png");
    BufferedImage m = new BufferedImage(8, 8, BufferedImage.TYPE_BYTE_GRAY);
    m.getRaster().setSample(3, 3, 0, 255);
    ImageIO.write(m, "png", mask.toFile());
    Result r =
        run(
            "describe",
            "--model",
            dir.resolve("nope").toString(),
            "--image",
            img.toString(),
            "--mask",
            mask.toString());
    assertEquals(DamCli.MODEL, r.code());
    assertTrue(r.err().contains("dam convert"), r.err());
  }

  @Test
  void videoNeedsAFolderOfFramesAndMasks(@TempDir Path dir) throws Exception {
    Files.createDirectories(dir.resolve("frames"));
    Result r =
        run("describe", "--model", dir.toString(), "--video", dir.resolve("frames").toString());
    assertEquals(DamCli.BAD_INPUT, r.code());
    assertTrue(r.err().contains("--masks"), r.err());
    Result empty =
        run(
            "describe",
            "--model",
            dir.toString(),
            "--video",
            dir.resolve("frames").toString(),
            "--masks",
            dir.resolve("frames").toString());
    assertTrue(empty.err().contains("holds no PNG or JPEG"), empty.err());
  }

  @Test
  void overlayTintsTheInsideAndDrawsTheContourOnTheMaskEdge() {
    int w = 10;
    int h = 8;
    byte[] grey = new byte[w * h * 3];
    java.util.Arrays.fill(grey, (byte) 100);
    DamImage photo = DamImage.ofRgb(w, h, grey);
    byte[] mv = new byte[w * h];
    for (int y = 2; y <= 5; y++) {
      for (int x = 3; x <= 7; x++) {
        mv[y * w + x] = 1;
      }
    }
    BufferedImage out = RegionOverlay.draw(photo, List.of(Mask.of(mv, w, h)));
    int c = RegionOverlay.COLOURS[0];
    assertEquals(c, out.getRGB(3, 2) & 0xFFFFFF, "corner of the mask is on the contour");
    assertEquals(c, out.getRGB(7, 4) & 0xFFFFFF, "right edge is on the contour");
    int inside = out.getRGB(5, 4) & 0xFFFFFF;
    assertTrue(inside != c && inside != 0x646464, "inside is tinted, not outlined");
    assertEquals(0x646464, out.getRGB(0, 0) & 0xFFFFFF, "outside is untouched");
    assertEquals(0x646464, out.getRGB(2, 4) & 0xFFFFFF, "just left of the mask is untouched");
  }
}

package io.damjava.cli;

import static io.damjava.cli.Fixtures.CHELSEA;
import static io.damjava.cli.Fixtures.LEFT_EYE;
import static io.damjava.cli.Fixtures.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.damjava.api.DamImage;
import io.damjava.api.Mask;
import io.damjava.api.Region;
import io.damjava.cli.Fixtures.Result;
import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Flags, help, exit codes and messages that need no model. */
class CliUsageTest {

  @Test
  void topLevelHelpListsEveryCommandAndTheExitCodes() {
    Result top = run("--help");
    assertEquals(0, top.code());
    for (String c : List.of("describe", "convert", "serve", "DAM_HOME", "Exit codes")) {
      assertTrue(top.out().contains(c), "help lacks " + c + ":\n" + top.out());
    }
    Result version = run("--version");
    assertEquals(0, version.code());
    assertTrue(version.out().startsWith("dam "), version.out());
  }

  @Test
  void noCommandIsAUsageErrorThatPrintsTheUsage() {
    Result r = run();
    assertEquals(DamCli.USAGE, r.code());
    assertTrue(r.err().contains("give a command") && r.err().contains("describe"), r.err());
  }

  @Test
  void describeHelpNamesEveryOption() {
    Result d = run("describe", "--help");
    assertEquals(0, d.code());
    for (String flag :
        List.of(
            "--model",
            "--image",
            "--mask",
            "--box",
            "--points",
            "--scribble",
            "--segmenter",
            "--video",
            "--masks",
            "--query",
            "--temperature",
            "--top-p",
            "--top-k",
            "--seed",
            "--max-new-tokens",
            "--json",
            "--output-image",
            "--device",
            "--threads",
            "--verbose",
            "nvidia/DAM-3B")) {
      assertTrue(d.out().contains(flag), "describe help lacks " + flag);
    }
    assertEquals(0, run("help", "describe").code());
  }

  @Test
  void convertAndServeHelpNameTheirOptions() {
    Result c = run("convert", "--help");
    assertEquals(0, c.code());
    for (String flag :
        List.of("--checkpoint", "--from", "--out", "--precision", "--style", "--variant")) {
      assertTrue(c.out().contains(flag), "convert help lacks " + flag);
    }
    Result s = run("serve", "--help");
    assertEquals(0, s.code());
    for (String flag :
        List.of("--model", "--host", "--port", "--api-key", "--max-batch", "--workers")) {
      assertTrue(s.out().contains(flag), "serve help lacks " + flag);
    }
  }

  @Test
  void missingRequiredOptionIsAUsageError() {
    Result r = run("describe", "--image", "x.png");
    assertEquals(DamCli.USAGE, r.code());
    assertTrue(r.err().contains("--model") && r.err().contains("dam describe --help"), r.err());
  }

  @Test
  void unknownFlagIsAUsageError() {
    Result r = run("describe", "--model", "m", "--bogus");
    assertEquals(DamCli.USAGE, r.code());
    assertTrue(r.err().contains("--bogus"), r.err());
  }

  @Test
  void badOptionValuesAreUsageErrors() {
    String[] base = {
      "describe", "--model", "m", "--image", CHELSEA.toString(), "--mask", LEFT_EYE.toString()
    };
    assertUsage(base, List.of("--temperature", "-1"), "temperature");
    assertUsage(base, List.of("--top-p", "0"), "topP");
    assertUsage(base, List.of("--top-k", "-3"), "topK");
    assertUsage(base, List.of("--max-new-tokens", "0"), "maxNewTokens");
    assertUsage(base, List.of("--temperature", "warm"), "warm");
    assertUsage(base, List.of("--device", "tpu"), "--device");
    assertUsage(base, List.of("--threads", "-1"), "--threads");
    assertUsage(base, List.of("--query", " "), "query");
  }

  private static void assertUsage(String[] base, List<String> extra, String expected) {
    String[] args = Arrays.copyOf(base, base.length + extra.size());
    for (int i = 0; i < extra.size(); i++) {
      args[base.length + i] = extra.get(i);
    }
    Result r = run(args);
    assertEquals(DamCli.USAGE, r.code(), extra + ": " + r.err());
    assertTrue(r.err().contains(expected), extra + ": " + r.err());
  }

  @Test
  void malformedRegionsAreUsageErrorsNamingTheFlag() {
    String[] img = {"describe", "--model", "m", "--image", CHELSEA.toString()};
    Result r = run(concat(img, "--box", "1,2,x,4"));
    assertEquals(DamCli.USAGE, r.code());
    assertTrue(r.err().contains("--box: 'x' is not a number"), r.err());
    Result three = run(concat(img, "--box", "1,2,3"));
    assertTrue(three.err().contains("expected 4 comma-separated numbers"), three.err());
    Result inverted = run(concat(img, "--box", "10,10,5,20"));
    assertEquals(DamCli.USAGE, inverted.code());
    assertTrue(inverted.err().contains("x1 > x0"), inverted.err());
    Result pts = run(concat(img, "--points", "1;2"));
    assertEquals(DamCli.USAGE, pts.code());
    assertTrue(pts.err().contains("--points"), pts.err());
    Result negOnly = run(concat(img, "--points", "5,5,0"));
    assertEquals(DamCli.USAGE, negOnly.code());
    assertTrue(negOnly.err().contains("positive"), negOnly.err());
  }

  @Test
  void noRegionAndNoImageAreUsageErrors() {
    Result r = run("describe", "--model", "m", "--image", CHELSEA.toString());
    assertEquals(DamCli.USAGE, r.code());
    assertTrue(r.err().contains("give a region"), r.err());
    Result noImage = run("describe", "--model", "m", "--mask", LEFT_EYE.toString());
    assertEquals(DamCli.USAGE, noImage.code());
    assertTrue(noImage.err().contains("--image"), noImage.err());
    Result masksAlone =
        run(
            "describe",
            "--model",
            "m",
            "--image",
            CHELSEA.toString(),
            "--masks",
            Fixtures.INPUTS.toString());
    assertEquals(DamCli.USAGE, masksAlone.code());
  }

  @Test
  void missingImageFileIsBadInputWithoutStackTrace(@TempDir Path dir) {
    Result r =
        run(
            "describe",
            "--model",
            dir.toString(),
            "--image",
            dir.resolve("none.jpg").toString(),
            "--mask",
            LEFT_EYE.toString());
    assertEquals(DamCli.BAD_INPUT, r.code());
    assertTrue(r.err().contains("not found") && r.err().contains("none.jpg"), r.err());
    assertFalse(r.err().contains("\tat "), "no stack trace without --verbose");
  }

  @Test
  void verbosePrintsTheStackTrace(@TempDir Path dir) {
    Result r =
        run(
            "describe",
            "--verbose",
            "--model",
            dir.toString(),
            "--image",
            dir.resolve("none.jpg").toString(),
            "--mask",
            LEFT_EYE.toString());
    assertEquals(DamCli.BAD_INPUT, r.code());
    assertTrue(r.err().contains("\tat "), r.err());
  }

  @Test
  void unreadableFilesAreBadInput(@TempDir Path dir) throws Exception {
    Path junk = dir.resolve("junk.png");
    Files.writeString(junk, "not a picture");
    Result img = run("describe", "--model", "m", "--image", junk.toString(), "--mask", "m.png");
    assertEquals(DamCli.BAD_INPUT, img.code(), img.err());
    assertTrue(img.err().contains("junk.png"), img.err());
    Result mask =
        run("describe", "--model", "m", "--image", CHELSEA.toString(), "--mask", junk.toString());
    assertEquals(DamCli.BAD_INPUT, mask.code(), mask.err());
    assertTrue(mask.err().contains("junk.png"), mask.err());
    Result folder =
        run("describe", "--model", "m", "--image", dir.toString(), "--mask", LEFT_EYE.toString());
    assertEquals(DamCli.BAD_INPUT, folder.code(), folder.err());
  }

  @Test
  void imageOrMaskOverThePixelLimitIsRefusedBeforeLoadingAModel(@TempDir Path dir)
      throws Exception {
    // chelsea.png is 451x300 = 135300 pixels.
    Result img =
        run(
            "describe",
            "--model",
            "not-loaded",
            "--image",
            CHELSEA.toString(),
            "--mask",
            LEFT_EYE.toString(),
            "--max-image-pixels",
            "100000");
    assertEquals(DamCli.BAD_INPUT, img.code(), img.err());
    assertTrue(img.err().contains("above the limit of 100000"), img.err());
    assertTrue(img.err().contains("--max-image-pixels"), img.err());
    Result bad =
        run("describe", "--model", "m", "--image", CHELSEA.toString(), "--max-image-pixels", "0");
    assertEquals(DamCli.USAGE, bad.code(), bad.err());
    Result frames =
        run(
            "describe",
            "--model",
            "m",
            "--video",
            dir.toString(),
            "--masks",
            dir.toString(),
            "--max-frames",
            "3");
    assertEquals(DamCli.USAGE, frames.code(), frames.err());

    Path frameDir = Files.createDirectories(dir.resolve("frames"));
    BufferedImage tiny = new BufferedImage(4, 4, BufferedImage.TYPE_BYTE_GRAY);
    for (int i = 0; i < 12; i++) {
      ImageIO.write(tiny, "png", frameDir.resolve(String.format("%03d.png", i)).toFile());
    }
    Result tooMany =
        run(
            "describe",
            "--model",
            "not-loaded",
            "--video",
            frameDir.toString(),
            "--masks",
            frameDir.toString(),
            "--max-frames",
            "10");
    assertEquals(DamCli.BAD_INPUT, tooMany.code(), tooMany.err());
    assertTrue(tooMany.err().contains("more than 10 frames"), tooMany.err());
  }

  @Test
  void maskOfAnotherSizeIsBadInput(@TempDir Path dir) throws Exception {
    Path small = dir.resolve("small.png");
    BufferedImage m = new BufferedImage(8, 8, BufferedImage.TYPE_BYTE_GRAY);
    m.getRaster().setSample(3, 3, 0, 255);
    ImageIO.write(m, "png", small.toFile());
    Result r =
        run("describe", "--model", "m", "--image", CHELSEA.toString(), "--mask", small.toString());
    assertEquals(DamCli.BAD_INPUT, r.code());
    assertTrue(r.err().contains("same size"), r.err());
  }

  @Test
  void boxPointsAndScribbleWithoutSegmenterFailClearlyBeforeLoadingAModel() {
    String[] img = {"describe", "--model", "not-loaded", "--image", CHELSEA.toString()};
    for (String[] region :
        List.of(
            new String[] {"--box", "100,100,200,200"},
            new String[] {"--points", "150,150;20,20,0"},
            new String[] {"--scribble", LEFT_EYE.toString()})) {
      Result r = run(concat(img, region));
      assertEquals(DamCli.BAD_INPUT, r.code(), r.err());
      assertTrue(
          r.err().contains("need a segmenter") && r.err().contains("--segmenter"),
          region[0] + ": " + r.err());
    }
    Result outside = run(concat(img, "--box", "0,0,5000,10"));
    assertEquals(DamCli.BAD_INPUT, outside.code());
    assertTrue(outside.err().contains("outside"), outside.err());
  }

  @Test
  void missingSegmenterFolderIsAModelProblem(@TempDir Path dir) {
    Result r =
        run(
            "describe",
            "--model",
            "m",
            "--image",
            CHELSEA.toString(),
            "--box",
            "100,100,200,200",
            "--segmenter",
            dir.resolve("sam").toString());
    assertEquals(DamCli.MODEL, r.code());
    assertTrue(r.err().contains("--segmenter") && r.err().contains("no such folder"), r.err());
  }

  @Test
  void missingOrUnusableModelsAreModelProblems(@TempDir Path dir) {
    String[] rest = {"--image", CHELSEA.toString(), "--mask", LEFT_EYE.toString()};
    Result missing = run(concat(new String[] {"describe", "--model", "no/such/dir"}, rest));
    assertEquals(DamCli.MODEL, missing.code());
    assertTrue(missing.err().contains("model directory not found"), missing.err());
    Result notBundle = run(concat(new String[] {"describe", "--model", dir.toString()}, rest));
    assertEquals(DamCli.MODEL, notBundle.code());
    assertTrue(notBundle.err().contains("dam convert"), notBundle.err());
    String ckpt = Fixtures.REF.resolve("fixtures/tiny-image").toString();
    Result checkpoint = run(concat(new String[] {"describe", "--model", ckpt}, rest));
    assertEquals(DamCli.MODEL, checkpoint.code());
    assertTrue(
        checkpoint.err().contains("is a checkpoint, not a bundle")
            && checkpoint.err().contains("dam convert --checkpoint"),
        checkpoint.err());
  }

  @Test
  void outputImageIntoAMissingFolderIsBadInputBeforeTheModelLoads(@TempDir Path dir) {
    Result r =
        run(
            "describe",
            "--model",
            "not-loaded",
            "--image",
            CHELSEA.toString(),
            "--mask",
            LEFT_EYE.toString(),
            "--output-image",
            dir.resolve("no/such/out.png").toString());
    assertEquals(DamCli.BAD_INPUT, r.code());
    assertTrue(r.err().contains("--output-image"), r.err());
  }

  @Test
  void videoNeedsFramesAndMasks(@TempDir Path dir) throws Exception {
    Path frames = Files.createDirectories(dir.resolve("frames"));
    Result noMasks = run("describe", "--model", "m", "--video", frames.toString());
    assertEquals(DamCli.USAGE, noMasks.code());
    assertTrue(noMasks.err().contains("--masks"), noMasks.err());
    Result empty =
        run("describe", "--model", "m", "--video", frames.toString(), "--masks", frames.toString());
    assertEquals(DamCli.BAD_INPUT, empty.code());
    assertTrue(empty.err().contains("holds no PNG or JPEG"), empty.err());
    Result missing =
        run(
            "describe",
            "--model",
            "m",
            "--video",
            dir.resolve("clip.mp4").toString(),
            "--masks",
            frames.toString());
    assertEquals(DamCli.BAD_INPUT, missing.code());
    assertTrue(missing.err().contains("no such file"), missing.err());
    Result withImage =
        run(
            "describe",
            "--model",
            "m",
            "--video",
            frames.toString(),
            "--masks",
            frames.toString(),
            "--image",
            CHELSEA.toString());
    assertEquals(DamCli.USAGE, withImage.code());
  }

  @Test
  void aVideoFileWithoutFfmpegSaysSo(@TempDir Path dir) throws Exception {
    Path clip = Files.writeString(dir.resolve("clip.mp4"), "not really a video");
    Result r =
        run(
            Map.of("PATH", dir.toString()),
            "describe",
            "--model",
            "m",
            "--video",
            clip.toString(),
            "--masks",
            dir.toString());
    assertEquals(DamCli.BAD_INPUT, r.code());
    assertTrue(r.err().contains("needs ffmpeg on the PATH"), r.err());
  }

  @Test
  void tooFewFramesOrMismatchedMasksAreBadInput(@TempDir Path dir) throws Exception {
    Path frames = Files.createDirectories(dir.resolve("frames"));
    Path masks = Files.createDirectories(dir.resolve("masks"));
    for (int i = 0; i < 10; i++) {
      Files.copy(
          Fixtures.INPUTS.resolve("video_frame" + (i % 8) + ".png"),
          frames.resolve(String.format("f%02d.png", i)));
    }
    for (int i = 0; i < 5; i++) {
      Files.copy(
          Fixtures.INPUTS.resolve("video_mask" + i + ".png"),
          masks.resolve(String.format("m%02d.png", i)));
    }
    Result r =
        run("describe", "--model", "m", "--video", frames.toString(), "--masks", masks.toString());
    assertEquals(DamCli.BAD_INPUT, r.code());
    assertTrue(r.err().contains("holds 5 images"), r.err());
    Result few =
        run("describe", "--model", "m", "--video", masks.toString(), "--masks", masks.toString());
    assertEquals(DamCli.BAD_INPUT, few.code());
    assertTrue(few.err().contains("at least 8"), few.err());
  }

  @Test
  void convertFlagsAndInputs(@TempDir Path dir) throws Exception {
    String ckpt = Fixtures.REF.resolve("fixtures/tiny-image").toString();
    String out = dir.resolve("b").toString();
    Result neither = run("convert", "--out", out);
    assertEquals(DamCli.USAGE, neither.code());
    assertTrue(neither.err().contains("--checkpoint") && neither.err().contains("--from"));
    assertEquals(
        DamCli.USAGE,
        run("convert", "--checkpoint", ckpt, "--from", "nvidia/DAM-3B", "--out", out).code());
    Result precision = run("convert", "--checkpoint", ckpt, "--out", out, "--precision", "fp8");
    assertEquals(DamCli.USAGE, precision.code());
    assertTrue(precision.err().contains("fp32, fp16, int8, int4"), precision.err());
    Result combo = convert(ckpt, out, "--precision", "int4", "--style", "standard");
    assertEquals(DamCli.USAGE, combo.code());
    assertTrue(combo.err().contains("--style contrib"), combo.err());
    Result kv =
        run("convert", "--checkpoint", ckpt, "--out", out, "--kv", "shared", "--style", "standard");
    assertEquals(DamCli.USAGE, kv.code());
    assertTrue(kv.err().contains("--kv shared needs --style contrib"), kv.err());
    Result block = convert(ckpt, out, "--precision", "int4", "--block-size", "48");
    assertEquals(DamCli.USAGE, block.code());
    assertTrue(block.err().contains("power of two from 16 to 256"), block.err());
    Result fp32Block = run("convert", "--checkpoint", ckpt, "--out", out, "--block-size", "128");
    assertEquals(DamCli.USAGE, fp32Block.code());
    assertTrue(fp32Block.err().contains("--precision fp32 writes none"), fp32Block.err());
    Result badKv = run("convert", "--checkpoint", ckpt, "--out", out, "--kv", "paged");
    assertEquals(DamCli.USAGE, badKv.code());
    assertTrue(badKv.err().contains("growing, shared"), badKv.err());
    Result missing = run("convert", "--checkpoint", dir.resolve("nope").toString(), "--out", out);
    assertEquals(DamCli.BAD_INPUT, missing.code());
    Files.writeString(Files.createDirectories(dir.resolve("full")).resolve("x"), "x");
    Result full = run("convert", "--checkpoint", ckpt, "--out", dir.resolve("full").toString());
    assertEquals(DamCli.BAD_INPUT, full.code());
    assertTrue(full.err().contains("not empty"), full.err());
    Path broken = Files.createDirectories(dir.resolve("broken"));
    Files.writeString(broken.resolve("config.json"), "{}");
    Result bad = run("convert", "--checkpoint", broken.toString(), "--out", out);
    assertEquals(DamCli.MODEL, bad.code(), bad.err());
    assertFalse(Files.exists(dir.resolve("b")), "nothing half-written");
  }

  /** {@code dam convert --checkpoint CKPT --out OUT FLAGS...}. */
  private static Result convert(String ckpt, String out, String... flags) {
    List<String> args =
        new java.util.ArrayList<>(List.of("convert", "--checkpoint", ckpt, "--out", out));
    args.addAll(List.of(flags));
    return run(args.toArray(String[]::new));
  }

  @Test
  void progressDrawsABarOnATerminalAndFewLinesWhenPiped() {
    StringWriter bar = new StringWriter();
    ConsoleProgress p = new ConsoleProgress(new PrintWriter(bar), true, "convert");
    p.step("decoder layer 13/26");
    p.finish();
    assertTrue(
        bar.toString().startsWith("\rconvert [##############..............]  50%"), bar + "");
    StringWriter lines = new StringWriter();
    ConsoleProgress q = new ConsoleProgress(new PrintWriter(lines), false, "convert");
    for (int i = 0; i < 26; i++) {
      q.step("decoder layer " + i + "/26");
    }
    q.step("llm/model.safetensors: downloading of 100 bytes");
    for (int pct = 0; pct <= 100; pct += 10) {
      q.step("llm/model.safetensors: " + pct + "%");
    }
    q.finish();
    assertEquals(
        List.of(
            "dam: convert: decoder layer 0/26",
            "dam: convert: decoder layer 25/26",
            "dam: convert: llm/model.safetensors: downloading of 100 bytes",
            "dam: convert: llm/model.safetensors: 0%",
            "dam: convert: llm/model.safetensors: 100%"),
        lines.toString().lines().toList());
  }

  @Test
  void hubIdsResolveUnderDamHome() {
    Map<String, String> env = Map.of("DAM_HOME", "/data/dam");
    assertEquals(
        Path.of("/data/dam/models/nvidia/DAM-3B"), ModelResolver.cached(env, "nvidia/DAM-3B"));
    assertEquals(
        Path.of("/data/dam/models/nvidia/DAM-3B-Video@v1.0"),
        ModelResolver.cached(env, "nvidia/DAM-3B-Video@v1.0"));
    assertTrue(ModelResolver.HUB_ID.matcher("nvidia/DAM-3B").matches());
    assertFalse(ModelResolver.HUB_ID.matcher("models/DAM-3B/x").matches());
    assertFalse(ModelResolver.HUB_ID.matcher("/tmp/x").matches());
  }

  @Test
  void overlayTintsTheInsideAndDrawsTheContourOnTheMaskEdge() {
    int w = 10;
    int h = 8;
    byte[] grey = new byte[w * h * 3];
    Arrays.fill(grey, (byte) 100);
    DamImage photo = DamImage.ofRgb(w, h, grey);
    byte[] mv = new byte[w * h];
    for (int y = 2; y <= 5; y++) {
      for (int x = 3; x <= 7; x++) {
        mv[y * w + x] = 1;
      }
    }
    BufferedImage out = RegionOverlay.draw(photo, List.of(Region.mask(Mask.of(mv, w, h))));
    int c = RegionOverlay.COLOURS[0];
    assertEquals(c, out.getRGB(3, 2) & 0xFFFFFF, "corner of the mask is on the contour");
    assertEquals(c, out.getRGB(7, 4) & 0xFFFFFF, "right edge is on the contour");
    int inside = out.getRGB(5, 4) & 0xFFFFFF;
    assertTrue(inside != c && inside != 0x646464, "inside is tinted, not outlined");
    assertEquals(0x646464, out.getRGB(0, 0) & 0xFFFFFF, "outside is untouched");
    assertEquals(0x646464, out.getRGB(2, 4) & 0xFFFFFF, "just left of the mask is untouched");
  }

  @Test
  void overlayDrawsBoxesClicksAndStrokesAsGiven() {
    int w = 40;
    int h = 30;
    byte[] grey = new byte[w * h * 3];
    Arrays.fill(grey, (byte) 100);
    DamImage photo = DamImage.ofRgb(w, h, grey);
    byte[] stroke = new byte[w * h];
    stroke[25 * w + 30] = 1;
    BufferedImage out =
        RegionOverlay.draw(
            photo,
            List.of(
                Region.box(5, 5, 15, 12),
                Region.points(List.of(Region.Point.positive(30, 5), Region.Point.negative(2, 25))),
                Region.scribble(Mask.of(stroke, w, h))));
    int[] c = RegionOverlay.COLOURS;
    assertEquals(c[0], out.getRGB(5, 5) & 0xFFFFFF, "box corner");
    assertEquals(c[0], out.getRGB(14, 11) & 0xFFFFFF, "box far corner (x1, y1 exclusive)");
    assertEquals(0x646464, out.getRGB(10, 8) & 0xFFFFFF, "inside the box is left as is");
    assertEquals(0x646464, out.getRGB(15, 12) & 0xFFFFFF, "outside the box");
    assertEquals(c[1], out.getRGB(30, 5) & 0xFFFFFF, "positive click");
    assertEquals(RegionOverlay.NEGATIVE, out.getRGB(2, 25) & 0xFFFFFF, "negative click");
    assertEquals(c[2], out.getRGB(30, 25) & 0xFFFFFF, "stroke");
  }

  private static String[] concat(String[] a, String... b) {
    String[] r = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, r, a.length, b.length);
    return r;
  }
}

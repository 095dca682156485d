package io.damjava.cli;

import static io.damjava.cli.Fixtures.CHELSEA;
import static io.damjava.cli.Fixtures.INPUTS;
import static io.damjava.cli.Fixtures.LEFT_EYE;
import static io.damjava.cli.Fixtures.RIGHT_EYE;
import static io.damjava.cli.Fixtures.golden;
import static io.damjava.cli.Fixtures.run;
import static io.damjava.cli.Fixtures.tokens;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.damjava.api.DamImage;
import io.damjava.api.Mask;
import io.damjava.cli.Fixtures.Result;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code dam convert} then {@code dam describe} on the tiny reference checkpoints, in-process; the
 * greedy runs must give the reference goldens' tokens (tools/reference/goldens).
 */
class CliEndToEndTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static final String[] GREEDY = {"--temperature", "0", "--max-new-tokens", "32"};

  private static String[] describe(Path bundle, String... rest) {
    List<String> a = new ArrayList<>(List.of("describe", "--model", bundle.toString()));
    a.addAll(List.of(rest));
    return a.toArray(String[]::new);
  }

  private static String[] greedy(Path bundle, String... rest) {
    List<String> a = new ArrayList<>(List.of(describe(bundle, rest)));
    a.addAll(List.of(GREEDY));
    a.add("--threads");
    a.add("1");
    return a.toArray(String[]::new);
  }

  private static void assertGolden(String name, JsonNode caption) {
    JsonNode g = golden(name);
    assertArrayEquals(tokens(g.get("tokens")), tokens(caption.get("tokenIds")), name);
    assertEquals(g.get("text").asText().strip(), caption.get("text").asText(), name);
    assertEquals(g.get("spliced_length").asInt(), caption.get("promptTokens").asInt(), name);
    assertEquals("MAX_TOKENS", caption.get("stopReason").asText(), name);
    assertTrue(caption.get("timingsMs").get("total").asDouble() > 0, name);
  }

  @Test
  void convertWritesABundleAndPrintsItsPath() {
    Path bundle = Fixtures.tinyImage();
    assertTrue(Files.isRegularFile(bundle.resolve("dam-bundle.json")));
  }

  @Test
  void jsonGreedyRunEqualsTheGoldenTokens() throws Exception {
    Result r =
        run(
            greedy(
                Fixtures.tinyImage(),
                "--image",
                CHELSEA.toString(),
                "--mask",
                LEFT_EYE.toString(),
                "--json"));
    assertEquals(0, r.code(), r.err());
    assertGolden("chelsea_left_eye", JSON.readTree(r.out()));
    assertEquals("", r.err(), "piped stderr stays quiet for a local bundle");
  }

  @Test
  void textStreamsTheSameDescription() {
    Result r =
        run(
            greedy(
                Fixtures.tinyImage(),
                "--image",
                CHELSEA.toString(),
                "--mask",
                LEFT_EYE.toString()));
    assertEquals(0, r.code(), r.err());
    assertEquals(golden("chelsea_left_eye").get("text").asText().strip(), r.out().strip());
  }

  @Test
  void severalMasksAreDescribedInOneCall() throws Exception {
    Path bundle = Fixtures.tinyImage();
    String[] regions = {
      "--image", CHELSEA.toString(), "--mask", LEFT_EYE.toString(), "--mask", RIGHT_EYE.toString()
    };
    Result json = run(greedy(bundle, concat(regions, "--json")));
    assertEquals(0, json.code(), json.err());
    JsonNode arr = JSON.readTree(json.out());
    assertEquals(2, arr.size());
    assertGolden("chelsea_left_eye", arr.get(0));
    assertGolden("right_eye_same_image", arr.get(1));
    Result text = run(greedy(bundle, regions));
    assertEquals(0, text.code(), text.err());
    List<String> lines = text.out().lines().toList();
    assertEquals(2, lines.size(), text.out());
    assertEquals("[1] " + arr.get(0).get("text").asText(), lines.get(0));
    assertEquals("[2] " + arr.get(1).get("text").asText(), lines.get(1));
  }

  @Test
  void samplingOptionsReproduceTheSampledGolden() throws Exception {
    JsonNode g = golden("sampled_left_eye");
    JsonNode s = g.get("sampling");
    Result r =
        run(
            describe(
                Fixtures.tinyImage(),
                "--image",
                CHELSEA.toString(),
                "--mask",
                LEFT_EYE.toString(),
                "--temperature",
                s.get("temperature").asText(),
                "--top-p",
                s.get("top_p").asText(),
                "--top-k",
                s.get("top_k").asText(),
                "--seed",
                s.get("seed").asText(),
                "--max-new-tokens",
                "32",
                "--device",
                "cpu",
                "--json"));
    assertEquals(0, r.code(), r.err());
    assertGolden("sampled_left_eye", JSON.readTree(r.out()));
  }

  @Test
  void queryChangesThePrompt() throws Exception {
    Result r =
        run(
            describe(
                Fixtures.tinyImage(),
                "--image",
                CHELSEA.toString(),
                "--mask",
                LEFT_EYE.toString(),
                "--query",
                "What colour is it? Answer in many many words please.",
                "--max-new-tokens",
                "4",
                "--json"));
    assertEquals(0, r.code(), r.err());
    JsonNode c = JSON.readTree(r.out());
    assertNotEquals(
        golden("chelsea_left_eye").get("spliced_length").asInt(), c.get("promptTokens").asInt());
    assertTrue(c.get("tokenIds").size() <= 4);
  }

  @Test
  void outputImageHasTheContourOnTheMaskEdge(@TempDir Path dir) throws Exception {
    Path png = dir.resolve("out.png");
    Result r =
        run(
            greedy(
                Fixtures.tinyImage(),
                "--image",
                CHELSEA.toString(),
                "--mask",
                LEFT_EYE.toString(),
                "--output-image",
                png.toString()));
    assertEquals(0, r.code(), r.err());
    BufferedImage photo = ImageIO.read(CHELSEA.toFile());
    BufferedImage out = ImageIO.read(png.toFile());
    Mask mask = Mask.read(LEFT_EYE);
    int colour = RegionOverlay.COLOURS[0];
    int edges = 0;
    int tinted = 0;
    for (int y = 0; y < mask.height(); y++) {
      for (int x = 0; x < mask.width(); x++) {
        int got = out.getRGB(x, y) & 0xFFFFFF;
        int was = photo.getRGB(x, y) & 0xFFFFFF;
        if (!mask.get(x, y)) {
          assertEquals(was, got, "outside the mask at " + x + "," + y);
        } else if (RegionOverlay.isEdge(mask, x, y)) {
          assertEquals(colour, got, "contour at " + x + "," + y);
          edges++;
        } else {
          int blue = (int) Math.round((was & 0xFF) * 0.6 + (colour & 0xFF) * 0.4);
          assertEquals(blue, got & 0xFF, "tint at " + x + "," + y);
          tinted++;
        }
      }
    }
    assertTrue(edges > 10 && tinted > edges, edges + " edge, " + tinted + " tinted pixels");
  }

  @Test
  void videoFromAFolderEqualsTheGolden(@TempDir Path dir) throws Exception {
    Path[] fm = videoFolders(dir);
    Path frames = fm[0];
    Path masks = fm[1];
    Result r =
        run(
            greedy(
                Fixtures.tinyJoint(),
                "--video",
                frames.toString(),
                "--masks",
                masks.toString(),
                "--json"));
    assertEquals(0, r.code(), r.err());
    assertGolden("video_8_frames", JSON.readTree(r.out()));
    Result text =
        run(
            greedy(
                Fixtures.tinyJoint(), "--video", frames.toString(), "--masks", masks.toString()));
    assertEquals(0, text.code(), text.err());
    assertEquals(golden("video_8_frames").get("text").asText().strip(), text.out().strip());
  }

  @Test
  void videoFileThroughFfmpegEqualsTheGolden(@TempDir Path dir) throws Exception {
    Path ffmpeg = VideoInput.onPath("ffmpeg", System.getenv()).orElse(null);
    assumeTrue(ffmpeg != null, "ffmpeg is not on the PATH: video files are not tested here");
    Path masks = videoFolders(dir)[1];
    Path clip =
        Fixtures.encode(
            ffmpeg, INPUTS.resolve("video_frame%d.png"), 8, "png", dir.resolve("clip.mkv"));
    Result r =
        run(
            greedy(
                Fixtures.tinyJoint(),
                "--video",
                clip.toString(),
                "--masks",
                masks.toString(),
                "--json"));
    assertEquals(0, r.code(), r.err());
    assertGolden("video_8_frames", JSON.readTree(r.out()));
  }

  @Test
  void videoOnAnImageOnlyBundleIsBadInput(@TempDir Path dir) throws Exception {
    Path[] fm = videoFolders(dir);
    Result r =
        run(greedy(Fixtures.tinyImage(), "--video", fm[0].toString(), "--masks", fm[1].toString()));
    assertEquals(DamCli.BAD_INPUT, r.code(), r.err());
    assertTrue(r.err().contains("image-only"), r.err());
  }

  /** The 8 golden frames and their masks, in two folders. */
  private static Path[] videoFolders(Path dir) throws Exception {
    Path frames = Files.createDirectories(dir.resolve("frames"));
    Path masks = Files.createDirectories(dir.resolve("masks"));
    for (int i = 0; i < 8; i++) {
      Files.copy(INPUTS.resolve("video_frame" + i + ".png"), frames.resolve("f" + i + ".png"));
      Files.copy(INPUTS.resolve("video_mask" + i + ".png"), masks.resolve("m" + i + ".png"));
    }
    return new Path[] {frames, masks};
  }

  @Test
  void hubIdIsLoadedFromTheCacheInDamHome(@TempDir Path home) throws Exception {
    Path cached = ModelResolver.cached(Map.of("DAM_HOME", home.toString()), "nvidia/DAM-3B");
    Files.createDirectories(cached);
    try (Stream<Path> s = Files.list(Fixtures.tinyImage())) {
      for (Path f : s.toList()) {
        Files.copy(f, cached.resolve(f.getFileName()));
      }
    }
    Result r =
        run(
            Map.of("DAM_HOME", home.toString(), "DAM_PROGRESS", "lines"),
            greedy(
                Path.of("nvidia/DAM-3B"),
                "--image",
                CHELSEA.toString(),
                "--mask",
                LEFT_EYE.toString(),
                "--json"));
    assertEquals(0, r.code(), r.err());
    assertGolden("chelsea_left_eye", JSON.readTree(r.out()));
    assertFalse(r.err().contains("downloading"), r.err());
  }

  @Test
  void anEmptySegmenterFolderIsRefusedClearly(@TempDir Path sam) {
    Result r =
        run(
            greedy(
                Fixtures.tinyImage(),
                "--image",
                CHELSEA.toString(),
                "--box",
                "100,100,200,200",
                "--segmenter",
                sam.toString()));
    // Before SAM lands the engine refuses the region (3); with it, an empty folder is not a
    // segmenter bundle (4). Either way: a clear message, no stack trace.
    assertTrue(r.code() == DamCli.BAD_INPUT || r.code() == DamCli.MODEL, r.code() + r.err());
    assertTrue(r.err().contains("segment"), r.err());
    assertFalse(r.err().contains("\tat "), r.err());
  }

  @Test
  void boxPointsAndScribbleAreDescribedThroughATinySegmenter(@TempDir Path dir) throws Exception {
    Path sam = io.damjava.convert.TinySam.samBundle(dir.resolve("sam"));
    Path png = dir.resolve("regions.png");
    Result r =
        run(
            greedy(
                Fixtures.tinyImage(),
                "--image",
                CHELSEA.toString(),
                "--segmenter",
                sam.toString(),
                "--box",
                "100,80,300,200",
                "--points",
                "200,150;20,20,0",
                "--scribble",
                LEFT_EYE.toString(),
                "--json",
                "--output-image",
                png.toString()));
    assertEquals(0, r.code(), r.err());
    JsonNode arr = JSON.readTree(r.out());
    assertEquals(3, arr.size());
    for (JsonNode c : arr) {
      assertEquals(32, c.get("tokenIds").size(), c.toString());
    }
    BufferedImage out = ImageIO.read(png.toFile());
    assertEquals(RegionOverlay.COLOURS[0], out.getRGB(100, 80) & 0xFFFFFF, "box outline");
    assertEquals(RegionOverlay.COLOURS[1], out.getRGB(200, 150) & 0xFFFFFF, "click");
    // The segmenter's masks are tinted too, not only the prompts: far more pixels change than the
    // box outline, the two dots and the stroke cover.
    DamImage photo = DamImage.read(CHELSEA);
    int changed = 0;
    for (int y = 0; y < photo.height(); y++) {
      for (int x = 0; x < photo.width(); x++) {
        int rgb =
            (photo.sample(x, y, 0) << 16) | (photo.sample(x, y, 1) << 8) | photo.sample(x, y, 2);
        if ((out.getRGB(x, y) & 0xFFFFFF) != rgb) {
          changed++;
        }
      }
    }
    int stroke = Mask.read(LEFT_EYE).area();
    assertTrue(changed > 2 * (2 * (200 + 120) + stroke + 100), "tinted pixels: " + changed);
  }

  @Test
  void cudaOnACpuOnlyRuntimeIsAModelProblem() {
    Result r =
        run(
            greedy(
                Fixtures.tinyImage(),
                "--image",
                CHELSEA.toString(),
                "--mask",
                LEFT_EYE.toString(),
                "--device",
                "cuda:0"));
    assertTrue(r.code() == DamCli.MODEL || r.code() == 0, r.code() + " " + r.err());
  }

  private static String[] concat(String[] a, String... b) {
    List<String> l = new ArrayList<>(List.of(a));
    l.addAll(List.of(b));
    return l.toArray(String[]::new);
  }
}

package io.damjava.cli;

import static io.damjava.cli.Fixtures.REF;
import static io.damjava.cli.Fixtures.run;
import static io.damjava.cli.Fixtures.tokens;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.damjava.api.Caption;
import io.damjava.api.DescribeAnything;
import io.damjava.api.DescribeRequest;
import io.damjava.api.FrameSource;
import io.damjava.api.GenerationOptions;
import io.damjava.api.Mask;
import io.damjava.api.Region;
import io.damjava.api.VideoMasks;
import io.damjava.api.VideoRegion;
import io.damjava.cli.Fixtures.Result;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code dam convert} of the tiny SAM 2.1 checkpoint, then {@code dam describe --video DIR --frame
 * N --mask|--box ... --segmenter DIR}, in-process, over the 14 committed frames: the caption must
 * equal the library's {@code describe(DescribeRequest.video(VideoRegion))}, the JSON must name the
 * picked frames, and {@code --output-image DIR} must hold those 8 frames with the tracked mask
 * tinted. Bad input: exit codes and messages.
 */
class VideoTrackingCliTest {
  static final Path FRAMES = REF.resolve("sam2/frames");
  static final Path PROMPT = REF.resolve("sam2/goldens/mask_f10_prompt.png");
  static final ObjectMapper JSON = new ObjectMapper();

  static List<String> describe(String... rest) {
    List<String> a =
        new ArrayList<>(
            List.of(
                "describe",
                "--model",
                Fixtures.tinyJoint().toString(),
                "--segmenter",
                Fixtures.sam2Tiny().toString(),
                "--temperature",
                "0",
                "--max-new-tokens",
                "6",
                "--threads",
                "1"));
    a.addAll(List.of(rest));
    return a;
  }

  @Test
  void convertWritesASam2Bundle() {
    assertTrue(Files.isRegularFile(Fixtures.sam2Tiny().resolve("sam2-bundle.json")));
  }

  @Test
  void maskOnOneFrameIsTrackedDescribedAndDrawn(@TempDir Path dir) throws Exception {
    Path out = dir.resolve("overlay");
    List<String> args =
        describe(
            "--video",
            FRAMES.toString(),
            "--frame",
            "10",
            "--mask",
            PROMPT.toString(),
            "--json",
            "--output-image",
            out.toString());
    Result r = run(args.toArray(String[]::new));
    assertEquals(0, r.code(), r.err());
    JsonNode c = JSON.readTree(r.out());
    int[] picks = tokens(c.get("frames"));
    assertArrayEquals(new int[] {0, 1, 3, 5, 7, 9, 11, 13}, picks);

    VideoRegion v = new VideoRegion(FrameSource.folder(FRAMES), 10, Region.mask(Mask.read(PROMPT)));
    GenerationOptions greedy = GenerationOptions.builder().temperature(0).maxNewTokens(6).build();
    VideoMasks used;
    Caption want;
    try (DescribeAnything dam =
        DescribeAnything.builder()
            .model(Fixtures.tinyJoint())
            .segmenter(Fixtures.sam2Tiny())
            .threads(1)
            .build()) {
      want = dam.describe(DescribeRequest.video(v).options(greedy));
      used = dam.segmentVideo(v);
    }
    assertArrayEquals(want.tokenIds(), tokens(c.get("tokenIds")));

    Result text =
        run(
            describe("--video", FRAMES.toString(), "--frame", "10", "--mask", PROMPT.toString())
                .toArray(String[]::new));
    assertEquals(0, text.code(), text.err());
    assertEquals(want.text().strip(), text.out().strip());

    for (int i = 0; i < picks.length; i++) {
      Path png = out.resolve(String.format("frame_%06d.png", picks[i]));
      assertTrue(Files.isRegularFile(png), png.toString());
      BufferedImage drawn = ImageIO.read(png.toFile());
      BufferedImage raw =
          ImageIO.read(FRAMES.resolve(String.format("frame_%02d.png", picks[i])).toFile());
      Mask m = used.masks().get(i);
      Mask.Box b = m.boundingBox();
      int cx = (b.x0() + b.x1()) / 2;
      int cy = (b.y0() + b.y1()) / 2;
      int inside = -1;
      for (int y = b.y0(); y < b.y1() && inside < 0; y++) {
        for (int x = b.x0(); x < b.x1(); x++) {
          if (m.get(x, y) && !RegionOverlay.isEdge(m, x, y)) {
            inside = y * 160 + x;
            break;
          }
        }
      }
      assertTrue(
          inside >= 0, "frame " + picks[i] + " mask has an interior, centre " + cx + "," + cy);
      int ix = inside % 160;
      int iy = inside / 160;
      assertNotEquals(raw.getRGB(ix, iy), drawn.getRGB(ix, iy), "tinted inside, frame " + picks[i]);
      int outside = far(m);
      assertEquals(
          raw.getRGB(outside % 160, outside / 160),
          drawn.getRGB(outside % 160, outside / 160),
          "untouched far outside, frame " + picks[i]);
    }
    try (var s = Files.list(out)) {
      assertEquals(8, s.count());
    }
  }

  /** A pixel at least 4 px from every mask pixel. */
  static int far(Mask m) {
    for (int y = 0; y < m.height(); y++) {
      for (int x = 0; x < m.width(); x++) {
        boolean near = false;
        for (int dy = -4; dy <= 4 && !near; dy++) {
          for (int dx = -4; dx <= 4 && !near; dx++) {
            int xx = x + dx;
            int yy = y + dy;
            near = xx >= 0 && yy >= 0 && xx < m.width() && yy < m.height() && m.get(xx, yy);
          }
        }
        if (!near) {
          return y * m.width() + x;
        }
      }
    }
    throw new AssertionError("the mask covers the frame");
  }

  @Test
  void aBoxOnOneFrameRunsToo() throws Exception {
    Result r =
        run(
            describe("--video", FRAMES.toString(), "--frame", "3", "--box", "47,54,79,86", "--json")
                .toArray(String[]::new));
    assertEquals(0, r.code(), r.err());
    assertEquals(8, JSON.readTree(r.out()).get("frames").size());
  }

  @Test
  void badInputHasItsExitCodeAndMessage(@TempDir Path dir) throws Exception {
    Result outside =
        run(
            describe("--video", FRAMES.toString(), "--frame", "14", "--points", "60,60")
                .toArray(String[]::new));
    assertEquals(DamCli.BAD_INPUT, outside.code(), outside.err());
    assertTrue(outside.err().contains("frames 0..13"), outside.err());

    Result box =
        run(
            describe("--video", FRAMES.toString(), "--frame", "3", "--box", "100,50,170,100")
                .toArray(String[]::new));
    assertEquals(DamCli.BAD_INPUT, box.code(), box.err());
    assertTrue(box.err().contains("frame 3: box"), box.err());

    Result lost =
        run(
            describe("--video", FRAMES.toString(), "--frame", "6", "--points", "96,63")
                .toArray(String[]::new));
    assertEquals(DamCli.BAD_INPUT, lost.code(), lost.err());
    assertTrue(lost.err().contains("empty on picked frame [9]"), lost.err());

    Path few = Files.createDirectories(dir.resolve("few"));
    for (int i = 0; i < 7; i++) {
      Files.copy(FRAMES.resolve(String.format("frame_%02d.png", i)), few.resolve(i + ".png"));
    }
    Result short7 =
        run(describe("--video", few.toString(), "--points", "60,60").toArray(String[]::new));
    assertEquals(DamCli.BAD_INPUT, short7.code(), short7.err());
    assertTrue(short7.err().contains("at least 8"), short7.err());

    Result two =
        run(
            describe("--video", FRAMES.toString(), "--points", "60,60", "--box", "1,1,9,9")
                .toArray(String[]::new));
    assertEquals(DamCli.USAGE, two.code(), two.err());

    Result noSeg =
        run(
            "describe",
            "--model",
            Fixtures.tinyJoint().toString(),
            "--video",
            FRAMES.toString(),
            "--frame",
            "0",
            "--points",
            "60,60");
    assertEquals(DamCli.USAGE, noSeg.code(), noSeg.err());
    assertTrue(noSeg.err().contains("SAM 2.1"), noSeg.err());

    Path clip = Files.writeString(dir.resolve("clip.mp4"), "not really a video");
    Result undecodable =
        run(describe("--video", clip.toString(), "--points", "60,60").toArray(String[]::new));
    assertEquals(DamCli.BAD_INPUT, undecodable.code(), undecodable.err());
  }

  @Test
  void aVideoFileGoesThroughFfmpeg(@TempDir Path dir) throws Exception {
    Path ffmpeg = VideoInput.onPath("ffmpeg", System.getenv()).orElse(null);
    assumeTrue(ffmpeg != null, "ffmpeg is not on the PATH: video files are not tested here");
    Path clip =
        Fixtures.encode(
            ffmpeg, FRAMES.resolve("frame_%02d.png"), 10, "ffv1", dir.resolve("clip.avi"));
    Result fromFile =
        run(
            describe(
                    "--video",
                    clip.toString(),
                    "--frame",
                    "10",
                    "--mask",
                    PROMPT.toString(),
                    "--json")
                .toArray(String[]::new));
    Result fromFolder =
        run(
            describe(
                    "--video",
                    FRAMES.toString(),
                    "--frame",
                    "10",
                    "--mask",
                    PROMPT.toString(),
                    "--json")
                .toArray(String[]::new));
    assertEquals(0, fromFile.code(), fromFile.err());
    assertEquals(0, fromFolder.code(), fromFolder.err());
    assertEquals(
        JSON.readTree(fromFolder.out()).get("frames"), JSON.readTree(fromFile.out()).get("frames"));
  }
}

package io.damjava.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.damjava.api.ImageLimits;
import io.damjava.api.InvalidInputException;
import java.awt.image.BufferedImage;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Video files mutated from two real encodings of the SAM 2.1 test frames (FFV1 in AVI, MPEG-4 Part
 * 2 in MP4) and read the way {@code dam describe --video FILE} reads them (ffmpeg, then the frame
 * images): each must load 8 frames or be refused with an {@link InvalidInputException} carrying a
 * message; any other exception, or a hang, fails. A failing input is kept in {@code
 * target/video-fuzz-failures/}. Needs ffmpeg on the PATH (.ci/run installs it).
 */
class VideoFuzzTest {
  static final int INPUTS = 160;
  static Path ffmpeg;
  static final List<byte[]> seeds = new ArrayList<>();
  @TempDir static Path work;

  @BeforeAll
  static void encode() throws Exception {
    ffmpeg = VideoInput.onPath("ffmpeg", System.getenv()).orElse(null);
    assumeTrue(ffmpeg != null, "ffmpeg is not on the PATH: video files are not fuzzed here");
    for (String[] codec : new String[][] {{"ffv1", "avi"}, {"mpeg4", "mp4"}}) {
      Path clip =
          Fixtures.encode(
              ffmpeg,
              VideoTrackingCliTest.FRAMES.resolve("frame_%02d.png"),
              10,
              codec[0],
              work.resolve("seed." + codec[1]));
      seeds.add(Files.readAllBytes(clip));
    }
    Path masks = Files.createDirectories(work.resolve("masks"));
    BufferedImage m = new BufferedImage(160, 120, BufferedImage.TYPE_BYTE_GRAY);
    m.getRaster().setSample(80, 60, 0, 255);
    for (int i = 0; i < 8; i++) {
      ImageIO.write(m, "png", masks.resolve(String.format("%02d.png", i)).toFile());
    }
  }

  @Test
  void mutatedVideosAreReadOrRefusedWithAMessage() throws Exception {
    Random r = new Random(21);
    Set<Integer> distinct = new HashSet<>();
    int accepted = 0;
    int refused = 0;
    for (int i = 0; i < INPUTS; i++) {
      int which = i % seeds.size();
      byte[] input = mutate(r, seeds.get(which));
      distinct.add(Arrays.hashCode(input));
      Path file = work.resolve("input-" + i + (which == 0 ? ".avi" : ".mp4"));
      Files.write(file, input);
      try {
        VideoInput v =
            VideoInput.load(
                file,
                work.resolve("masks"),
                Map.of("PATH", System.getenv("PATH")),
                ImageLimits.defaults(),
                VideoInput.DEFAULT_MAX_FRAMES);
        assertEquals(8, v.frames().size());
        accepted++;
      } catch (InvalidInputException e) {
        assertFalse(e.getMessage() == null || e.getMessage().isBlank(), "no message");
        refused++;
      } catch (Exception | Error e) {
        Path kept = Files.createDirectories(Path.of("target/video-fuzz-failures"));
        Files.write(kept.resolve(file.getFileName()), input);
        fail("input " + i + " (kept in " + kept + "): " + e, e);
      } finally {
        Files.delete(file);
      }
    }
    System.out.printf(
        "video fuzz: %d inputs (%d distinct), %d read, %d refused%n",
        INPUTS, distinct.size(), accepted, refused);
    assertTrue(distinct.size() >= INPUTS * 9 / 10, "distinct inputs: " + distinct.size());
    // the mutations reach both outcomes, so both paths were exercised
    assertTrue(accepted > 0 && refused > 0, accepted + " accepted, " + refused + " refused");
  }

  /**
   * One to three of: byte flips, truncation, an interesting int written, a chunk cut or doubled.
   */
  static byte[] mutate(Random r, byte[] seed) {
    byte[] b = seed.clone();
    int rounds = 1 + r.nextInt(3);
    for (int k = 0; k < rounds && b.length > 16; k++) {
      switch (r.nextInt(5)) {
        case 0 -> {
          for (int j = 1 + r.nextInt(8); j > 0; j--) {
            b[r.nextInt(b.length)] ^= (byte) (1 << r.nextInt(8));
          }
        }
        case 1 -> b = Arrays.copyOf(b, r.nextInt(b.length));
        case 2 -> {
          int at = r.nextInt(Math.min(b.length - 4, 512)); // headers: box sizes, chunk lengths
          int[] values = {0, -1, Integer.MAX_VALUE, 0x10000, 60000};
          ByteBuffer.wrap(b, at, 4).putInt(values[r.nextInt(values.length)]);
        }
        case 3 -> {
          int from = r.nextInt(b.length);
          int to = Math.min(b.length, from + 1 + r.nextInt(4096));
          byte[] cut = new byte[b.length - (to - from)];
          System.arraycopy(b, 0, cut, 0, from);
          System.arraycopy(b, to, cut, from, b.length - to);
          b = cut;
        }
        default -> {
          int from = r.nextInt(b.length);
          int len = Math.min(b.length - from, 1 + r.nextInt(4096));
          byte[] twice = new byte[b.length + len];
          System.arraycopy(b, 0, twice, 0, from + len);
          System.arraycopy(b, from, twice, from + len, b.length - from);
          b = twice;
        }
      }
    }
    return b;
  }
}

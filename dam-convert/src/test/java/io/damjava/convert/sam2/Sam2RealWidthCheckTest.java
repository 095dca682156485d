package io.damjava.convert.sam2;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.damjava.onnx.sam2.Sam2Bundle;
import io.damjava.onnx.sam2.Sam2VideoPredictor;
import java.awt.image.BufferedImage;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Opt-in: the Java predictor at the real facebook/sam2.1-hiera-tiny widths (random weights) against
 * the reference. Skipped unless {@code -Dsam2.realWidth=CKPT_DIR,GOLDEN_DIR}. Make them with:
 *
 * <pre>
 * /usr/bin/python3 tools/reference/sam2/make_sam2_checkpoint.py --preset hiera-tiny --out CKPT_DIR
 * /usr/bin/python3 tools/reference/sam2/make_sam2_goldens.py --real-width CKPT_DIR GOLDEN_DIR
 * </pre>
 *
 * Same checks and tolerances as Sam2VideoPredictorGoldenTest: 3 frames, a click on frame 1, forward
 * then backward.
 */
class Sam2RealWidthCheckTest {
  @Test
  void hieraTinyWidths(@TempDir Path dir) throws Exception {
    String prop = System.getProperty("sam2.realWidth");
    assumeTrue(prop != null, "set -Dsam2.realWidth=CKPT_DIR,GOLDEN_DIR to run");
    Path ckpt = Path.of(prop.split(",")[0]);
    Path gold = Path.of(prop.split(",")[1]);
    long t0 = System.nanoTime();
    Sam2Bundle b = Sam2Bundle.read(Sam2Bundles.write(ckpt, dir.resolve("bundle")));
    long t1 = System.nanoTime();
    JsonNode g = new ObjectMapper().readTree(gold.resolve("sam2_goldens.json").toFile());
    JsonNode c = g.get("cases").get(0);
    int n = g.get("num_frames").asInt();
    int s = b.params().imageSize();
    int side = s / 4;
    int vh = g.get("video_size").get(0).asInt();
    int vw = g.get("video_size").get(1).asInt();
    List<float[]> px = Sam2VideoPredictorGoldenTest.loadPixels(n, s);
    ByteBuffer lb =
        ByteBuffer.wrap(Files.readAllBytes(gold.resolve(c.get("lowres_file").asText())))
            .order(ByteOrder.LITTLE_ENDIAN);
    float[] low = new float[lb.remaining() / 4];
    lb.asFloatBuffer().get(low);
    try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
      o.setIntraOpNumThreads(2);
      try (Sam2VideoPredictor p =
          Sam2VideoPredictor.open(b, OrtEnvironment.getEnvironment(), o, n, px::get)) {
        JsonNode pt = c.get("points").get(0);
        long t2 = System.nanoTime();
        p.addPrompt(
            c.get("frame").asInt(),
            new float[][] {{(float) pt.get(0).asDouble(), (float) pt.get(1).asDouble()}},
            new int[] {1},
            null,
            vw,
            vh);
        List<Sam2VideoPredictor.Frame> all = new ArrayList<>(p.propagate(false));
        List<Sam2VideoPredictor.Frame> back = p.propagate(true);
        all.addAll(back.subList(1, back.size()));
        long t3 = System.nanoTime();
        double maxLogit = 0;
        double maxScore = 0;
        for (Sam2VideoPredictor.Frame fr : all) {
          JsonNode gf = c.get("frames").get(fr.frame());
          assertEquals(gf.get("chosen_token").asInt(), fr.token(), "frame " + fr.frame());
          assertEquals(gf.get("object_score").asDouble() <= 0, fr.occluded());
          maxScore =
              Math.max(maxScore, Math.abs(fr.objectScore() - gf.get("object_score").asDouble()));
          for (int i = 0; i < side * side; i++) {
            double w = low[fr.frame() * side * side + i];
            maxLogit = Math.max(maxLogit, Math.abs(fr.lowRes()[i] - w) / Math.max(1, Math.abs(w)));
          }
          Set<Long> near = new HashSet<>();
          gf.get("near_threshold")
              .forEach(q -> near.add(q.get(1).asLong() * vw + q.get(0).asLong()));
          BufferedImage want = ImageIO.read(gold.resolve(gf.get("mask").asText()).toFile());
          boolean[] got = io.damjava.onnx.sam2.Sam2Numerics.videoMask(fr.lowRes(), side, vh, vw);
          int differ = 0;
          for (int y = 0; y < vh; y++) {
            for (int x = 0; x < vw; x++) {
              boolean w = want.getRaster().getSample(x, y, 0) != 0;
              if (w != got[y * vw + x] && !near.contains((long) y * vw + x)) {
                differ++;
              }
            }
          }
          assertEquals(0, differ, "frame " + fr.frame() + ": mask pixels differ");
        }
        System.out.printf(
            "hiera-tiny widths: %d frames, masks identical, max |score diff| %.3g, max rel logit"
                + " diff %.3g; convert %.1f s, %d frames tracked in %.1f s (2 threads)%n",
            all.size(), maxScore, maxLogit, (t1 - t0) / 1e9, all.size(), (t3 - t2) / 1e9);
        assertTrue(maxScore < 1e-3, "score " + maxScore);
        assertTrue(maxLogit < 1e-3, "logits " + maxLogit);
      }
    }
  }
}

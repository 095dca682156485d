package io.damjava.convert.sam2;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.damjava.onnx.sam2.Sam2Bundle;
import io.damjava.onnx.sam2.Sam2Numerics;
import io.damjava.onnx.sam2.Sam2VideoPredictor;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Refinement against the reference (tools/reference/sam2/goldens/refine_goldens.json): a click on
 * frame 6, propagated forward and back, then a second click on frame 9 (where the first pass lost
 * the object), propagated forward and back from there. Every frame of the second pass must match:
 * conditioning flag, chosen token, occlusion, binary mask (near-threshold pixels excepted), object
 * score and logits within 1e-3 x max(1, |v|), as in Sam2VideoPredictorGoldenTest.
 */
class Sam2RefineGoldenTest {
  @Test
  void aSecondClickOnAnotherFrameRefinesLikeTheReference(@TempDir Path dir) throws Exception {
    Path gold = Sam2VideoPredictorGoldenTest.GOLD;
    JsonNode g = new ObjectMapper().readTree(gold.resolve("refine_goldens.json").toFile());
    Sam2Bundle b =
        Sam2Bundle.read(Sam2Bundles.write(Sam2VideoPredictorGoldenTest.CKPT, dir.resolve("b")));
    int s = b.params().imageSize();
    int side = s / 4;
    List<float[]> px = Sam2VideoPredictorGoldenTest.loadPixels(14, s);
    float[] low = Sam2VideoPredictorGoldenTest.lowres(g.get("lowres_file").asText());
    Map<Integer, Sam2VideoPredictor.Frame> second = new HashMap<>();
    try (OrtSession.SessionOptions o = new OrtSession.SessionOptions();
        Sam2VideoPredictor p =
            Sam2VideoPredictor.open(b, OrtEnvironment.getEnvironment(), o, px.size(), px::get)) {
      for (String step : new String[] {"first", "second"}) {
        JsonNode c = g.get(step);
        JsonNode pt = c.get("points").get(0);
        p.addPrompt(
            c.get("frame").asInt(),
            new float[][] {{(float) pt.get(0).asDouble(), (float) pt.get(1).asDouble()}},
            new int[] {c.get("labels").get(0).asInt()},
            null,
            160,
            120);
        for (boolean reverse : new boolean[] {false, true}) {
          p.propagate(
              reverse,
              fr -> {
                if (step.equals("second")) {
                  second.put(fr.frame(), fr);
                }
              });
        }
      }
      assertTrue(p.bank().isConditioning(6) && p.bank().isConditioning(9));
    }
    assertEquals(14, second.size());
    double maxScore = 0;
    double maxLogit = 0;
    for (JsonNode gf : g.get("frames")) {
      int f = gf.get("frame").asInt();
      Sam2VideoPredictor.Frame fr = second.get(f);
      String where = "frame " + f;
      assertEquals(gf.get("chosen_token").asInt(), fr.token(), where + " token");
      assertEquals(gf.get("object_score").asDouble() <= 0, fr.occluded(), where + " occluded");
      maxScore = Math.max(maxScore, Math.abs(fr.objectScore() - gf.get("object_score").asDouble()));
      for (int i = 0; i < side * side; i++) {
        double w = low[f * side * side + i];
        maxLogit = Math.max(maxLogit, Math.abs(fr.lowRes()[i] - w) / Math.max(1, Math.abs(w)));
      }
      Set<Integer> near = new HashSet<>();
      gf.get("near_threshold").forEach(q -> near.add(q.get(1).asInt() * 160 + q.get(0).asInt()));
      BufferedImage want = ImageIO.read(gold.resolve(gf.get("mask").asText()).toFile());
      boolean[] got = Sam2Numerics.videoMask(fr.lowRes(), side, 120, 160);
      int differ = 0;
      for (int y = 0; y < 120; y++) {
        for (int x = 0; x < 160; x++) {
          boolean w = want.getRaster().getSample(x, y, 0) != 0;
          if (w != got[y * 160 + x] && !near.contains(y * 160 + x)) {
            differ++;
          }
        }
      }
      assertEquals(0, differ, where + ": mask pixels differ");
    }
    System.out.printf(
        "refine: 14 frames, masks identical, max |score diff| %.3g, max rel logit diff %.3g%n",
        maxScore, maxLogit);
    assertTrue(maxScore < 1e-3, "score " + maxScore);
    assertTrue(maxLogit < 1e-3, "logits " + maxLogit);
  }
}

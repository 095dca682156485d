package io.damjava.convert.sam2;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.damjava.convert.TensorSet;
import io.damjava.onnx.sam2.Sam2MaskChoice;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The prompt-encoder + mask-decoder graph, with dam-onnx's Sam2MaskChoice, against the reference.
 * It covers a click on a prompted frame (multimask, best IoU) and a box on a prompted frame (single
 * mask, stability test). It also covers two tracked frames fed the memory-conditioned features
 * (multimask), one visible and one occluded. Exact: the chosen token, the occlusion decision, and
 * the sign of every low-res logit whose magnitude exceeds 1e-4. Tolerance: 1e-4 x max(1, |v|) on
 * logits, pointer, IoU and object score. Both sides are float32, but the kernels' summation order
 * differs. Measured maxima are printed.
 */
class MaskDecoderGraphTest {
  static final Path REPO = Path.of("..").toAbsolutePath().normalize();
  static final Path CKPT = REPO.resolve("tools/reference/fixtures/sam2-tiny");
  static final Path GOLD = REPO.resolve("tools/reference/sam2/goldens");

  static float[] f32(String file) throws IOException {
    ByteBuffer b =
        ByteBuffer.wrap(Files.readAllBytes(GOLD.resolve(file))).order(ByteOrder.LITTLE_ENDIAN);
    float[] out = new float[b.remaining() / 4];
    b.asFloatBuffer().get(out);
    return out;
  }

  static JsonNode caseNamed(JsonNode g, String name) {
    for (JsonNode c : g.get("cases")) {
      if (c.get("name").asText().equals(name)) {
        return c;
      }
    }
    throw new AssertionError(name);
  }

  @Test
  void matchesTheReferenceOnPromptedAndTrackedFrames(@TempDir Path dir) throws Exception {
    Sam2Config cfg = Sam2Config.read(CKPT);
    Path graph = dir.resolve("mask_decoder.onnx");
    float[] noObjectPointer;
    try (TensorSet t = TensorSet.open(CKPT)) {
      MaskDecoderGraph.write(cfg, t, graph);
      noObjectPointer = t.get("no_object_pointer", 1, cfg.hidden());
    }
    JsonNode g = new ObjectMapper().readTree(GOLD.resolve("sam2_goldens.json").toFile());
    int s = cfg.imageSize();
    int side = s / 4;
    int vw = g.get("video_size").get(1).asInt();
    int vh = g.get("video_size").get(0).asInt();
    // case, frame, prefix of the feature dump, its feature tensor name
    Object[][] frames = {
      {"click_f6", 6, "click_f6_cond_f06_", "vision_feat"},
      {"box_f3", 3, "box_f3_cond_f03_", "vision_feat"},
      {"box_f3", 1, "box_f3_memattn_f01_", "conditioned"},
      {"click_f6", 9, "click_f6_memattn_f09_", "conditioned"},
    };
    boolean sawOccluded = false;
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
      o.setIntraOpNumThreads(1);
      try (OrtSession sess = env.createSession(graph.toString(), o)) {
        for (Object[] fr : frames) {
          JsonNode c = caseNamed(g, (String) fr[0]);
          int f = (Integer) fr[1];
          String prefix = (String) fr[2];
          JsonNode gf = c.get("frames").get(f);
          boolean prompted = gf.get("conditioning").asBoolean();
          float[] coords;
          long[] labels;
          if (!prompted) {
            coords = new float[4];
            labels = new long[] {-1, -1};
          } else if (c.has("box")) {
            JsonNode bx = c.get("box");
            coords =
                new float[] {
                  sx(bx.get(0), vw, s),
                  sx(bx.get(1), vh, s),
                  sx(bx.get(2), vw, s),
                  sx(bx.get(3), vh, s),
                  0,
                  0
                };
            labels = new long[] {2, 3, -1};
          } else {
            JsonNode p = c.get("points").get(0);
            coords = new float[] {sx(p.get(0), vw, s), sx(p.get(1), vh, s), 0, 0};
            labels = new long[] {c.get("labels").get(0).asLong(), -1};
          }
          Map<String, OnnxTensor> in = new HashMap<>();
          Map<String, float[]> out = new HashMap<>();
          try {
            in.put(
                MaskDecoderGraph.IMAGE, t(env, f32(prefix + fr[3] + ".f32"), 1, 64, cfg.hidden()));
            in.put(MaskDecoderGraph.ADD_NO_MEMORY, t(env, new float[] {prompted ? 1f : 0f}, 1));
            in.put(
                MaskDecoderGraph.S0, t(env, f32(prefix + "s0.f32"), 1, cfg.hidden() / 8, 32, 32));
            in.put(
                MaskDecoderGraph.S1, t(env, f32(prefix + "s1.f32"), 1, cfg.hidden() / 4, 16, 16));
            in.put(MaskDecoderGraph.COORDS, t(env, coords, 1, coords.length / 2, 2));
            in.put(
                MaskDecoderGraph.LABELS,
                OnnxTensor.createTensor(
                    env, LongBuffer.wrap(labels), new long[] {1, labels.length}));
            in.put(MaskDecoderGraph.MASK, t(env, new float[side * side], 1, 1, side, side));
            in.put(MaskDecoderGraph.HAS_MASK, t(env, new float[] {0f}, 1));
            try (OrtSession.Result r = sess.run(in)) {
              for (String k :
                  new String[] {
                    MaskDecoderGraph.MASKS,
                    MaskDecoderGraph.IOU,
                    MaskDecoderGraph.SCORE,
                    MaskDecoderGraph.POINTERS
                  }) {
                FloatBuffer fb = ((OnnxTensor) r.get(k).get()).getFloatBuffer();
                float[] a = new float[fb.remaining()];
                fb.get(a);
                out.put(k, a);
              }
            }
          } finally {
            in.values().forEach(OnnxTensor::close);
          }
          int px = side * side;
          float[][] masks = new float[4][];
          float[][] ptrs = new float[4][];
          for (int i = 0; i < 4; i++) {
            masks[i] = Arrays.copyOfRange(out.get(MaskDecoderGraph.MASKS), i * px, (i + 1) * px);
            ptrs[i] =
                Arrays.copyOfRange(
                    out.get(MaskDecoderGraph.POINTERS), i * cfg.hidden(), (i + 1) * cfg.hidden());
          }
          float score = out.get(MaskDecoderGraph.SCORE)[0];
          boolean multimask = !prompted || labels.length == 2;
          Sam2MaskChoice ch =
              Sam2MaskChoice.choose(
                  masks,
                  out.get(MaskDecoderGraph.IOU),
                  ptrs,
                  score,
                  multimask,
                  0.05f,
                  0.98f,
                  noObjectPointer);
          String where = c.get("name").asText() + " frame " + f;
          assertEquals(gf.get("chosen_token").asInt(), ch.token(), where + " token");
          double sd = Math.abs(score - gf.get("object_score").asDouble());
          assertTrue(sd < 1e-4, where + " score diff " + sd);
          assertEquals(gf.get("object_score").asDouble() <= 0, ch.occluded(), where);
          sawOccluded |= ch.occluded();
          double id = Math.abs(ch.iou() - gf.get("iou").asDouble());
          assertTrue(id < 1e-4, where + " iou diff " + id);
          float[] want =
              Arrays.copyOfRange(f32(c.get("lowres_file").asText()), f * px, (f + 1) * px);
          double maxLogit = 0;
          for (int i = 0; i < px; i++) {
            maxLogit =
                Math.max(
                    maxLogit, Math.abs(ch.lowRes()[i] - want[i]) / Math.max(1, Math.abs(want[i])));
            if (Math.abs(want[i]) > 1e-4) {
              assertEquals(want[i] > 0, ch.lowRes()[i] > 0, where + " pixel " + i);
            }
          }
          double maxPtr = 0;
          for (int i = 0; i < cfg.hidden(); i++) {
            double wv = gf.get("pointer").get(i).asDouble();
            maxPtr = Math.max(maxPtr, Math.abs(ch.pointer()[i] - wv) / Math.max(1, Math.abs(wv)));
          }
          System.out.printf(
              "mask decoder %s: token %d, score %.4f, max rel diff logits %.3g pointer %.3g%n",
              where, ch.token(), score, maxLogit, maxPtr);
          assertTrue(maxLogit < 1e-4, where + " logits " + maxLogit);
          assertTrue(maxPtr < 1e-4, where + " pointer " + maxPtr);
        }
      }
    }
    assertTrue(sawOccluded);
  }

  /** sam2_ref.scale_points: x / W * S in float32. */
  static float sx(JsonNode v, int extent, int s) {
    return (float) v.asDouble() / (float) extent * (float) s;
  }

  static OnnxTensor t(OrtEnvironment env, float[] d, long... shape) throws Exception {
    return OnnxTensor.createTensor(env, FloatBuffer.wrap(d), shape);
  }
}

package io.damjava.onnx.sam2;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.damjava.api.InferenceException;
import io.damjava.api.ModelLoadException;
import io.damjava.onnx.NativeCalls;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The four SAM 2.1 sessions and their tensor plumbing (input and output names as dam-convert's
 * {@code io.damjava.convert.sam2} graphs declare them). Package-private: {@link Sam2VideoPredictor}
 * drives it.
 */
final class Sam2Graphs implements AutoCloseable {
  /** The decoder's four candidates. */
  record Decoded(float[][] masks, float[] iou, float[][] pointers, float score) {}

  private final OrtEnvironment env;
  private final Sam2VideoParams p;
  private final OrtSession encoder;
  private final OrtSession decoder;
  private final OrtSession memoryEncoder;
  private final OrtSession memoryAttention;

  /** The graphs in the order of {@link #runNanos()}. */
  static final List<String> NAMES =
      List.of("image_encoder", "mask_decoder", "memory_encoder", "memory_attention");

  // time inside each graph's runs, from every predictor sharing these sessions
  private final AtomicLongArray nanos = new AtomicLongArray(NAMES.size());

  Sam2Graphs(Path dir, OrtEnvironment env, OrtSession.SessionOptions options, Sam2VideoParams p) {
    this.env = env;
    this.p = p;
    List<OrtSession> opened = new ArrayList<>();
    try {
      encoder = open(opened, dir.resolve("image_encoder.onnx"), options);
      decoder = open(opened, dir.resolve("mask_decoder.onnx"), options);
      memoryEncoder = open(opened, dir.resolve("memory_encoder.onnx"), options);
      memoryAttention = open(opened, dir.resolve("memory_attention.onnx"), options);
    } catch (OrtException e) {
      for (OrtSession o : opened) {
        try {
          o.close();
        } catch (OrtException ignored) {
          // best effort while failing
        }
      }
      throw new ModelLoadException(dir + ": cannot open the SAM 2 graphs: " + e.getMessage(), e);
    }
  }

  private OrtSession open(List<OrtSession> opened, Path f, OrtSession.SessionOptions o)
      throws OrtException {
    OrtSession s = NativeCalls.call(() -> env.createSession(f.toString(), o));
    opened.add(s);
    return s;
  }

  /** pixel_values [3][S][S] -> {vision_feat, high_res_s0, high_res_s1}. */
  float[][] encode(float[] px) {
    int s = p.imageSize();
    Map<String, float[]> in = new HashMap<>();
    Map<String, long[]> shapes = new HashMap<>();
    put(in, shapes, "pixel_values", px, 1, 3, s, s);
    Map<String, float[]> out =
        run(encoder, in, shapes, null, "vision_feat", "high_res_s0", "high_res_s1");
    return new float[][] {out.get("vision_feat"), out.get("high_res_s0"), out.get("high_res_s1")};
  }

  /** The prompt encoder + mask decoder; {@code maskInput} null means no mask prompt. */
  Decoded decode(
      float[] image,
      boolean addNoMemory,
      float[] s0,
      float[] s1,
      float[] coords,
      long[] labels,
      float[] maskInput) {
    int c = p.hidden();
    int h = p.featSide();
    Map<String, float[]> in = new HashMap<>();
    Map<String, long[]> shapes = new HashMap<>();
    put(in, shapes, "image_embed", image, 1, (long) h * h, c);
    put(in, shapes, "add_no_memory", new float[] {addNoMemory ? 1f : 0f}, 1);
    put(in, shapes, "high_res_s0", s0, 1, c / 8, 4L * h, 4L * h);
    put(in, shapes, "high_res_s1", s1, 1, c / 4, 2L * h, 2L * h);
    put(in, shapes, "point_coords", coords, 1, labels.length, 2);
    float[] mi = maskInput != null ? maskInput : new float[16 * h * h];
    put(in, shapes, "mask_input", mi, 1, 1, 4L * h, 4L * h);
    put(in, shapes, "has_mask_input", new float[] {maskInput != null ? 1f : 0f}, 1);
    Map<String, float[]> out =
        run(decoder, in, shapes, labels, "masks", "iou", "object_score", "pointers");
    int px = 16 * h * h;
    float[][] masks = new float[4][px];
    float[][] ptrs = new float[4][c];
    for (int i = 0; i < 4; i++) {
      System.arraycopy(out.get("masks"), i * px, masks[i], 0, px);
      System.arraycopy(out.get("pointers"), i * c, ptrs[i], 0, c);
    }
    return new Decoded(masks, out.get("iou"), ptrs, out.get("object_score")[0]);
  }

  /** The memory encoder: float32 memory [HW * memDim] (not yet bf16-rounded). */
  float[] memory(float[] feat, float[] maskLogits, int maskSide, boolean prompted, float score) {
    int h = p.featSide();
    Map<String, float[]> in = new HashMap<>();
    Map<String, long[]> shapes = new HashMap<>();
    put(in, shapes, "vision_feat", feat, 1, (long) h * h, p.hidden());
    put(in, shapes, "mask_logits", maskLogits, 1, 1, maskSide, maskSide);
    put(in, shapes, "from_prompt", new float[] {prompted ? 1f : 0f}, 1);
    put(in, shapes, "object_score", new float[] {score}, 1);
    return run(memoryEncoder, in, shapes, null, "maskmem").get("maskmem");
  }

  /** Memory attention: the conditioned features [HW * C]. */
  float[] attend(
      float[] feat,
      float[] featPos,
      float[] mem,
      float[] memPos,
      int spatial,
      float[] pointers,
      int pointerTokens,
      float[] sine,
      int numPointers) {
    int hw = p.featSide() * p.featSide();
    int m = p.memDim();
    Map<String, float[]> in = new HashMap<>();
    Map<String, long[]> shapes = new HashMap<>();
    put(in, shapes, "vision_feat", feat, 1, hw, p.hidden());
    put(in, shapes, "vision_pos", featPos, 1, hw, p.hidden());
    put(in, shapes, "memory", mem, 1, spatial, m);
    put(in, shapes, "memory_pos", memPos, 1, spatial, m);
    put(in, shapes, "pointers", pointers, 1, pointerTokens, m);
    put(in, shapes, "pointer_sine", sine, 1, numPointers, p.hidden());
    return run(memoryAttention, in, shapes, null, "conditioned").get("conditioned");
  }

  private static void put(
      Map<String, float[]> in, Map<String, long[]> shapes, String k, float[] v, long... shape) {
    in.put(k, v);
    shapes.put(k, shape);
  }

  private Map<String, float[]> run(
      OrtSession s,
      Map<String, float[]> in,
      Map<String, long[]> shapes,
      long[] labels,
      String... outputs) {
    Map<String, OnnxTensor> t = new HashMap<>();
    try {
      for (var e : in.entrySet()) {
        t.put(
            e.getKey(),
            OnnxTensor.createTensor(env, FloatBuffer.wrap(e.getValue()), shapes.get(e.getKey())));
      }
      if (labels != null) {
        t.put(
            "point_labels",
            OnnxTensor.createTensor(env, LongBuffer.wrap(labels), new long[] {1, labels.length}));
      }
      Map<String, float[]> out = new HashMap<>();
      long t0 = System.nanoTime();
      try (OrtSession.Result r = NativeCalls.call(() -> s.run(t))) {
        nanos.addAndGet(index(s), System.nanoTime() - t0);
        for (String o : outputs) {
          FloatBuffer fb = ((OnnxTensor) r.get(o).orElseThrow()).getFloatBuffer();
          float[] a = new float[fb.remaining()];
          fb.get(a);
          out.put(o, a);
        }
      }
      return out;
    } catch (OrtException e) {
      throw new InferenceException("SAM 2 graph failed: " + e.getMessage(), e);
    } finally {
      t.values().forEach(OnnxTensor::close);
    }
  }

  private int index(OrtSession s) {
    return s == encoder ? 0 : s == decoder ? 1 : s == memoryEncoder ? 2 : 3;
  }

  /** Nanoseconds spent running each graph so far, in the order of {@link #NAMES}. */
  long[] runNanos() {
    long[] out = new long[nanos.length()];
    for (int i = 0; i < out.length; i++) {
      out[i] = nanos.get(i);
    }
    return out;
  }

  @Override
  public void close() {
    for (OrtSession s : new OrtSession[] {encoder, decoder, memoryEncoder, memoryAttention}) {
      try {
        s.close();
      } catch (OrtException ignored) {
        // closing a session does not fail in practice
      }
    }
  }
}

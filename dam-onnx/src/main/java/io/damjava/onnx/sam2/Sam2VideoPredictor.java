package io.damjava.onnx.sam2;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.damjava.api.InferenceException;
import io.damjava.api.InvalidInputException;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;

/**
 * SAM 2.1 video propagation of one object over the four graphs of a SAM 2 graph folder ({@code
 * image_encoder.onnx}, {@code mask_decoder.onnx}, {@code memory_encoder.onnx}, {@code
 * memory_attention.onnx}, as dam-convert's {@code io.damjava.convert.sam2} writes them).
 *
 * <p>A prompt on a frame makes it a conditioning memory. {@link #propagate} then tracks every other
 * frame in one direction: memory attention over the {@link Sam2MemoryBank} selection, the decoder
 * without prompts, the memory encoder. Only the current frame's features are held; frames are
 * requested through {@code pixels} (frame index to [3][S][S] pixel values, e.g. from {@link
 * io.damjava.onnx.Sam2Pixels}). Not thread-safe; close it to release the sessions.
 */
public final class Sam2VideoPredictor implements AutoCloseable {
  /**
   * One frame's result.
   *
   * @param frame frame index
   * @param lowRes low-res mask logits [(S/4)^2] (-1024 everywhere when occluded)
   * @param objectScore object-score logit
   * @param token the chosen mask token
   * @param occluded object score <= 0
   * @param pointer the object pointer
   */
  public record Frame(
      int frame, float[] lowRes, float objectScore, int token, boolean occluded, float[] pointer) {}

  private final OrtEnvironment env;
  private final OrtSession encoder;
  private final OrtSession decoder;
  private final OrtSession memoryEncoder;
  private final OrtSession memoryAttention;
  private final Sam2VideoParams p;
  private final Sam2TrackingSettings settings;
  private final Sam2MemoryBank bank;
  private final IntFunction<float[]> pixels;
  private final int numFrames;
  private final float[] memPos;
  private final float[] featPos;
  private final Map<Integer, Frame> results = new HashMap<>();
  private int conditioning = -1;
  private float score; // the last decoder call's object score

  /** Opens the four graphs in {@code graphs}. */
  public Sam2VideoPredictor(
      Path graphs,
      OrtEnvironment env,
      OrtSession.SessionOptions options,
      Sam2VideoParams params,
      Sam2TrackingSettings settings,
      int numFrames,
      IntFunction<float[]> pixels) {
    this.env = env;
    this.p = params;
    this.settings = settings;
    this.numFrames = numFrames;
    this.pixels = pixels;
    this.bank = new Sam2MemoryBank(settings, numFrames);
    int s = params.featSide();
    this.memPos = Sam2Numerics.sinePosition2d(params.memDim(), s, s);
    this.featPos = Sam2Numerics.sinePosition2d(params.hidden(), s, s);
    List<OrtSession> opened = new ArrayList<>();
    try {
      encoder = open(opened, graphs.resolve("image_encoder.onnx"), options);
      decoder = open(opened, graphs.resolve("mask_decoder.onnx"), options);
      memoryEncoder = open(opened, graphs.resolve("memory_encoder.onnx"), options);
      memoryAttention = open(opened, graphs.resolve("memory_attention.onnx"), options);
    } catch (OrtException e) {
      for (OrtSession o : opened) {
        try {
          o.close();
        } catch (OrtException ignored) {
          // best effort while failing
        }
      }
      throw new io.damjava.api.ModelLoadException(
          graphs + ": cannot open the SAM 2 graphs: " + e.getMessage(), e);
    }
  }

  /** A predictor over a verified {@link Sam2Bundle}. */
  public static Sam2VideoPredictor open(
      Sam2Bundle bundle,
      OrtEnvironment env,
      OrtSession.SessionOptions options,
      int numFrames,
      IntFunction<float[]> pixels) {
    return new Sam2VideoPredictor(
        bundle.dir(), env, options, bundle.params(), bundle.settings(), numFrames, pixels);
  }

  private OrtSession open(List<OrtSession> opened, Path f, OrtSession.SessionOptions o)
      throws OrtException {
    OrtSession s = env.createSession(f.toString(), o);
    opened.add(s);
    return s;
  }

  /** The memory bank (for inspection). */
  public Sam2MemoryBank bank() {
    return bank;
  }

  /**
   * Prompts frame {@code f} with clicks (labels 1 / 0) and/or a box, in video pixels of a {@code
   * videoW} x {@code videoH} video; the box becomes two corner points with labels 2 and 3.
   */
  public Frame addPrompt(
      int f, float[][] points, int[] labels, float[] box, int videoW, int videoH) {
    if (f < 0 || f >= numFrames) {
      throw new InvalidInputException(
          "frame " + f + " is outside the video (frames 0.." + (numFrames - 1) + ")");
    }
    List<float[]> pts = new ArrayList<>();
    List<Long> labs = new ArrayList<>();
    if (points != null) {
      for (int i = 0; i < points.length; i++) {
        pts.add(points[i]);
        labs.add((long) labels[i]);
      }
    }
    if (box != null) {
      pts.add(new float[] {box[0], box[1]});
      pts.add(new float[] {box[2], box[3]});
      labs.add(2L);
      labs.add(3L);
    }
    if (pts.isEmpty()) {
      throw new InvalidInputException("a SAM 2 prompt needs at least one point or a box");
    }
    float s = p.imageSize();
    for (float[] q : pts) {
      if (q[0] < 0 || q[1] < 0 || q[0] > videoW || q[1] > videoH) {
        throw new InvalidInputException(
            "prompt point ("
                + q[0]
                + ", "
                + q[1]
                + ") is outside the "
                + videoW
                + "x"
                + videoH
                + " frame");
      }
    }
    int n = pts.size() + 1;
    float[] coords = new float[2 * n];
    long[] lab = new long[n];
    for (int i = 0; i < pts.size(); i++) {
      coords[2 * i] = pts.get(i)[0] / (float) videoW * s;
      coords[2 * i + 1] = pts.get(i)[1] / (float) videoH * s;
      lab[i] = labs.get(i);
    }
    lab[n - 1] = -1;
    boolean multimask = pts.size() <= 1;
    float[][] feats = encode(f);
    Sam2MaskChoice ch = decode(feats[0], true, feats[1], feats[2], coords, lab, multimask);
    Sam2MemoryBank.Entry e = encodeMemory(feats[0], ch, true);
    bank.addConditioning(f, e);
    conditioning = f;
    Frame out = new Frame(f, ch.lowRes(), e.objectScore(), ch.token(), ch.occluded(), ch.pointer());
    results.put(f, out);
    return out;
  }

  /**
   * Prompts frame {@code f} with a mask already at image_size x image_size (row-major). As in the
   * reference, the mask is the frame's output: its logits are mask x 20 - 10, and the low-res ones
   * are those logits antialias-resized to S/4. The decoder runs on the downsampled mask only to
   * make the object pointer. An empty mask means the object is absent (score -10, no-object
   * pointer).
   */
  public Frame addMask(int f, boolean[] mask) {
    if (f < 0 || f >= numFrames) {
      throw new InvalidInputException(
          "frame " + f + " is outside the video (frames 0.." + (numFrames - 1) + ")");
    }
    int s = p.imageSize();
    if (mask == null || mask.length != s * s) {
      throw new InvalidInputException("a SAM 2 mask prompt must be " + s + "x" + s);
    }
    float[] high = new float[s * s];
    boolean appearing = false;
    for (int i = 0; i < high.length; i++) {
      high[i] = mask[i] ? 10f : -10f;
      appearing |= mask[i];
    }
    float[] low = Sam2Numerics.antialiasBilinear(high, s, s, s / 4, s / 4);
    int q = s / 4;
    float[] md = p.maskDownsample();
    float[] maskInput = new float[q * q];
    for (int y = 0; y < q; y++) {
      for (int x = 0; x < q; x++) {
        float acc = 0f;
        for (int ky = 0; ky < 4; ky++) {
          for (int kx = 0; kx < 4; kx++) {
            acc += md[ky * 4 + kx] * (mask[(4 * y + ky) * s + 4 * x + kx] ? 1f : 0f);
          }
        }
        maskInput[y * q + x] = acc + md[16];
      }
    }
    float[][] feats = encode(f);
    Sam2MaskChoice ch =
        decode(
            feats[0],
            false,
            feats[1],
            feats[2],
            new float[4],
            new long[] {-1, -1},
            false,
            maskInput);
    float[] ptr = appearing ? ch.pointer() : p.noObjectPointer().clone();
    score = appearing ? 10f : -10f;
    Map<String, float[]> in = new HashMap<>();
    Map<String, long[]> shapes = new HashMap<>();
    int h = p.featSide();
    put(in, shapes, "vision_feat", feats[0], 1, (long) h * h, p.hidden());
    put(in, shapes, "mask_logits", high, 1, 1, s, s);
    put(in, shapes, "from_prompt", new float[] {1f}, 1);
    put(in, shapes, "object_score", new float[] {score}, 1);
    float[] mem = run(memoryEncoder, in, shapes, null, "maskmem").get("maskmem");
    Sam2Numerics.roundToBf16(mem);
    bank.addConditioning(f, new Sam2MemoryBank.Entry(mem, memPos, ptr, score));
    conditioning = f;
    Frame out = new Frame(f, low, score, ch.token(), !appearing, ptr);
    results.put(f, out);
    return out;
  }

  /** Tracks from the conditioning frame to the last frame (or, reversed, to frame 0). */
  public List<Frame> propagate(boolean reverse) {
    if (conditioning < 0) {
      throw new IllegalStateException("add a prompt before propagating");
    }
    List<Frame> out = new ArrayList<>();
    out.add(results.get(conditioning));
    int step = reverse ? -1 : 1;
    for (int f = conditioning + step; f >= 0 && f < numFrames; f += step) {
      out.add(track(f, reverse));
    }
    return out;
  }

  private Frame track(int f, boolean reverse) {
    float[][] feats = encode(f);
    Sam2MemoryBank.Selection sel = bank.select(f, reverse);
    int hw = p.featSide() * p.featSide();
    int m = p.memDim();
    int spatial = sel.memories().size() * hw;
    float[] mem = new float[spatial * m];
    float[] pos = new float[spatial * m];
    int k = 0;
    for (Sam2MemoryBank.MemoryRef r : sel.memories()) {
      Sam2MemoryBank.Entry e = bank.entry(r.frame());
      float[] tpe =
          p.memoryTemporalEncoding()[
              Math.floorMod(r.temporalOffset() - 1, p.memoryTemporalEncoding().length)];
      System.arraycopy(e.maskmem(), 0, mem, k * hw * m, hw * m);
      for (int i = 0; i < hw; i++) {
        for (int c = 0; c < m; c++) {
          pos[(k * hw + i) * m + c] = e.maskmemPos()[i * m + c] + tpe[c];
        }
      }
      k++;
    }
    int np = sel.pointers().size();
    int split = p.hidden() / m;
    float[] ptr = new float[np * p.hidden()];
    int[] dist = new int[np];
    for (int i = 0; i < np; i++) {
      Sam2MemoryBank.PointerRef r = sel.pointers().get(i);
      System.arraycopy(bank.entry(r.frame()).pointer(), 0, ptr, i * p.hidden(), p.hidden());
      dist[i] = r.temporalDistance();
    }
    float[][] sine = Sam2Numerics.pointerSineEncoding(dist, sel.maxPointers(), p.hidden());
    float[] sineFlat = new float[np * p.hidden()];
    for (int i = 0; i < np; i++) {
      System.arraycopy(sine[i], 0, sineFlat, i * p.hidden(), p.hidden());
    }
    Map<String, float[]> in = new HashMap<>();
    Map<String, long[]> shapes = new HashMap<>();
    put(in, shapes, "vision_feat", feats[0], 1, hw, p.hidden());
    put(in, shapes, "vision_pos", featPos, 1, hw, p.hidden());
    put(in, shapes, "memory", mem, 1, spatial, m);
    put(in, shapes, "memory_pos", pos, 1, spatial, m);
    put(in, shapes, "pointers", ptr, 1, (long) np * split, m);
    put(in, shapes, "pointer_sine", sineFlat, 1, np, p.hidden());
    float[] conditioned = run(memoryAttention, in, shapes, null, "conditioned").get("conditioned");
    Sam2MaskChoice ch =
        decode(conditioned, false, feats[1], feats[2], new float[4], new long[] {-1, -1}, true);
    Sam2MemoryBank.Entry e = encodeMemory(feats[0], ch, false);
    bank.addTracked(f, e);
    Frame out = new Frame(f, ch.lowRes(), e.objectScore(), ch.token(), ch.occluded(), ch.pointer());
    results.put(f, out);
    return out;
  }

  private float[][] encode(int f) {
    int s = p.imageSize();
    float[] px = pixels.apply(f);
    if (px == null || px.length != 3 * s * s) {
      throw new InvalidInputException(
          "frame " + f + ": expected 3x" + s + "x" + s + " pixel values");
    }
    Map<String, float[]> in = new HashMap<>();
    Map<String, long[]> shapes = new HashMap<>();
    put(in, shapes, "pixel_values", px, 1, 3, s, s);
    Map<String, float[]> out =
        run(encoder, in, shapes, null, "vision_feat", "high_res_s0", "high_res_s1");
    return new float[][] {out.get("vision_feat"), out.get("high_res_s0"), out.get("high_res_s1")};
  }

  private Sam2MaskChoice decode(
      float[] image,
      boolean addNoMemory,
      float[] s0,
      float[] s1,
      float[] coords,
      long[] labels,
      boolean multimask) {
    return decode(image, addNoMemory, s0, s1, coords, labels, multimask, null);
  }

  private Sam2MaskChoice decode(
      float[] image,
      boolean addNoMemory,
      float[] s0,
      float[] s1,
      float[] coords,
      long[] labels,
      boolean multimask,
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
    put(
        in,
        shapes,
        "mask_input",
        maskInput != null ? maskInput : new float[16 * h * h],
        1,
        1,
        4L * h,
        4L * h);
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
    score = out.get("object_score")[0];
    return Sam2MaskChoice.choose(
        masks,
        out.get("iou"),
        ptrs,
        score,
        multimask,
        p.stabilityDelta(),
        p.stabilityThreshold(),
        p.noObjectPointer());
  }

  private Sam2MemoryBank.Entry encodeMemory(float[] feat, Sam2MaskChoice ch, boolean prompted) {
    int h = p.featSide();
    Map<String, float[]> in = new HashMap<>();
    Map<String, long[]> shapes = new HashMap<>();
    put(in, shapes, "vision_feat", feat, 1, (long) h * h, p.hidden());
    put(in, shapes, "mask_logits", ch.lowRes(), 1, 1, 4L * h, 4L * h);
    put(in, shapes, "from_prompt", new float[] {prompted ? 1f : 0f}, 1);
    put(in, shapes, "object_score", new float[] {score}, 1);
    float[] mem = run(memoryEncoder, in, shapes, null, "maskmem").get("maskmem");
    Sam2Numerics.roundToBf16(mem);
    return new Sam2MemoryBank.Entry(mem, memPos, ch.pointer(), score);
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
      try (OrtSession.Result r = s.run(t)) {
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

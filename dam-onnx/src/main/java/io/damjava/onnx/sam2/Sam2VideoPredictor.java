package io.damjava.onnx.sam2;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.damjava.api.InvalidInputException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
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

  private final Sam2Graphs graphs;
  private final boolean ownsGraphs;
  private final Sam2VideoParams p;
  private final Sam2MemoryBank bank;
  private final IntFunction<float[]> pixels;
  private final int numFrames;
  private final float[] memPos;
  private final float[] featPos;
  private final Map<Integer, Frame> results = new HashMap<>(); // conditioning frames only
  private int conditioning = -1;
  private int encodedFrame = -1; // the last frame encoded, reused by the next call on it
  private float[][] encoded;

  /** Opens the four graphs in {@code graphs}. */
  public Sam2VideoPredictor(
      Path graphs,
      OrtEnvironment env,
      OrtSession.SessionOptions options,
      Sam2VideoParams params,
      Sam2TrackingSettings settings,
      int numFrames,
      IntFunction<float[]> pixels) {
    this(new Sam2Graphs(graphs, env, options, params), true, params, settings, numFrames, pixels);
  }

  /** Over sessions owned elsewhere (a {@link Sam2Model}) when {@code ownsGraphs} is false. */
  Sam2VideoPredictor(
      Sam2Graphs graphs,
      boolean ownsGraphs,
      Sam2VideoParams params,
      Sam2TrackingSettings settings,
      int numFrames,
      IntFunction<float[]> pixels) {
    this.p = params;
    this.numFrames = numFrames;
    this.pixels = pixels;
    this.bank = new Sam2MemoryBank(settings, numFrames);
    int s = params.featSide();
    this.memPos = Sam2Numerics.sinePosition2d(params.memDim(), s, s);
    this.featPos = Sam2Numerics.sinePosition2d(params.hidden(), s, s);
    this.graphs = graphs;
    this.ownsGraphs = ownsGraphs;
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

  /**
   * Seconds spent inside each of the four graphs (image_encoder, mask_decoder, memory_encoder,
   * memory_attention, in that order) since they were opened: where a frame's time goes. The
   * predictors of one {@link Sam2Model} share its graphs, so the totals include every one of them:
   * take differences around the work you time.
   */
  public Map<String, Double> graphSeconds() {
    long[] n = graphs.runNanos();
    Map<String, Double> out = new LinkedHashMap<>();
    for (int i = 0; i < n.length; i++) {
      out.put(Sam2Graphs.NAMES.get(i), n[i] / 1e9);
    }
    return out;
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
    checkFrame(f);
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
    float[][] feats = encode(f);
    Sam2Graphs.Decoded d = graphs.decode(feats[0], true, feats[1], feats[2], coords, lab, null);
    Sam2MaskChoice ch = choose(d, pts.size() <= 1);
    float[] mem = graphs.memory(feats[0], ch.lowRes(), 4 * p.featSide(), true, d.score());
    return remember(f, ch.lowRes(), d.score(), ch, ch.pointer(), mem, true, ch.occluded());
  }

  /**
   * Prompts frame {@code f} with a mask already at image_size x image_size (row-major). As in the
   * reference, the mask is the frame's output: its logits are mask x 20 - 10, and the low-res ones
   * are those logits antialias-resized to S/4. The decoder runs on the downsampled mask only to
   * make the object pointer. An empty mask means the object is absent (score -10, no-object
   * pointer).
   */
  public Frame addMask(int f, boolean[] mask) {
    checkFrame(f);
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
    int q = s / 4;
    float[] low = Sam2Numerics.antialiasBilinear(high, s, s, q, q);
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
    Sam2Graphs.Decoded d =
        graphs.decode(
            feats[0], false, feats[1], feats[2], new float[4], new long[] {-1, -1}, maskInput);
    Sam2MaskChoice ch = choose(d, false);
    float[] ptr = appearing ? ch.pointer() : p.noObjectPointer().clone();
    float score = appearing ? 10f : -10f;
    float[] mem = graphs.memory(feats[0], high, s, true, score);
    return remember(f, low, score, ch, ptr, mem, true, !appearing);
  }

  /** Tracks from the conditioning frame to the last frame (or, reversed, to frame 0). */
  public List<Frame> propagate(boolean reverse) {
    List<Frame> out = new ArrayList<>();
    propagate(reverse, out::add);
    return out;
  }

  /**
   * As {@link #propagate(boolean)}, handing each frame's result to {@code sink} instead of keeping
   * it: the last prompted frame first (its stored result), then every frame up to the end (or back
   * to frame 0). Memory stays bounded whatever the video length.
   */
  public void propagate(boolean reverse, Consumer<Frame> sink) {
    if (conditioning < 0) {
      throw new IllegalStateException("add a prompt before propagating");
    }
    sink.accept(results.get(conditioning));
    int step = reverse ? -1 : 1;
    for (int f = conditioning + step; f >= 0 && f < numFrames; f += step) {
      sink.accept(bank.isConditioning(f) ? results.get(f) : track(f, reverse));
    }
  }

  private Frame track(int f, boolean reverse) {
    float[][] feats = encode(f);
    Sam2MemoryBank.Selection sel = bank.select(f, reverse);
    int hw = p.featSide() * p.featSide();
    int m = p.memDim();
    int spatial = sel.memories().size() * hw;
    float[] mem = new float[spatial * m];
    float[] pos = new float[spatial * m];
    float[][] tpes = p.memoryTemporalEncoding();
    int k = 0;
    for (Sam2MemoryBank.MemoryRef r : sel.memories()) {
      Sam2MemoryBank.Entry e = bank.entry(r.frame());
      float[] tpe = tpes[Math.floorMod(r.temporalOffset() - 1, tpes.length)];
      System.arraycopy(e.maskmem(), 0, mem, k * hw * m, hw * m);
      for (int i = 0; i < hw; i++) {
        for (int c = 0; c < m; c++) {
          pos[(k * hw + i) * m + c] = e.maskmemPos()[i * m + c] + tpe[c];
        }
      }
      k++;
    }
    int np = sel.pointers().size();
    int c = p.hidden();
    float[] ptr = new float[np * c];
    int[] dist = new int[np];
    for (int i = 0; i < np; i++) {
      Sam2MemoryBank.PointerRef r = sel.pointers().get(i);
      System.arraycopy(bank.entry(r.frame()).pointer(), 0, ptr, i * c, c);
      dist[i] = r.temporalDistance();
    }
    float[][] sine = Sam2Numerics.pointerSineEncoding(dist, sel.maxPointers(), c);
    float[] sineFlat = new float[np * c];
    for (int i = 0; i < np; i++) {
      System.arraycopy(sine[i], 0, sineFlat, i * c, c);
    }
    float[] conditioned =
        graphs.attend(feats[0], featPos, mem, pos, spatial, ptr, np * (c / m), sineFlat, np);
    Sam2Graphs.Decoded d =
        graphs.decode(
            conditioned, false, feats[1], feats[2], new float[4], new long[] {-1, -1}, null);
    Sam2MaskChoice ch = choose(d, true);
    float[] memory = graphs.memory(feats[0], ch.lowRes(), 4 * p.featSide(), false, d.score());
    return remember(f, ch.lowRes(), d.score(), ch, ch.pointer(), memory, false, ch.occluded());
  }

  private Sam2MaskChoice choose(Sam2Graphs.Decoded d, boolean multimask) {
    return Sam2MaskChoice.choose(
        d.masks(),
        d.iou(),
        d.pointers(),
        d.score(),
        multimask,
        p.stabilityDelta(),
        p.stabilityThreshold(),
        p.noObjectPointer());
  }

  private Frame remember(
      int f,
      float[] low,
      float score,
      Sam2MaskChoice ch,
      float[] pointer,
      float[] mem,
      boolean prompted,
      boolean occluded) {
    Sam2Numerics.roundToBf16(mem);
    Sam2MemoryBank.Entry e = new Sam2MemoryBank.Entry(mem, memPos, pointer, score);
    if (prompted) {
      bank.addConditioning(f, e);
      conditioning = f;
    } else {
      bank.addTracked(f, e);
    }
    Frame out = new Frame(f, low, score, ch.token(), occluded, pointer);
    if (prompted) {
      results.put(f, out);
    }
    return out;
  }

  private float[][] encode(int f) {
    if (f == encodedFrame) {
      return encoded;
    }
    int s = p.imageSize();
    float[] px = pixels.apply(f);
    if (px == null || px.length != 3 * s * s) {
      throw new InvalidInputException(
          "frame " + f + ": expected 3x" + s + "x" + s + " pixel values");
    }
    encoded = graphs.encode(px);
    encodedFrame = f;
    return encoded;
  }

  private void checkFrame(int f) {
    if (f < 0 || f >= numFrames) {
      throw new InvalidInputException(
          "frame " + f + " is outside the video (frames 0.." + (numFrames - 1) + ")");
    }
  }

  /** Closes the sessions unless they belong to a {@link Sam2Model}. */
  @Override
  public void close() {
    if (ownsGraphs) {
      graphs.close();
    }
  }
}

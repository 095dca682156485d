package io.damjava.onnx;

import static io.damjava.onnx.SamGraphIo.HAS_MASK_INPUT;
import static io.damjava.onnx.SamGraphIo.IMAGE_EMBEDDINGS;
import static io.damjava.onnx.SamGraphIo.IMAGE_PE;
import static io.damjava.onnx.SamGraphIo.INPUT_BOXES;
import static io.damjava.onnx.SamGraphIo.INPUT_LABELS;
import static io.damjava.onnx.SamGraphIo.INPUT_POINTS;
import static io.damjava.onnx.SamGraphIo.IOU_PREDICTIONS;
import static io.damjava.onnx.SamGraphIo.IOU_SCORES;
import static io.damjava.onnx.SamGraphIo.LOW_RES_MASKS;
import static io.damjava.onnx.SamGraphIo.MASK_INPUT;
import static io.damjava.onnx.SamGraphIo.ORIG_IM_SIZE;
import static io.damjava.onnx.SamGraphIo.POINT_COORDS;
import static io.damjava.onnx.SamGraphIo.POINT_LABELS;
import static io.damjava.onnx.SamGraphIo.PRED_MASKS;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxTensorLike;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.damjava.api.DamImage;
import io.damjava.api.InferenceException;
import io.damjava.api.InvalidBundleException;
import io.damjava.api.InvalidInputException;
import io.damjava.api.Mask;
import io.damjava.api.ModelLoadException;
import io.damjava.api.Region;
import io.damjava.onnx.bundle.SamManifest;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * SAM: turns boxes, clicks and scribbles into masks, as DAM's reference does with HF {@code
 * SamModel}/{@code SamProcessor} (the best-IoU of the multimask candidates). One call encodes the
 * image once and decodes every prompt on that embedding (HF layout: prompts with the same number of
 * points share one decoder run as a point batch).
 *
 * <pre>
 * SamProcessor   image (h, w, 3) uint8       → pixel_values (1, 3, 1024, 1024) float32
 * encoder        pixel_values                → image_embeddings (1, 256, 64, 64)
 *                                              [+ image_positional_embeddings (1, 256, 64, 64)]
 * decoder HF     input_points (1, P, N, 2) f32, input_labels (1, P, N) i64, [input_boxes (1, P, 4)]
 *                                            → iou_scores (1, P, 3), pred_masks (1, P, 3, 256, 256)
 * decoder SAM    point_coords (1, N, 2), point_labels (1, N), mask_input (1, 1, 256, 256),
 *                has_mask_input (1), orig_im_size (2) → iou_predictions (1, K), low_res_masks
 *                (1, K, 256, 256)
 * SamProcessor   best candidate's low-res logits → (h, w) mask
 * </pre>
 *
 * Holds two sessions, shared by all calls (thread-safe); {@link #close()} frees them once.
 * docs/segmentation.md lists the public exports that load.
 */
public final class Segmenter implements RegionSegmenter {
  private final SamManifest manifest;
  private final SamProcessor processor;
  private final OrtEnvironment env;
  private final OrtSession encoder;
  private final OrtSession decoder;
  private final SamGraphIo io;
  private final AtomicBoolean closed = new AtomicBoolean();

  private Segmenter(
      SamManifest manifest, OrtEnvironment env, OrtSession encoder, OrtSession decoder) {
    this.manifest = manifest;
    this.processor = new SamProcessor(manifest.processor());
    this.env = env;
    this.encoder = encoder;
    this.decoder = decoder;
    this.io = SamGraphIo.check(manifest, encoder, decoder);
  }

  /**
   * Loads a segmenter bundle: manifest, checksums, then both sessions.
   *
   * @param dir the folder holding {@code sam-bundle.json}
   * @param env the ONNX Runtime environment
   * @param options session options (not closed here)
   * @throws InvalidBundleException for a bad manifest, a missing or corrupt file, or graphs whose
   *     inputs do not match the layout (the message names the missing input)
   */
  public static Segmenter load(Path dir, OrtEnvironment env, OrtSession.SessionOptions options) {
    SamManifest m = SamManifest.read(dir);
    BundleFiles.verify(dir, m.files());
    OrtSession enc = open(env, dir, m.encoder(), options);
    OrtSession dec;
    try {
      dec = open(env, dir, m.decoder(), options);
    } catch (RuntimeException e) {
      closeQuietly(enc);
      throw e;
    }
    try {
      return new Segmenter(m, env, enc, dec);
    } catch (RuntimeException e) {
      closeQuietly(dec);
      closeQuietly(enc);
      throw e;
    }
  }

  private static OrtSession open(
      OrtEnvironment env, Path dir, String file, OrtSession.SessionOptions o) {
    try {
      return NativeCalls.call(() -> env.createSession(dir.resolve(file).toString(), o));
    } catch (OrtException e) {
      throw new ModelLoadException(
          "cannot load segmenter graph " + file + ": " + e.getMessage(), e);
    }
  }

  /** The bundle's layout. */
  public SamManifest.Layout layout() {
    return manifest.layout();
  }

  /**
   * One mask per region, in order: a mask region as given, every other region through SAM. The
   * image is encoded at most once per call.
   *
   * @throws InvalidInputException for a region that does not fit the image, a box region when the
   *     HF decoder has no {@code input_boxes}, or a prompt whose best mask is empty
   */
  @Override
  public List<Mask> masks(DamImage image, List<Region> regions) {
    if (closed.get()) {
      throw new IllegalStateException("Segmenter is closed");
    }
    int h = image.height();
    int w = image.width();
    Mask[] out = new Mask[regions.size()];
    List<Integer> pending = new ArrayList<>();
    List<SamPrompt> prompts = new ArrayList<>();
    for (int i = 0; i < regions.size(); i++) {
      Region r = regions.get(i);
      r.validateFor(w, h);
      if (r instanceof Region.MaskRegion mr) {
        out[i] = mr.mask();
      } else {
        pending.add(i);
        prompts.add(prompt(r, h, w));
      }
    }
    if (!prompts.isEmpty()) {
      List<Mask> made = segment(image, prompts, regions, pending);
      for (int k = 0; k < made.size(); k++) {
        out[pending.get(k)] = made.get(k);
      }
    }
    return List.of(out);
  }

  SamPrompt prompt(Region r, int h, int w) {
    if (r instanceof Region.BoxRegion
        && manifest.layout() == SamManifest.Layout.HF_SPLIT
        && !io.boxes()) {
      throw new InvalidInputException(
          "the segmenter's decoder ("
              + manifest.decoder()
              + ") has no input "
              + INPUT_BOXES
              + ", so it cannot take a box: pass points, or use an export with "
              + INPUT_BOXES
              + " or the segment-anything layout");
    }
    return SamPrompt.of(r, h, w, processor);
  }

  private List<Mask> segment(
      DamImage image, List<SamPrompt> prompts, List<Region> regions, List<Integer> index) {
    int h = image.height();
    int w = image.width();
    int s = processor.padSize();
    float[] pixels = processor.pixelValues(image);
    Mask[] out = new Mask[prompts.size()];
    try (TensorScope pixelScope = new TensorScope(env);
        OrtSession.Result emb =
            Graphs.run(
                encoder,
                "segmenter encoder",
                Map.of(io.encoderInput(), pixelScope.floats(pixels, 1, 3, s, s)))) {
      Map<String, OnnxTensorLike> embeddings = new HashMap<>();
      embeddings.put(
          IMAGE_EMBEDDINGS,
          emb.get(IMAGE_EMBEDDINGS).isPresent()
              ? (OnnxTensor) emb.get(IMAGE_EMBEDDINGS).get()
              : (OnnxTensor) emb.get(0));
      if (manifest.layout() == SamManifest.Layout.HF_SPLIT) {
        embeddings.put(IMAGE_PE, Graphs.output(emb, IMAGE_PE, "segmenter encoder"));
        // prompts with the same shape share a run: boxes together, points by count
        Map<Integer, List<Integer>> groups = new TreeMap<>();
        for (int i = 0; i < prompts.size(); i++) {
          int key = prompts.get(i).box() != null ? -1 : prompts.get(i).count();
          groups.computeIfAbsent(key, k -> new ArrayList<>()).add(i);
        }
        for (List<Integer> g : groups.values()) {
          decodeHf(embeddings, prompts, g, h, w, out);
        }
      } else {
        for (int i = 0; i < prompts.size(); i++) {
          out[i] = decodeSam(embeddings, prompts.get(i), h, w);
        }
      }
    }
    for (int i = 0; i < out.length; i++) {
      if (out[i].isEmpty()) {
        throw new InvalidInputException(
            "the segmenter found nothing for "
                + regions.get(index.get(i))
                + ": its best mask is empty; pass another prompt or a mask");
      }
    }
    return List.of(out);
  }

  private void decodeHf(
      Map<String, OnnxTensorLike> embeddings,
      List<SamPrompt> prompts,
      List<Integer> group,
      int h,
      int w,
      Mask[] out) {
    int p = group.size();
    SamPrompt first = prompts.get(group.get(0));
    boolean box = first.box() != null;
    int n = first.count();
    float[] pts = new float[p * n * 2];
    long[] labs = new long[p * n];
    float[] bx = new float[box ? p * 4 : 0];
    for (int k = 0; k < p; k++) {
      SamPrompt q = prompts.get(group.get(k));
      for (int i = 0; i < n * 2; i++) {
        pts[k * n * 2 + i] = (float) q.points()[i];
      }
      for (int i = 0; i < n; i++) {
        labs[k * n + i] = q.labels()[i];
      }
      if (box) {
        for (int i = 0; i < 4; i++) {
          bx[k * 4 + i] = (float) q.box()[i];
        }
      }
    }
    try (TensorScope made = new TensorScope(env)) {
      Map<String, OnnxTensorLike> in = new LinkedHashMap<>(embeddings);
      in.put(INPUT_POINTS, made.floats(pts, 1, p, n, 2));
      in.put(INPUT_LABELS, io.labels32() ? made.ints(labs, 1, p, n) : made.longs(labs, 1, p, n));
      if (io.boxes()) {
        in.put(INPUT_BOXES, made.floats(bx, 1, box ? p : 0, 4));
      }
      try (OrtSession.Result r = Graphs.run(decoder, "segmenter decoder", in)) {
        OnnxTensor iou = Graphs.output(r, IOU_SCORES, "segmenter decoder");
        OnnxTensor masks = Graphs.output(r, PRED_MASKS, "segmenter decoder");
        long[] ms = masks.getInfo().getShape(); // (1, P, K, lh, lw)
        long[] is = iou.getInfo().getShape(); // (1, P, K)
        if (ms.length != 5 || ms[1] != p || is.length != 3 || is[2] != ms[2]) {
          throw new InferenceException(
              "segmenter decoder returned pred_masks "
                  + java.util.Arrays.toString(ms)
                  + " and iou_scores "
                  + java.util.Arrays.toString(is)
                  + " for "
                  + p
                  + " prompts: expected (1, P, K, H, W) and (1, P, K)");
        }
        int kk = (int) ms[2];
        int lh = (int) ms[3];
        int lw = (int) ms[4];
        float[] scores = floats(iou);
        float[] logits = floats(masks);
        for (int k = 0; k < p; k++) {
          int best = best(scores, k * kk, kk);
          out[group.get(k)] =
              processor.postProcess(logits, ((k * kk) + best) * lh * lw, lh, lw, h, w);
        }
      }
    }
  }

  private Mask decodeSam(Map<String, OnnxTensorLike> embeddings, SamPrompt q, int h, int w) {
    int n = q.box() != null ? q.count() + 2 : q.count() + 1;
    float[] pts = new float[n * 2];
    float[] labs = new float[n];
    for (int i = 0; i < q.count(); i++) {
      pts[2 * i] = (float) q.points()[2 * i];
      pts[2 * i + 1] = (float) q.points()[2 * i + 1];
      labs[i] = q.labels()[i];
    }
    int j = q.count();
    if (q.box() != null) {
      for (int i = 0; i < 4; i++) {
        pts[2 * j + i] = (float) q.box()[i];
      }
      labs[j] = 2;
      labs[j + 1] = 3;
    } else {
      labs[j] = -1; // the export's padding point (0, 0), as SamPredictor does without a box
    }
    long[] mi = io.maskInputShape();
    try (TensorScope made = new TensorScope(env)) {
      Map<String, OnnxTensorLike> in = new LinkedHashMap<>(embeddings);
      in.put(POINT_COORDS, made.floats(pts, 1, n, 2));
      in.put(POINT_LABELS, made.floats(labs, 1, n));
      in.put(MASK_INPUT, made.floats(new float[(int) (mi[0] * mi[1] * mi[2] * mi[3])], mi));
      in.put(HAS_MASK_INPUT, made.floats(new float[] {0}, 1));
      in.put(ORIG_IM_SIZE, made.floats(new float[] {h, w}, 2));
      try (OrtSession.Result r = Graphs.run(decoder, "segmenter decoder", in)) {
        OnnxTensor iou = Graphs.output(r, IOU_PREDICTIONS, "segmenter decoder");
        OnnxTensor masks = Graphs.output(r, LOW_RES_MASKS, "segmenter decoder");
        long[] ms = masks.getInfo().getShape(); // (1, K, lh, lw)
        if (ms.length != 4 || iou.getInfo().getShape()[1] != ms[1]) {
          throw new InferenceException(
              "segmenter decoder returned low_res_masks "
                  + java.util.Arrays.toString(ms)
                  + ": expected (1, K, H, W) with K = iou_predictions' K");
        }
        int kk = (int) ms[1];
        // 4 candidates = the single-mask token first, then the 3 multimask ones HF keeps
        int from = kk == 4 ? 1 : 0;
        int best = best(floats(iou), from, kk - from);
        int lh = (int) ms[2];
        int lw = (int) ms[3];
        return processor.postProcess(floats(masks), (from + best) * lh * lw, lh, lw, h, w);
      }
    }
  }

  /** The first index of the maximum of {@code v[from .. from + n)}, relative to {@code from}. */
  static int best(float[] v, int from, int n) {
    int b = 0;
    for (int i = 1; i < n; i++) {
      if (v[from + i] > v[from + b]) {
        b = i;
      }
    }
    return b;
  }

  private static float[] floats(OnnxTensor t) {
    FloatBuffer b = t.getFloatBuffer();
    float[] out = new float[b.remaining()];
    b.get(out);
    return out;
  }

  private static void closeQuietly(OrtSession s) {
    try {
      s.close();
    } catch (OrtException e) {
      // closing only fails for an already closed session
    }
  }

  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      closeQuietly(decoder);
      closeQuietly(encoder);
    }
  }
}

package io.damjava.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtSession;
import io.damjava.onnx.bundle.BundleManifest;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Regions → image embeddings, the reference's {@code encode_images_with_context} and projector, one
 * region per run (see {@link #encode}).
 *
 * <pre>
 * context pixels (B,4,S,S) --visionContext--> context (B,N,Hv)
 * focal pixels   (F,4,S,S) + context rows (F,N,Hv) --visionFocal--> focal (F,N,Hv)
 *     F = regions not in the equality branch; the others keep their context rows
 * features (B,N,Hv) --projector--> embeds (B,I,H)
 * </pre>
 *
 * Stateless; every tensor it makes is closed before it returns.
 */
final class VisionEncoder {
  private final Graphs g;
  private final RegionTensor tensor;
  private final int size; // S
  private final int tokens; // N
  private final int hidden; // Hv

  VisionEncoder(Graphs g, RegionTensor tensor, BundleManifest.Dims d) {
    this.g = g;
    this.tensor = tensor;
    this.size = d.imageSize();
    this.tokens = d.visionTokens();
    this.hidden = d.visionHidden();
  }

  /**
   * Encodes the regions one at a time, so that a region's embeddings never depend on the others of
   * its call: int8-dynamic vision graphs (DynamicQuantizeMatMul) quantize the activations with one
   * scale per run, which a batch would share. One at a time is also not slower on CPU: 4 regions in
   * one batch took 3.9-8.3x one region in every measured run (docs/engine.md).
   *
   * @return (B, I, H) float32, the projected embeddings of each region in order
   */
  float[] encode(List<Preprocessor.Region> regions) {
    if (regions.size() == 1) {
      return encodeBatch(regions);
    }
    float[][] each = new float[regions.size()][];
    int total = 0;
    for (int i = 0; i < each.length; i++) {
      each[i] = encodeBatch(List.of(regions.get(i)));
      total += each[i].length;
    }
    float[] out = new float[total];
    int at = 0;
    for (float[] e : each) {
      System.arraycopy(e, 0, out, at, e.length);
      at += e.length;
    }
    return out;
  }

  /** One batch of regions through the three graphs. */
  private float[] encodeBatch(List<Preprocessor.Region> regions) {
    int b = regions.size();
    int plane = 4 * size * size;
    List<Integer> focal = new ArrayList<>();
    BundleManifest.GraphSpec cs = g.specs.visionContext();
    try (OffHeap ctxPx = OffHeap.floats((long) b * plane); // (B,4,S,S)
        OnnxTensor px =
            Tensors.of(g.env, pixels(ctxPx.floats(), regions, focal), b, 4, size, size);
        OrtSession.Result ctx =
            Graphs.run(g.visionContext, "visionContext", Map.of(cs.input("pixels"), px))) {
      OnnxTensor context = Graphs.output(ctx, cs.output("features"), "visionContext");
      if (focal.isEmpty()) {
        return project(context, b);
      }
      try (OffHeap features = withFocal(regions, focal, context);
          OnnxTensor f = Tensors.of(g.env, features.floats(), b, tokens, hidden)) {
        return project(f, b);
      }
    }
  }

  /** Writes every region's context pixels and lists the regions that need a focal pass. */
  private FloatBuffer pixels(
      FloatBuffer ctxPx, List<Preprocessor.Region> regions, List<Integer> focal) {
    for (int i = 0; i < regions.size(); i++) {
      Preprocessor.Region r = regions.get(i);
      tensor.write(ctxPx, r.fullRgb(), r.fullMask());
      if (!r.focalIsContext()) {
        focal.add(i);
      }
    }
    return ctxPx.rewind();
  }

  /** (B,N,Hv): focal features for the regions in {@code focal}, context rows for the others. */
  private OffHeap withFocal(
      List<Preprocessor.Region> regions, List<Integer> focal, OnnxTensor context) {
    int b = regions.size();
    int fb = focal.size();
    int row = tokens * hidden;
    FloatBuffer ctx = context.getFloatBuffer(); // (B,N,Hv) heap copy
    BundleManifest.GraphSpec fs = g.specs.visionFocal();
    OffHeap result = OffHeap.floats((long) b * row); // (B,N,Hv)
    FloatBuffer out = result.floats();
    try (OffHeap focalHeap = OffHeap.floats((long) fb * 4 * size * size); // (F,4,S,S)
        OffHeap focalCtxHeap = OffHeap.floats((long) fb * row); // (F,N,Hv)
        OnnxTensor px =
            Tensors.of(g.env, focalPixels(focalHeap.floats(), regions, focal), fb, 4, size, size);
        OnnxTensor c =
            Tensors.of(
                g.env, focalContext(focalCtxHeap.floats(), ctx, focal, row), fb, tokens, hidden);
        OrtSession.Result res =
            Graphs.run(
                g.visionFocal,
                "visionFocal",
                Map.of(fs.input("pixels"), px, fs.input("context"), c))) {
      FloatBuffer f = Graphs.output(res, fs.output("features"), "visionFocal").getFloatBuffer();
      int k = 0;
      for (int i = 0; i < b; i++) {
        if (k < fb && focal.get(k) == i) {
          out.put(f.duplicate().position(k * row).limit((k + 1) * row));
          k++;
        } else {
          out.put(ctx.duplicate().position(i * row).limit((i + 1) * row));
        }
      }
    } catch (RuntimeException e) {
      result.close();
      throw e;
    }
    out.rewind();
    return result;
  }

  private FloatBuffer focalPixels(
      FloatBuffer focalPx, List<Preprocessor.Region> regions, List<Integer> focal) {
    for (int i : focal) {
      Preprocessor.Region r = regions.get(i);
      tensor.write(focalPx, r.cropRgb(), r.cropMask());
    }
    return focalPx.rewind();
  }

  private static FloatBuffer focalContext(
      FloatBuffer focalCtx, FloatBuffer ctx, List<Integer> focal, int row) {
    for (int i : focal) {
      focalCtx.put(ctx.duplicate().position(i * row).limit((i + 1) * row));
    }
    return focalCtx.rewind();
  }

  private float[] project(OnnxTensor features, int b) {
    BundleManifest.GraphSpec ps = g.specs.projector();
    try (OrtSession.Result r =
        Graphs.run(g.projector, "projector", Map.of(ps.input("features"), features))) {
      FloatBuffer e = Graphs.output(r, ps.output("embeds"), "projector").getFloatBuffer();
      float[] out = new float[e.remaining()];
      e.get(out);
      return out;
    }
  }
}

package io.damjava.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxTensorLike;
import ai.onnxruntime.OrtSession;
import io.damjava.onnx.bundle.BundleManifest;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * One decode step of B sequences together, as the engine's {@code Decoder} runs it for the regions
 * of one call: embedTokens over (B,1) ids, then one decoder run over a (B, kvHeads, context,
 * headDim) past per layer and role, then every row's logits copied out. The past is random (a
 * step's cost does not depend on the cached values) and fixed, so every step reads exactly {@code
 * context} positions per row. In the shared layout the step writes position {@code context} of each
 * row in place (a capacity of context + 64 rounded as {@code Decoder} rounds). Float32 KV only.
 * Close it after use.
 *
 * <p>A benchmark seam (dam-bench's {@code BatchedDecodeBenchmark}), not part of the stable API,
 * which is dam-api.
 */
public final class BatchedStep implements AutoCloseable {
  private final Graphs g;
  private final BundleManifest.GraphSpec dec;
  private final BundleManifest.GraphSpec es;
  private final int batch;
  private final int context;
  private final boolean shared;
  private final OnnxTensor[] keys;
  private final OnnxTensor[] values;
  private final OnnxTensor ids;
  private final OnnxTensor mask;
  private final OnnxTensor positions;
  private final float[] row;

  public BatchedStep(EngineStages engine, int batch, int context, long seed) {
    BundleManifest.Dims d = engine.manifest().dims();
    if (!d.kvDtype().equals("float32")) {
      throw new IllegalStateException("BatchedStep supports float32 KV only, not " + d.kvDtype());
    }
    this.g = engine.graphs();
    this.dec = g.specs.decoder();
    this.es = g.specs.embedTokens();
    this.batch = batch;
    this.context = context;
    this.shared = engine.sharedKv();
    int cap = context;
    if (shared) {
      int step = Decoder.CAPACITY_STEP;
      cap = Math.min(d.maxPositions(), (context + 1 + step - 1) / step * step);
    }
    Random r = new Random(seed);
    int n = d.layers();
    keys = new OnnxTensor[n];
    values = new OnnxTensor[n];
    long count = (long) batch * d.kvHeads() * cap * d.headDim();
    long[] shape = {batch, d.kvHeads(), cap, d.headDim()};
    for (int i = 0; i < n; i++) {
      keys[i] = Tensors.of(g.env, DecodeSteps.randomFloats(count, r), shape);
      values[i] = Tensors.of(g.env, DecodeSteps.randomFloats(count, r), shape);
    }
    LongBuffer idBuf = Tensors.longs(batch);
    LongBuffer posBuf = Tensors.longs(batch);
    LongBuffer maskBuf = Tensors.longs(batch * (context + 1));
    for (int b = 0; b < batch; b++) {
      idBuf.put(b, 100 + b);
      posBuf.put(b, context);
    }
    for (int i = 0; i < batch * (context + 1); i++) {
      maskBuf.put(i, 1L);
    }
    ids = Tensors.of(g.env, idBuf, batch, 1);
    positions = Tensors.of(g.env, posBuf, batch, 1);
    mask = Tensors.of(g.env, maskBuf, batch, context + 1);
    row = new float[d.vocabSize()];
  }

  /**
   * One step for all rows; returns the sum of every row's argmax (so nothing is optimized away).
   */
  public int step() {
    try (OrtSession.Result e =
        Graphs.run(g.embedTokens, "embedTokens", Map.of(es.input("ids"), ids))) {
      Map<String, OnnxTensorLike> in = new HashMap<>();
      in.put(dec.input("embeds"), Graphs.output(e, es.output("embeds"), "embedTokens"));
      in.put(dec.input("attentionMask"), mask);
      in.put(dec.input("positionIds"), positions);
      Map<String, OnnxTensor> pinned = new HashMap<>();
      for (int i = 0; i < keys.length; i++) {
        in.put(String.format(dec.input("pastKey"), i), keys[i]);
        in.put(String.format(dec.input("pastValue"), i), values[i]);
        pinned.put(String.format(dec.output("presentKey"), i), keys[i]);
        pinned.put(String.format(dec.output("presentValue"), i), values[i]);
      }
      String logits = dec.output("logits");
      try (OrtSession.Result r =
          shared
              ? Graphs.run(g.decoder, "decoder", in, Set.of(logits), pinned)
              : Graphs.run(g.decoder, "decoder", in)) {
        FloatBuffer all = Graphs.output(r, logits, "decoder").getFloatBuffer();
        int sum = 0;
        for (int b = 0; b < batch; b++) {
          all.get(b * row.length, row);
          sum += Samplers.argmax(row);
        }
        return sum;
      }
    }
  }

  public int batch() {
    return batch;
  }

  public int context() {
    return context;
  }

  @Override
  public void close() {
    ids.close();
    positions.close();
    mask.close();
    for (int i = 0; i < keys.length; i++) {
      keys[i].close();
      values[i].close();
    }
  }
}

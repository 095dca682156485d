package io.damjava.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxTensorLike;
import ai.onnxruntime.OrtSession;
import io.damjava.onnx.bundle.BundleManifest;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * The decoder half of {@link EngineStages}: prefill, one decode step at a fixed past length, a
 * random KV cache and the logits of a result, each run as {@code Decoder} runs it. Not thread-safe.
 */
final class DecodeSteps {
  private final Graphs g;
  private final BundleManifest.Dims d;
  private final BundleManifest.GraphSpec dec;
  private final LongBuffer ones;

  DecodeSteps(Graphs g, BundleManifest.Dims d) {
    this.g = g;
    this.d = d;
    dec = g.specs.decoder();
    ones = Tensors.longs(d.maxPositions());
    for (int i = 0; i < d.maxPositions(); i++) {
      ones.put(i, 1L);
    }
  }

  private boolean sharedKv() {
    return d.kvCache() == BundleManifest.KvCache.SHARED;
  }

  /** See {@link EngineStages#prefill}. */
  OrtSession.Result prefill(FloatBuffer embeds, int length) {
    LongBuffer pos = Tensors.longs(length);
    for (int i = 0; i < length; i++) {
      pos.put(i, i);
    }
    boolean fp16Kv = d.kvDtype().equals("float16");
    List<OnnxTensor> made = new ArrayList<>();
    try {
      Map<String, OnnxTensorLike> in = new HashMap<>();
      in.put(dec.input("embeds"), keep(made, Tensors.of(g.env, embeds, 1, length, d.hidden())));
      in.put(
          dec.input("attentionMask"),
          keep(made, Tensors.of(g.env, ones.duplicate().limit(length), 1, length)));
      in.put(dec.input("positionIds"), keep(made, Tensors.of(g.env, pos, 1, length)));
      long[] empty = {1, d.kvHeads(), 0, d.headDim()};
      for (int i = 0; i < d.layers(); i++) {
        in.put(
            String.format(dec.input("pastKey"), i),
            keep(made, Tensors.emptyKv(g.env, fp16Kv, empty)));
        in.put(
            String.format(dec.input("pastValue"), i),
            keep(made, Tensors.emptyKv(g.env, fp16Kv, empty)));
      }
      return Graphs.run(g.prefill, "decoder", in);
    } finally {
      for (OnnxTensor t : made) {
        t.close();
      }
    }
  }

  private static OnnxTensor keep(List<OnnxTensor> made, OnnxTensor t) {
    made.add(t);
    return t;
  }

  /** See {@link EngineStages#randomPast}. */
  StageKv randomPast(int length, long seed) {
    if (!d.kvDtype().equals("float32")) {
      throw new IllegalStateException("randomPast supports float32 KV only, not " + d.kvDtype());
    }
    int cap = length;
    if (sharedKv()) {
      int step = Decoder.CAPACITY_STEP;
      cap = Math.min(d.maxPositions(), (length + 256 + step - 1) / step * step);
    }
    Random r = new Random(seed);
    int n = d.layers();
    OnnxTensor[] k = new OnnxTensor[n];
    OnnxTensor[] v = new OnnxTensor[n];
    long count = (long) d.kvHeads() * cap * d.headDim();
    for (int i = 0; i < n; i++) {
      k[i] = Tensors.of(g.env, randomFloats(count, r), 1, d.kvHeads(), cap, d.headDim());
      v[i] = Tensors.of(g.env, randomFloats(count, r), 1, d.kvHeads(), cap, d.headDim());
    }
    return new StageKv(k, v);
  }

  /** n float32 N(0, 1) values from {@code r}, as a direct buffer. */
  static FloatBuffer randomFloats(long n, Random r) {
    FloatBuffer b = Tensors.floats(n);
    for (int i = 0; i < n; i++) {
      b.put(i, (float) r.nextGaussian());
    }
    return b;
  }

  /** See {@link EngineStages#step(OrtSession.Result, int, int)}. */
  OrtSession.Result step(OrtSession.Result past, int pastLength, int id) {
    int n = d.layers();
    OnnxTensorLike[] k = new OnnxTensorLike[n];
    OnnxTensorLike[] v = new OnnxTensorLike[n];
    for (int i = 0; i < n; i++) {
      k[i] = Graphs.output(past, String.format(dec.output("presentKey"), i), "decoder");
      v[i] = Graphs.output(past, String.format(dec.output("presentValue"), i), "decoder");
    }
    return step(k, v, pastLength, id, null);
  }

  /** See {@link EngineStages#step(StageKv, int, int)}. */
  OrtSession.Result step(StageKv past, int pastLength, int id) {
    if (sharedKv()) {
      Map<String, OnnxTensor> pinned = new HashMap<>();
      for (int i = 0; i < past.keys.length; i++) {
        pinned.put(String.format(dec.output("presentKey"), i), past.keys[i]);
        pinned.put(String.format(dec.output("presentValue"), i), past.values[i]);
      }
      return step(past.keys, past.values, pastLength, id, pinned);
    }
    return step(past.keys, past.values, pastLength, id, null);
  }

  private OrtSession.Result step(
      OnnxTensorLike[] keys,
      OnnxTensorLike[] values,
      int pastLength,
      int id,
      Map<String, OnnxTensor> pinned) {
    BundleManifest.GraphSpec es = g.specs.embedTokens();
    LongBuffer tokenId = Tensors.longs(1);
    LongBuffer position = Tensors.longs(1);
    tokenId.put(0, id);
    position.put(0, pastLength);
    try (OnnxTensor ids = Tensors.of(g.env, tokenId, 1, 1);
        OrtSession.Result e =
            Graphs.run(g.embedTokens, "embedTokens", Map.of(es.input("ids"), ids));
        OnnxTensor mask =
            Tensors.of(g.env, ones.duplicate().limit(pastLength + 1), 1, pastLength + 1);
        OnnxTensor pos = Tensors.of(g.env, position, 1, 1)) {
      Map<String, OnnxTensorLike> in = new HashMap<>();
      in.put(dec.input("embeds"), Graphs.output(e, es.output("embeds"), "embedTokens"));
      in.put(dec.input("attentionMask"), mask);
      in.put(dec.input("positionIds"), pos);
      for (int i = 0; i < keys.length; i++) {
        in.put(String.format(dec.input("pastKey"), i), keys[i]);
        in.put(String.format(dec.input("pastValue"), i), values[i]);
      }
      if (pinned != null) {
        return Graphs.run(g.decoder, "decoder", in, java.util.Set.of(dec.output("logits")), pinned);
      }
      return Graphs.run(g.decoder, "decoder", in);
    }
  }

  /** See {@link EngineStages#logits}. */
  float[] logits(OrtSession.Result r) {
    FloatBuffer b = Graphs.output(r, dec.output("logits"), "decoder").getFloatBuffer();
    float[] out = new float[b.remaining()];
    b.get(out);
    return out;
  }
}

package io.damjava.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxTensorLike;
import ai.onnxruntime.OrtSession;
import io.damjava.api.Cancellation;
import io.damjava.api.CaptionListener;
import io.damjava.api.StopReason;
import io.damjava.onnx.bundle.BundleManifest;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The language model with its KV cache: one prefill over the spliced prompt, then one token per
 * step, feeding each run's {@code present.*} outputs back as the next run's {@code
 * past_key_values.*} inputs. The KV tensors never cross the Java heap: the previous {@link
 * OrtSession.Result} stays open as the next run's input and is closed right after it.
 *
 * <pre>
 * prefill: embeds (1,L,H), attention_mask ones (1,L), position_ids [0..L-1] (1,L),
 *          past.* empty (1,kvHeads,0,headDim)  --> logits (1,1,V), present.* (1,kvHeads,L,headDim)
 * step:    embeds (1,1,H) from embed_tokens, attention_mask ones (1,P+1), position_ids [[P]],
 *          past.* = previous present.*          --> logits (1,1,V), present.* (1,kvHeads,P+1,headDim)
 * </pre>
 *
 * <p>With {@code dims.kvCache = shared} (contrib graphs only) past and present are one preallocated
 * buffer per layer and role, {@code (1,kvHeads,C,headDim)} with C = the prompt length plus the
 * token budget rounded up to {@link #CAPACITY_STEP} (at most maxPositions). The same tensor is the
 * {@code past_key_values.*} input and the pinned {@code present.*} output of every run;
 * GroupQueryAttention sees equal past and present pointers and writes the new rows in place at
 * position P (seqlens_k = P + T - 1 from the attention mask), so nothing is copied per step. The
 * buffers of a finished call are kept for the next one (see {@link #takeBuffers}).
 */
final class Decoder {
  /** Shared-mode capacities are multiples of this many positions. */
  static final int CAPACITY_STEP = 64;

  /** What one generation produced. */
  record Output(int[] tokens, StopReason stop) {}

  private final Graphs g;
  private final BundleManifest.Dims dims;
  private final int eos;
  private final boolean fp16Kv;
  private final String embeds;
  private final String mask;
  private final String positions;
  private final String logits;
  private final String[] pastKey;
  private final String[] pastValue;
  private final String[] presentKey;
  private final String[] presentValue;
  private final boolean shared;
  private final Set<String> logitsOnly;
  // Shared mode: the KV buffers of the last finished call, reused by the next (one set at most).
  private final AtomicReference<FloatBuffer[]> spare = new AtomicReference<>();

  Decoder(Graphs g, BundleManifest.Dims dims, int eos) {
    this.g = g;
    this.dims = dims;
    this.eos = eos;
    this.fp16Kv = dims.kvDtype().equals("float16");
    this.shared = dims.kvCache() == BundleManifest.KvCache.SHARED;
    BundleManifest.GraphSpec d = g.specs.decoder();
    embeds = d.input("embeds");
    mask = d.input("attentionMask");
    positions = d.input("positionIds");
    logits = d.output("logits");
    logitsOnly = Set.of(logits);
    int n = dims.layers();
    pastKey = new String[n];
    pastValue = new String[n];
    presentKey = new String[n];
    presentValue = new String[n];
    for (int i = 0; i < n; i++) {
      pastKey[i] = String.format(d.input("pastKey"), i);
      pastValue[i] = String.format(d.input("pastValue"), i);
      presentKey[i] = String.format(d.output("presentKey"), i);
      presentValue[i] = String.format(d.output("presentValue"), i);
    }
  }

  /**
   * Prefill, then sample until EOS, {@code maxNew} tokens, the position limit or cancellation.
   *
   * @param prompt (1, L, H) float32 direct buffer
   */
  Output generate(
      GenerationState st,
      FloatBuffer prompt,
      int length,
      int maxNew,
      Sampler sampler,
      TextTokenizer.Stream text,
      CaptionListener listener,
      Cancellation cancel) {
    long t0 = System.nanoTime();
    int limit = Math.min(maxNew, dims.maxPositions() - length + 1);
    FloatBuffer[] buffers = null;
    try {
      if (shared) {
        // positions written: the prompt, then one per sampled token except the last
        int need = length + Math.max(limit - 1, 0);
        int cap = (need + CAPACITY_STEP - 1) / CAPACITY_STEP * CAPACITY_STEP;
        cap = Math.max(length, Math.min(cap, dims.maxPositions()));
        long[] shape = {1, dims.kvHeads(), cap, dims.headDim()};
        buffers = takeBuffers(shape[1] * cap * shape[3]);
        st.useShared(g.env, buffers, shape);
      }
      return decode(st, prompt, length, limit, sampler, text, listener, cancel, t0);
    } finally {
      if (buffers != null) {
        spare.set(buffers); // no run uses them any more; the next call may
      }
    }
  }

  /**
   * The shared-mode buffers, 2 x layers direct float buffers of at least {@code n} elements: the
   * spare of an earlier call when it is large enough, otherwise new ones. Reuse bounds the direct
   * memory (a full-depth cache is hundreds of MB, and direct buffers are only freed by a GC) and
   * skips zeroing it per call; the price is that one set stays allocated while the engine is idle.
   */
  private FloatBuffer[] takeBuffers(long n) {
    FloatBuffer[] b = spare.getAndSet(null);
    if (b != null && b[0].capacity() >= n) {
      return b;
    }
    b = new FloatBuffer[2 * dims.layers()];
    for (int i = 0; i < b.length; i++) {
      b[i] = Tensors.floats(n);
    }
    return b;
  }

  private Output decode(
      GenerationState st,
      FloatBuffer prompt,
      int length,
      int limit,
      Sampler sampler,
      TextTokenizer.Stream text,
      CaptionListener listener,
      Cancellation cancel,
      long t0) {
    prefill(st, prompt, length);
    st.prefillNanos = System.nanoTime() - t0;
    t0 = System.nanoTime();
    int[] out = new int[limit];
    int n = 0;
    StopReason stop = StopReason.MAX_TOKENS;
    while (n < limit) {
      if (cancel != null && cancel.isCancelled()) {
        stop = StopReason.CANCELLED;
        break;
      }
      int id = sampler.sample(readLogits(st));
      if (id == eos) {
        stop = StopReason.EOS;
        break;
      }
      out[n++] = id;
      emit(id, text, listener);
      if (n < limit) {
        step(st, id);
      }
    }
    if (listener != null) {
      String rest = text.finish();
      if (!rest.isEmpty()) {
        listener.onText(rest);
      }
    }
    st.decodeNanos = System.nanoTime() - t0;
    return new Output(java.util.Arrays.copyOf(out, n), stop);
  }

  private void prefill(GenerationState st, FloatBuffer prompt, int length) {
    LongBuffer pos = Tensors.longs(length); // (1, L) int64
    for (int i = 0; i < length; i++) {
      pos.put(i, i);
    }
    Map<String, OnnxTensorLike> in = new HashMap<>();
    in.put(embeds, st.prefill(Tensors.of(g.env, prompt, 1, length, dims.hidden())));
    in.put(mask, st.prefill(Tensors.of(g.env, st.ones.duplicate().limit(length), 1, length)));
    in.put(positions, st.prefill(Tensors.of(g.env, pos, 1, length)));
    if (shared) {
      st.advance(runShared(in, st), length);
      st.releasePrefill();
      return;
    }
    long[] empty = {1, dims.kvHeads(), 0, dims.headDim()};
    for (int i = 0; i < dims.layers(); i++) {
      in.put(pastKey[i], st.prefill(Tensors.emptyKv(g.env, fp16Kv, empty)));
      in.put(pastValue[i], st.prefill(Tensors.emptyKv(g.env, fp16Kv, empty)));
    }
    st.advance(Graphs.run(g.decoder, "decoder", in), length);
    st.releasePrefill();
  }

  private void step(GenerationState st, int id) {
    BundleManifest.GraphSpec es = g.specs.embedTokens();
    int p = st.pastLength;
    st.tokenId.put(0, id);
    st.position.put(0, p);
    try (OnnxTensor ids = Tensors.of(g.env, st.tokenId, 1, 1);
        OrtSession.Result e =
            Graphs.run(g.embedTokens, "embedTokens", Map.of(es.input("ids"), ids));
        OnnxTensor m = Tensors.of(g.env, st.ones.duplicate().limit(p + 1), 1, p + 1);
        OnnxTensor pos = Tensors.of(g.env, st.position, 1, 1)) {
      Map<String, OnnxTensorLike> in = new HashMap<>();
      in.put(embeds, Graphs.output(e, es.output("embeds"), "embedTokens"));
      in.put(mask, m);
      in.put(positions, pos);
      if (shared) {
        st.advance(runShared(in, st), p + 1);
        return;
      }
      for (int i = 0; i < dims.layers(); i++) {
        in.put(pastKey[i], Graphs.output(st.kv, presentKey[i], "decoder"));
        in.put(pastValue[i], Graphs.output(st.kv, presentValue[i], "decoder"));
      }
      st.advance(Graphs.run(g.decoder, "decoder", in), p + 1);
    }
  }

  /** One decoder run with each layer's shared buffer as both its past input and pinned present. */
  private OrtSession.Result runShared(Map<String, OnnxTensorLike> in, GenerationState st) {
    Map<String, OnnxTensor> pinned = new HashMap<>();
    for (int i = 0; i < dims.layers(); i++) {
      in.put(pastKey[i], st.sharedKey[i]);
      in.put(pastValue[i], st.sharedValue[i]);
      pinned.put(presentKey[i], st.sharedKey[i]);
      pinned.put(presentValue[i], st.sharedValue[i]);
    }
    return Graphs.run(g.decoder, "decoder", in, logitsOnly, pinned);
  }

  private float[] readLogits(GenerationState st) {
    FloatBuffer b = Graphs.output(st.kv, logits, "decoder").getFloatBuffer(); // (1,1,V)
    if (st.logits.length != b.remaining()) {
      st.logits = new float[b.remaining()];
    }
    b.get(st.logits);
    return st.logits;
  }

  private static void emit(int id, TextTokenizer.Stream text, CaptionListener listener) {
    if (listener != null) {
      listener.onToken(id);
      String delta = text.push(id);
      if (!delta.isEmpty()) {
        listener.onText(delta);
      }
    }
  }
}

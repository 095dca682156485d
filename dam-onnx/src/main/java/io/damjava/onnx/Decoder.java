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
import java.util.concurrent.atomic.AtomicReference;

/**
 * The language model with its KV cache: one prefill over the spliced prompt, then one token per
 * step, feeding each run's {@code present.*} outputs back as the next run's {@code
 * past_key_values.*} inputs. The KV tensors never cross the Java heap: the previous {@link
 * OrtSession.Result} stays open as the next run's input and is closed right after it.
 *
 * <pre>
 * prefill: embeds (B,L,H), attention_mask ones (B,L), position_ids [0..L-1] (B,L),
 *          past.* empty (B,kvHeads,0,headDim)  --> logits (B,1,V), present.* (B,kvHeads,L,headDim)
 * step:    embeds (B,1,H) from embed_tokens, attention_mask ones (B,P+1), position_ids P (B,1),
 *          past.* = previous present.*          --> logits (B,1,V), present.* (B,kvHeads,P+1,headDim)
 * </pre>
 *
 * <p>B sequences of one prompt length (the regions of one call) decode together; every row has its
 * own sampler and stop, and rows that stopped ride along until the last one stops.
 *
 * <p>With {@code dims.kvCache = shared} (contrib graphs only) past and present are one preallocated
 * buffer per layer and role, {@code (B,kvHeads,C,headDim)} with C = the prompt length plus the
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
  private final String[] pastKey;
  private final String[] pastValue;
  private final String[] presentKey;
  private final String[] presentValue;
  private final boolean shared;
  private final InPlaceIo io; // embeds, mask, positions, logits names and the in-place maps
  // Shared mode: the KV buffers of the last finished call, reused by the next (one set at most).
  private final AtomicReference<OffHeap[]> spare = new AtomicReference<>();

  Decoder(Graphs g, BundleManifest.Dims dims, int eos) {
    this.g = g;
    this.dims = dims;
    this.eos = eos;
    this.fp16Kv = dims.kvDtype().equals("float16");
    this.shared = dims.kvCache() == BundleManifest.KvCache.SHARED;
    BundleManifest.GraphSpec d = g.specs.decoder();
    io = new InPlaceIo(d, dims.layers());
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
    return generate(
        st,
        prompt,
        1,
        length,
        maxNew,
        new Sampler[] {sampler},
        new TextTokenizer.Stream[] {text},
        listener,
        cancel)[0];
  }

  /**
   * B sequences of one prompt length decoded together: one prefill over {@code (B, L, H)}, then one
   * decoder run per step for all B, each row sampled by its own sampler. A row that reached its EOS
   * keeps being fed a token (its outputs ignored) until every row has stopped, so all rows share
   * one past length and no padding is needed. The weights are read once per step for all B rows:
   * that is the throughput gain of a memory-bound decode.
   *
   * @param prompt (B, L, H) float32 direct buffer
   * @param listener receives row 0's tokens and text; only with {@code batch == 1}
   * @return one output per row
   */
  Output[] generate(
      GenerationState st,
      FloatBuffer prompt,
      int batch,
      int length,
      int maxNew,
      Sampler[] samplers,
      TextTokenizer.Stream[] texts,
      CaptionListener listener,
      Cancellation cancel) {
    if (listener != null && batch != 1) {
      throw new IllegalArgumentException("a listener streams one sequence only");
    }
    long t0 = System.nanoTime();
    int limit = Math.min(maxNew, dims.maxPositions() - length + 1);
    OffHeap[] buffers = null;
    try {
      if (shared) {
        int cap = capacity(length, limit);
        long[] shape = {batch, dims.kvHeads(), cap, dims.headDim()};
        buffers = takeBuffers(shape[0] * shape[1] * cap * shape[3]);
        st.useShared(g.env, buffers, shape);
      }
      return decode(st, prompt, batch, length, limit, samplers, texts, listener, cancel, t0);
    } finally {
      if (buffers != null) {
        // no run uses them any more; the next call may (a spare it replaces is idle too)
        OffHeap[] replaced = spare.getAndSet(buffers);
        if (replaced != null) {
          OffHeap.closeAll(replaced);
        }
      }
    }
  }

  /** Shared mode: positions one row's buffer holds, the prompt plus the budget, rounded up. */
  private int capacity(int length, int limit) {
    return capacity(length, limit, dims.maxPositions());
  }

  /**
   * Positions an in-place cache row holds for a prompt of {@code length} and a budget of {@code
   * limit} tokens: the prompt, then one per sampled token except the last, rounded up to {@link
   * #CAPACITY_STEP}, at most {@code maxPositions}.
   */
  static int capacity(int length, int limit, int maxPositions) {
    int need = length + Math.max(limit - 1, 0);
    int cap = (need + CAPACITY_STEP - 1) / CAPACITY_STEP * CAPACITY_STEP;
    return Math.max(length, Math.min(cap, maxPositions));
  }

  /**
   * How many rows of this prompt length and token budget one batch may hold so that the shared KV
   * buffers (Java direct memory, B x 2 x layers x kvHeads x capacity x headDim floats) stay within
   * {@code budgetBytes}; at least 1. Unbounded for the growing cache, which ONNX Runtime allocates
   * natively.
   */
  int maxBatch(int length, int maxNew, long budgetBytes) {
    if (!shared) {
      return Integer.MAX_VALUE;
    }
    int limit = Math.min(maxNew, dims.maxPositions() - length + 1);
    long perRow = KvSlots.rowBytes(dims, capacity(length, limit));
    return (int) Math.max(1, Math.min(Integer.MAX_VALUE, budgetBytes / perRow));
  }

  /**
   * The shared-mode buffers, 2 x layers direct float buffers of at least {@code n} elements: the
   * spare of an earlier call when it is large enough, otherwise new ones. Reuse bounds the direct
   * memory (a full-depth cache is hundreds of MB) and skips zeroing it per call; the price is that
   * one set stays allocated while the engine is idle. A spare too small is freed.
   */
  private OffHeap[] takeBuffers(long n) {
    OffHeap[] b = spare.getAndSet(null);
    if (b != null && b[0].floats().capacity() >= n) {
      return b;
    }
    if (b != null) {
      OffHeap.closeAll(b);
    }
    return OffHeap.floats(2 * dims.layers(), n);
  }

  /** Frees the spare KV buffers; call once no generation runs. */
  void releaseSpare() {
    OffHeap[] b = spare.getAndSet(null);
    if (b != null) {
      OffHeap.closeAll(b);
    }
  }

  private Output[] decode(
      GenerationState st,
      FloatBuffer prompt,
      int batch,
      int length,
      int limit,
      Sampler[] samplers,
      TextTokenizer.Stream[] texts,
      CaptionListener listener,
      Cancellation cancel,
      long t0) {
    prefill(st, prompt, batch, length);
    st.prefillNanos = System.nanoTime() - t0;
    t0 = System.nanoTime();
    int[][] out = new int[batch][limit];
    int[] n = new int[batch];
    StopReason[] stop = new StopReason[batch];
    int running = batch;
    int[] ids = new int[batch];
    int steps = 0;
    while (running > 0 && steps < limit) {
      if (cancel != null && cancel.isCancelled()) {
        for (int b = 0; b < batch; b++) {
          if (stop[b] == null) {
            stop[b] = StopReason.CANCELLED;
          }
        }
        running = 0;
        break;
      }
      FloatBuffer all = // (B,1,V)
          st.rows != null
              ? st.rows.logits()
              : Graphs.output(st.kv, io.logits, "decoder").getFloatBuffer();
      int vocab = all.remaining() / batch;
      for (int b = 0; b < batch; b++) {
        if (stop[b] != null) {
          ids[b] = eos; // a filler whose outputs are ignored
          continue;
        }
        int id = samplers[b].sample(rowLogits(st, all, b, vocab));
        ids[b] = id;
        if (id == eos) {
          stop[b] = StopReason.EOS;
          running--;
          continue;
        }
        out[b][n[b]++] = id;
        if (b == 0) {
          emit(id, texts[0], listener);
        }
      }
      steps++;
      if (running > 0 && steps < limit) {
        step(st, ids, batch);
      }
    }
    if (listener != null) {
      String rest = texts[0].finish();
      if (!rest.isEmpty()) {
        listener.onText(rest);
      }
    }
    st.decodeNanos = System.nanoTime() - t0;
    Output[] result = new Output[batch];
    for (int b = 0; b < batch; b++) {
      StopReason s = stop[b] == null ? StopReason.MAX_TOKENS : stop[b];
      result[b] = new Output(java.util.Arrays.copyOf(out[b], n[b]), s);
    }
    return result;
  }

  /**
   * Prefills the batch on the bundle's prefill graph (the decoder itself where there is none), as
   * {@link ContinuousBatcher} does, so both paths give one prompt the same logits. Several rows run
   * on a separate prefill graph one at a time ({@link RowPrefill}): its int8-dynamic linears
   * quantize a run's activations with one scale, which would make rows prefilled together depend on
   * each other.
   */
  private void prefill(GenerationState st, FloatBuffer prompt, int batch, int length) {
    if (batch > 1 && g.prefill != g.decoder && !fp16Kv) {
      st.advance(RowPrefill.run(g, io, dims, st, prompt, batch, length, st.sharedBuffers), length);
      return;
    }
    OrtSession session = g.prefill;
    LongBuffer pos = st.scratchLongs(batch * length); // (B, L) int64
    for (int b = 0; b < batch; b++) {
      for (int i = 0; i < length; i++) {
        pos.put(b * length + i, i);
      }
    }
    Map<String, OnnxTensorLike> in = new HashMap<>();
    in.put(io.embeds, st.prefill(Tensors.of(g.env, prompt, batch, length, dims.hidden())));
    in.put(
        io.mask,
        st.prefill(Tensors.of(g.env, st.ones.duplicate().limit(batch * length), batch, length)));
    in.put(io.positions, st.prefill(Tensors.of(g.env, pos, batch, length)));
    if (shared) {
      st.advance(runShared(session, in, st), length);
      st.releasePrefill();
      return;
    }
    long[] empty = {batch, dims.kvHeads(), 0, dims.headDim()};
    for (int i = 0; i < dims.layers(); i++) {
      in.put(pastKey[i], st.prefill(Tensors.emptyKv(g.env, fp16Kv, empty)));
      in.put(pastValue[i], st.prefill(Tensors.emptyKv(g.env, fp16Kv, empty)));
    }
    st.advance(Graphs.run(session, "decoder", in), length);
    st.releasePrefill();
  }

  private void step(GenerationState st, int[] ids, int batch) {
    BundleManifest.GraphSpec es = g.specs.embedTokens();
    int p = st.pastLength;
    for (int b = 0; b < batch; b++) {
      st.tokenId.put(b, ids[b]);
      st.position.put(b, p);
    }
    try (OnnxTensor idTensor = Tensors.of(g.env, st.tokenId.duplicate().limit(batch), batch, 1);
        OrtSession.Result e =
            Graphs.run(g.embedTokens, "embedTokens", Map.of(es.input("ids"), idTensor));
        OnnxTensor m = Tensors.of(g.env, st.ones.duplicate().limit(batch * (p + 1)), batch, p + 1);
        OnnxTensor pos = Tensors.of(g.env, st.position.duplicate().limit(batch), batch, 1)) {
      Map<String, OnnxTensorLike> in = new HashMap<>();
      in.put(io.embeds, Graphs.output(e, es.output("embeds"), "embedTokens"));
      in.put(io.mask, m);
      in.put(io.positions, pos);
      if (shared) {
        st.advance(runShared(g.decoder, in, st), p + 1);
        return;
      }
      for (int i = 0; i < dims.layers(); i++) {
        in.put(pastKey[i], st.rows != null ? st.rows.key(i) : past(st, presentKey[i]));
        in.put(pastValue[i], st.rows != null ? st.rows.value(i) : past(st, presentValue[i]));
      }
      st.advance(Graphs.run(g.decoder, "decoder", in), p + 1);
    }
  }

  private static OnnxTensor past(GenerationState st, String present) {
    return Graphs.output(st.kv, present, "decoder");
  }

  /**
   * One run of {@code session} (the decoder, or the prefill graph) with each layer's shared buffer
   * as both its past input and pinned present.
   */
  private OrtSession.Result runShared(
      OrtSession session, Map<String, OnnxTensorLike> in, GenerationState st) {
    Map<String, OnnxTensor> pinned = new HashMap<>();
    for (int i = 0; i < dims.layers(); i++) {
      in.put(pastKey[i], st.sharedKey[i]);
      in.put(pastValue[i], st.sharedValue[i]);
      pinned.put(presentKey[i], st.sharedKey[i]);
      pinned.put(presentValue[i], st.sharedValue[i]);
    }
    return Graphs.run(session, "decoder", in, io.logitsOnly, pinned);
  }

  /** Row {@code b} of the (B,1,V) logits, copied into the state's reused array. */
  private static float[] rowLogits(GenerationState st, FloatBuffer all, int b, int vocab) {
    if (st.logits.length != vocab) {
      st.logits = new float[vocab];
    }
    all.get(b * vocab, st.logits);
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

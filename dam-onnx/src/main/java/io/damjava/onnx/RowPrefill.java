package io.damjava.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.damjava.onnx.bundle.BundleManifest;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;

/**
 * The prefill of B prompts of one length run one row at a time on the bundle's prefill graph, each
 * row's cache written straight into the batch's KV buffers (pinned outputs, no copy) and its
 * last-position logits gathered into one (B, 1, V) buffer.
 *
 * <p>Why not one run over (B, L, H): the int8-dynamic prefill graph quantizes a run's activations
 * with one scale, so rows prefilled together would depend on each other. Row by row, a region gets
 * the logits it gets alone and the ones {@link ContinuousBatcher} gives it.
 *
 * <p>Growing layout: this object owns the (B, kvHeads, L, headDim) caches until the first step has
 * consumed them. Shared layout: the rows are written into the call's shared buffers, and this
 * object holds the logits only. Closed by {@link GenerationState}.
 */
final class RowPrefill implements AutoCloseable {
  private final OffHeap[] buffers; // growing layout: key, value per layer; empty when shared
  private final OnnxTensor[] cache; // over buffers, key, value per layer
  private OffHeap logits; // (B, 1, V)

  private RowPrefill(OffHeap[] buffers, OnnxTensor[] cache) {
    this.buffers = buffers;
    this.cache = cache;
  }

  /** Growing layout: layer {@code i}'s (B, kvHeads, L, headDim) key cache. */
  OnnxTensor key(int i) {
    return cache[2 * i];
  }

  /** Growing layout: layer {@code i}'s (B, kvHeads, L, headDim) value cache. */
  OnnxTensor value(int i) {
    return cache[2 * i + 1];
  }

  /** The (B, 1, V) last-position logits, a fresh view. */
  FloatBuffer logits() {
    return logits.floats().duplicate();
  }

  /**
   * Prefills each of the {@code batch} rows of {@code prompt} ((B, L, H) float32) on {@code
   * g.prefill}.
   *
   * @param shared the call's shared KV buffers (key, value per layer, (B, kvHeads, capacity,
   *     headDim)), or null for the growing layout
   */
  static RowPrefill run(
      Graphs g,
      InPlaceIo io,
      BundleManifest.Dims d,
      GenerationState st,
      FloatBuffer prompt,
      int batch,
      int length,
      OffHeap[] shared) {
    int layers = d.layers();
    int positions = shared == null ? length : st.capacity;
    long rowFloats = (long) d.kvHeads() * positions * d.headDim();
    OffHeap[] own = shared == null ? OffHeap.floats(2 * layers, batch * rowFloats) : new OffHeap[0];
    OffHeap[] kv = shared == null ? own : shared;
    RowPrefill out = null;
    try {
      OnnxTensor[] cache = new OnnxTensor[shared == null ? 2 * layers : 0];
      out = new RowPrefill(own, cache);
      for (int i = 0; i < cache.length; i++) {
        cache[i] = Tensors.of(g.env, own[i].floats(), batch, d.kvHeads(), length, d.headDim());
      }
      LongBuffer pos = st.scratchLongs(length);
      for (int i = 0; i < length; i++) {
        pos.put(i, i);
      }
      long[] empty = {1, d.kvHeads(), 0, d.headDim()};
      for (int b = 0; b < batch; b++) {
        out.prefillRow(
            g, io, d, st, prompt, batch, b, length, pos, kv, rowFloats, positions, empty);
      }
      return out;
    } catch (RuntimeException e) {
      if (out != null) {
        out.close();
      } else {
        OffHeap.closeAll(own);
      }
      throw e;
    }
  }

  private void prefillRow(
      Graphs g,
      InPlaceIo io,
      BundleManifest.Dims d,
      GenerationState st,
      FloatBuffer prompt,
      int batch,
      int b,
      int length,
      LongBuffer pos,
      OffHeap[] kv,
      long rowFloats,
      int positions,
      long[] empty) {
    boolean shared = buffers.length == 0;
    OrtEnvironment env = g.env;
    int h = d.hidden();
    OnnxTensor[] view = new OnnxTensor[kv.length];
    OnnxTensor[] past = shared ? view : new OnnxTensor[kv.length];
    try (OnnxTensor e = Tensors.of(env, prompt.slice(b * length * h, length * h), 1, length, h);
        OnnxTensor m = Tensors.of(env, st.ones.slice(0, length), 1, length);
        OnnxTensor p = Tensors.of(env, pos.slice(0, length), 1, length)) {
      for (int i = 0; i < kv.length; i++) {
        FloatBuffer row = kv[i].floats().slice((int) (b * rowFloats), (int) rowFloats);
        view[i] = Tensors.of(env, row, 1, d.kvHeads(), positions, d.headDim());
        if (!shared) {
          past[i] = Tensors.emptyKv(env, false, empty);
        }
      }
      try (OrtSession.Result r =
          Graphs.run(
              g.prefill, "decoder", io.inputs(e, m, p, past), io.logitsOnly, io.pinned(view))) {
        FloatBuffer l = Graphs.output(r, io.logits, "decoder").getFloatBuffer();
        int vocab = l.remaining();
        if (logits == null) {
          logits = OffHeap.floats((long) vocab * batch);
        }
        logits.floats().put(b * vocab, l, 0, vocab);
      }
    } finally {
      KvSlots.close(view);
      if (!shared) {
        KvSlots.close(past);
      }
    }
  }

  @Override
  public void close() {
    KvSlots.close(cache);
    OffHeap.closeAll(buffers);
    if (logits != null) {
      logits.close();
      logits = null;
    }
  }
}

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
  private final Graphs g;
  private final InPlaceIo io;
  private final BundleManifest.Dims d;
  private final int batch;
  private final int length;
  private final int positions; // per row of the KV buffers: L (growing) or the capacity (shared)
  private final long rowFloats;
  private final OffHeap[] buffers; // growing layout: key, value per layer; empty when shared
  private final OffHeap[] kv; // the buffers written: these, or the call's shared ones
  private final OnnxTensor[] cache; // growing layout: (B, kvHeads, L, headDim) over buffers
  private OffHeap logits; // (B, 1, V)

  private RowPrefill(
      Graphs g, InPlaceIo io, BundleManifest.Dims d, int batch, int length, int cap, OffHeap[] sh) {
    this.g = g;
    this.io = io;
    this.d = d;
    this.batch = batch;
    this.length = length;
    positions = sh == null ? length : cap;
    rowFloats = (long) d.kvHeads() * positions * d.headDim();
    buffers = sh == null ? OffHeap.floats(2 * d.layers(), batch * rowFloats) : new OffHeap[0];
    kv = sh == null ? buffers : sh;
    cache = new OnnxTensor[buffers.length];
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
   * @param shared the call's shared KV buffers (key, value per layer, (B, kvHeads, {@code
   *     st.capacity}, headDim)), or null for the growing layout
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
    RowPrefill out = new RowPrefill(g, io, d, batch, length, st.capacity, shared);
    try {
      for (int i = 0; i < out.cache.length; i++) {
        out.cache[i] =
            Tensors.of(g.env, out.buffers[i].floats(), batch, d.kvHeads(), length, d.headDim());
      }
      LongBuffer pos = st.scratchLongs(length);
      for (int i = 0; i < length; i++) {
        pos.put(i, i);
      }
      for (int b = 0; b < batch; b++) {
        out.prefillRow(b, prompt, st.ones.slice(0, length), pos);
      }
      return out;
    } catch (RuntimeException e) {
      out.close();
      throw e;
    }
  }

  private void prefillRow(int b, FloatBuffer prompt, LongBuffer ones, LongBuffer pos) {
    boolean shared = buffers.length == 0;
    OrtEnvironment env = g.env;
    int h = d.hidden();
    OnnxTensor[] view = new OnnxTensor[kv.length];
    OnnxTensor[] past = shared ? view : new OnnxTensor[kv.length];
    long[] empty = {1, d.kvHeads(), 0, d.headDim()};
    try (OnnxTensor e = Tensors.of(env, prompt.slice(b * length * h, length * h), 1, length, h);
        OnnxTensor m = Tensors.of(env, ones, 1, length);
        OnnxTensor p = Tensors.of(env, pos, 1, length)) {
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

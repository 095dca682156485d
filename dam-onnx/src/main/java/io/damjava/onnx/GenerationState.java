package io.damjava.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Everything that changes during one decode: the last decoder result (whose {@code present.*}
 * tensors are the KV cache fed back as the next step's past), the small reused input buffers and
 * the per-stage clocks. Created per call and closed in a {@code finally}; never shared.
 */
final class GenerationState implements AutoCloseable {
  final LongBuffer ones; // (B*maxPositions) int64 ones; attention_mask views over its prefix
  final LongBuffer position; // (B,1) int64 position of the new tokens
  final LongBuffer tokenId; // (B,1) int64 ids of the new tokens
  private final List<OffHeap> owned = new ArrayList<>(); // freed by close, after every tensor
  float[] logits = new float[0]; // (V) one row's last-position logits
  OrtSession.Result kv; // last decoder run: logits (B,1,V), present.* (B,kvHeads,P,headDim)
  int pastLength; // P: positions held by kv
  // Shared KV mode only: one (B,kvHeads,capacity,headDim) buffer per layer and role, the decoder's
  // past and (pinned) present at once; GroupQueryAttention writes position P in place.
  OnnxTensor[] sharedKey;
  OnnxTensor[] sharedValue;
  OffHeap[] sharedBuffers; // what sharedKey/sharedValue wrap (the caller's)
  int capacity;
  // A prefill run row by row (RowPrefill): the logits, and in the growing layout the cache, until
  // the first step has consumed them; null otherwise (kv then holds both).
  RowPrefill rows;
  long prefillNanos;
  long decodeNanos;
  private final List<OnnxTensor> prefillOnly = new ArrayList<>();

  GenerationState(int maxPositions) {
    this(maxPositions, 1);
  }

  /** State for {@code batch} sequences decoded together. */
  GenerationState(int maxPositions, int batch) {
    ones = scratchLongs(batch * maxPositions);
    position = scratchLongs(batch);
    tokenId = scratchLongs(batch);
    for (int i = 0; i < batch * maxPositions; i++) {
      ones.put(i, 1L);
    }
  }

  /** A zeroed int64 buffer of {@code n} elements that lives until {@link #close()}. */
  LongBuffer scratchLongs(int n) {
    OffHeap b = OffHeap.longs(n);
    owned.add(b);
    return b.longs();
  }

  /** Keeps a prefill input alive until {@link #releasePrefill()}. */
  OnnxTensor prefill(OnnxTensor t) {
    prefillOnly.add(t);
    return t;
  }

  void releasePrefill() {
    for (int i = prefillOnly.size() - 1; i >= 0; i--) {
      prefillOnly.get(i).close();
    }
    prefillOnly.clear();
  }

  /** Replaces the KV holder; the old result is closed after the run that consumed it. */
  void advance(OrtSession.Result next, int newPast) {
    OrtSession.Result old = kv;
    kv = next;
    pastLength = newPast;
    if (old != null) {
      old.close();
    }
    closeRows();
  }

  /** The prefill's rows become the KV holder (see {@link RowPrefill}). */
  void advance(RowPrefill prefilled, int newPast) {
    advance((OrtSession.Result) null, newPast);
    rows = prefilled;
  }

  private void closeRows() {
    if (rows != null) {
      rows.close();
      rows = null;
    }
  }

  /**
   * Shared KV mode: wraps {@code buffers} (key, value per layer, in that order; each at least
   * {@code shape}'s element count) as this call's {@code shape} tensors; the buffers stay the
   * caller's.
   */
  void useShared(OrtEnvironment env, OffHeap[] buffers, long[] shape) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    int layers = buffers.length / 2;
    sharedKey = new OnnxTensor[layers];
    sharedValue = new OnnxTensor[layers];
    capacity = (int) shape[2];
    sharedBuffers = buffers;
    for (int i = 0; i < layers; i++) {
      sharedKey[i] = Tensors.of(env, buffers[2 * i].floats().duplicate().limit((int) n), shape);
      sharedValue[i] =
          Tensors.of(env, buffers[2 * i + 1].floats().duplicate().limit((int) n), shape);
    }
  }

  @Override
  public void close() {
    releasePrefill();
    closeRows();
    if (sharedKey != null) {
      for (int i = sharedKey.length - 1; i >= 0; i--) {
        if (sharedValue[i] != null) {
          sharedValue[i].close();
        }
        if (sharedKey[i] != null) {
          sharedKey[i].close();
        }
      }
      sharedKey = null;
      sharedValue = null;
      sharedBuffers = null;
    }
    if (kv != null) {
      kv.close();
      kv = null;
    }
    owned.forEach(OffHeap::close);
    owned.clear();
  }
}

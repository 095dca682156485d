package io.damjava.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import io.damjava.onnx.bundle.BundleManifest;

/**
 * The in-place KV cache of a continuous batch: per layer and role one Java direct buffer of shape
 * {@code (rows, kvHeads, capacity, headDim)} float32, row r being the slot of one sequence. Each
 * decoder run gets tensors over these buffers as its {@code past_key_values.*} inputs and, pinned,
 * as its {@code present.*} outputs; GroupQueryAttention sees equal pointers and writes each row's
 * new position in place at that row's own length, so a step copies no KV at all, neither into Java
 * nor inside ONNX Runtime. A slot's positions past its sequence's length are garbage that no
 * attention reads (each row attends to its {@code seqlens_k + 1} first positions only).
 *
 * <p>Resizing (more rows, or another capacity) allocates new buffers and copies every live row's
 * written positions over: the only KV copy there is, once per resize; the old buffers are freed at
 * once ({@link OffHeap}), not left for a garbage collection. Used by one thread.
 */
final class KvSlots implements AutoCloseable {
  private final OrtEnvironment env;
  private final int layers;
  private final int kvHeads;
  private final int headDim;
  private int rows;
  private int capacity;
  private OffHeap[] buffers = new OffHeap[0]; // key, value per layer: (rows,kvH,C,hd)
  private OnnxTensor[] batch = new OnnxTensor[0]; // tensors over the first batchRows rows
  private int batchRows;

  KvSlots(OrtEnvironment env, int layers, int kvHeads, int headDim) {
    this.env = env;
    this.layers = layers;
    this.kvHeads = kvHeads;
    this.headDim = headDim;
  }

  int rows() {
    return rows;
  }

  int capacity() {
    return capacity;
  }

  /** Bytes of one row at a capacity: key and value of every layer. */
  long rowBytes(int cap) {
    return rowBytes(layers, kvHeads, headDim, cap);
  }

  /** Bytes of one float32 row of {@code cap} positions for a decoder of these dimensions. */
  static long rowBytes(BundleManifest.Dims d, int cap) {
    return rowBytes(d.layers(), d.kvHeads(), d.headDim(), cap);
  }

  private static long rowBytes(int layers, int kvHeads, int headDim, int cap) {
    return 2L * layers * kvHeads * cap * headDim * 4;
  }

  /**
   * New buffers of exactly {@code newRows} x {@code newCap} positions, with row r's first {@code
   * lengths[r]} positions copied over; the rows and positions it drops must hold nothing live
   * ({@code lengths.length <= newRows}, every length at most {@code newCap}).
   */
  void resize(int newRows, int newCap, int[] lengths) {
    if (lengths.length > newRows) {
      throw new IllegalArgumentException(lengths.length + " rows kept in " + newRows);
    }
    for (int n : lengths) {
      if (n > newCap) {
        throw new IllegalArgumentException("a row of " + n + " positions in " + newCap);
      }
    }
    OffHeap[] next = OffHeap.floats(2 * layers, (long) newRows * kvHeads * newCap * headDim);
    for (int i = 0; i < buffers.length; i++) {
      for (int r = 0; r < lengths.length && r < rows; r++) {
        int n = lengths[r] * headDim;
        for (int h = 0; h < kvHeads; h++) {
          int from = ((r * kvHeads + h) * capacity) * headDim;
          int to = ((r * kvHeads + h) * newCap) * headDim;
          next[i].floats().put(to, buffers[i].floats(), from, n);
        }
      }
    }
    closeBatch();
    OffHeap.closeAll(buffers); // no tensor is over them any more
    buffers = next;
    rows = newRows;
    capacity = newCap;
  }

  /**
   * Tensors {@code (n, kvHeads, capacity, headDim)} over rows 0..n-1, key and value per layer in
   * that order; kept until the row count or the buffers change, closed by this object.
   */
  OnnxTensor[] batch(int n) {
    if (n != batchRows || batch.length == 0) {
      closeBatch();
      batch = new OnnxTensor[2 * layers];
      for (int i = 0; i < batch.length; i++) {
        batch[i] =
            Tensors.of(
                env, buffers[i].floats().slice(0, n * rowFloats()), n, kvHeads, capacity, headDim);
      }
      batchRows = n;
    }
    return batch;
  }

  /** New tensors {@code (1, kvHeads, capacity, headDim)} over row r alone; the caller closes. */
  OnnxTensor[] row(int r) {
    OnnxTensor[] t = new OnnxTensor[2 * layers];
    try {
      for (int i = 0; i < t.length; i++) {
        t[i] =
            Tensors.of(
                env,
                buffers[i].floats().slice(r * rowFloats(), rowFloats()),
                1,
                kvHeads,
                capacity,
                headDim);
      }
    } catch (RuntimeException e) {
      close(t);
      throw e;
    }
    return t;
  }

  private int rowFloats() {
    return kvHeads * capacity * headDim;
  }

  private void closeBatch() {
    close(batch);
    batch = new OnnxTensor[0];
    batchRows = 0;
  }

  static void close(OnnxTensor[] t) {
    for (int i = t.length - 1; i >= 0; i--) {
      if (t[i] != null) {
        t[i].close();
      }
    }
  }

  /** Frees the tensors, then the buffers; every {@link #row} tensor must be closed before. */
  @Override
  public void close() {
    closeBatch();
    OffHeap.closeAll(buffers);
    buffers = new OffHeap[0];
    rows = 0;
    capacity = 0;
  }
}

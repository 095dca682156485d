package io.damjava.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;

/**
 * The host buffers of {@link ContinuousBatcher}'s decoder runs, reused from run to run: the int64
 * ones and 0..maxPositions-1 that a join's mask and positions are slices of, and a step's ids,
 * positions, mask and pinned logits. A step buffer that is too small is replaced by one sized for
 * every row of the cache (so it rarely grows again) and the old one freed at once. Decode thread
 * only; {@link #close} once that thread has ended.
 */
final class StepBuffers implements AutoCloseable {
  private final OrtEnvironment env;
  private final int maxPositions;
  private final int vocab;
  private final OffHeap ones; // (maxPositions) int64 ones
  private final OffHeap iota; // (maxPositions) int64 0..maxPositions-1
  private OffHeap stepMask = OffHeap.longs(0); // (B,T) int64
  private OffHeap stepIds = OffHeap.longs(0); // (B,1) int64
  private OffHeap stepPos = OffHeap.longs(0); // (B,1) int64
  private OffHeap stepLogits = OffHeap.floats(0); // (B,1,V) float32, the pinned logits
  private OnnxTensor logitsTensor; // over stepLogits for logitsRows rows
  private int logitsRows;

  StepBuffers(OrtEnvironment env, int maxPositions, int vocab) {
    this.env = env;
    this.maxPositions = maxPositions;
    this.vocab = vocab;
    ones = OffHeap.longs(maxPositions);
    iota = OffHeap.longs(maxPositions);
    for (int i = 0; i < maxPositions; i++) {
      ones.longs().put(i, 1L);
      iota.longs().put(i, i);
    }
  }

  /** A join's (L) attention mask: L ones. */
  LongBuffer ones(int length) {
    return ones.longs().slice(0, length);
  }

  /** A join's (L) positions: 0..L-1. */
  LongBuffer iota(int length) {
    return iota.longs().slice(0, length);
  }

  /**
   * Writes a step's inputs for rows 0..batch-1 of {@code rows} (null: a free row), growing the
   * buffers to {@code rows.length} rows first where they are too small: each row's id (a free row
   * feeds {@code eos}), its position, and its mask row of {@code total} entries.
   */
  void fill(BatchedSequence[] rows, int batch, int total, int eos) {
    if (stepIds.longs().capacity() < batch) {
      stepIds = replace(stepIds, OffHeap.longs(rows.length));
      stepPos = replace(stepPos, OffHeap.longs(rows.length));
    }
    if (stepMask.longs().capacity() < batch * total) {
      stepMask = replace(stepMask, OffHeap.longs((long) rows.length * maxPositions));
    }
    LongBuffer ids = stepIds.longs();
    LongBuffer positions = stepPos.longs();
    LongBuffer mask = stepMask.longs();
    for (int r = 0; r < batch; r++) {
      BatchedSequence p = rows[r];
      int len = p == null ? 1 : p.past + 1; // a free row attends to one position of its own
      ids.put(r, p == null ? eos : p.next);
      positions.put(r, len - 1);
      for (int t = 0; t < total; t++) {
        mask.put(r * total + t, t < len ? 1L : 0L);
      }
    }
  }

  /** The step's (B) token ids, as {@link #fill} wrote them. */
  LongBuffer ids() {
    return stepIds.longs();
  }

  /** The step's (B) positions. */
  LongBuffer positions() {
    return stepPos.longs();
  }

  /** The step's (B*T) attention mask. */
  LongBuffer mask() {
    return stepMask.longs();
  }

  /** The logits the last step's decoder run wrote, (B,1,V) from row 0. */
  FloatBuffer logits() {
    return stepLogits.floats();
  }

  /**
   * The pinned (B,1,V) logits tensor over {@link #logits()}; a new one when B changed, over a
   * buffer sized for {@code rowCount} rows where the old one is too small.
   */
  OnnxTensor logitsTensor(int batch, int rowCount) {
    if (logitsTensor == null || logitsRows != batch) {
      if (logitsTensor != null) {
        logitsTensor.close();
      }
      logitsTensor = null;
      if (stepLogits.floats().capacity() < batch * vocab) {
        stepLogits = replace(stepLogits, OffHeap.floats((long) rowCount * vocab));
      }
      logitsTensor = Tensors.of(env, stepLogits.floats().slice(0, batch * vocab), batch, 1, vocab);
      logitsRows = batch;
    }
    return logitsTensor;
  }

  /**
   * Frees {@code old} (no tensor is over it: step tensors live within one step) for {@code next}.
   */
  private static OffHeap replace(OffHeap old, OffHeap next) {
    old.close();
    return next;
  }

  /** Closes the logits tensor, then frees every buffer. */
  @Override
  public void close() {
    if (logitsTensor != null) {
      logitsTensor.close();
      logitsTensor = null;
    }
    OffHeap.closeAll(new OffHeap[] {ones, iota, stepMask, stepIds, stepPos, stepLogits});
  }
}

package io.damjava.onnx;

import io.damjava.api.Cancellation;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.IntConsumer;

/**
 * One sequence in a {@link ContinuousBatcher}: its inputs, the decode thread's bookkeeping, and the
 * queue through which its tokens reach the caller's thread. The result and failure are written by
 * the decode thread before it queues {@link #END}, so the queue publishes them.
 */
final class BatchedSequence {
  static final int END = Integer.MIN_VALUE;

  final OffHeap prompt; // (1,L,H) float32; freed once prefilled or failed
  final int length;
  final int limit;
  final Sampler sampler;
  final Cancellation cancel;
  final LinkedBlockingQueue<Integer> events = new LinkedBlockingQueue<>();
  volatile boolean abandoned; // the caller stopped waiting (interrupted, or its listener threw)
  // decode thread only
  final int[] tokens;
  int count;
  int steps;
  int past; // positions written in its row
  int next; // the token fed at the next step
  long started;
  long prefillNanos;
  // published through events' END
  ContinuousBatcher.Result result;
  RuntimeException failure;

  BatchedSequence(OffHeap prompt, int length, int limit, Sampler s, Cancellation cancel) {
    this.prompt = prompt;
    this.length = length;
    this.limit = limit;
    this.sampler = s;
    this.cancel = cancel;
    this.tokens = new int[Math.max(limit, 0)];
  }

  boolean stopped() {
    return abandoned || (cancel != null && cancel.isCancelled());
  }

  /**
   * Blocks until the sequence ends, handing each token to {@code onToken} on this thread. An
   * interrupt cancels the sequence (it still ends within one step) and is kept on the thread.
   */
  ContinuousBatcher.Result await(IntConsumer onToken) {
    boolean interrupted = false;
    RuntimeException thrown = null;
    while (true) {
      int id;
      try {
        id = events.take();
      } catch (InterruptedException e) {
        interrupted = true;
        abandoned = true;
        continue;
      }
      if (id == END) {
        break;
      }
      if (thrown == null && onToken != null) {
        try {
          onToken.accept(id);
        } catch (RuntimeException e) {
          thrown = e;
          abandoned = true;
        }
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
    if (thrown != null) {
      throw thrown;
    }
    if (failure != null) {
      throw failure;
    }
    return result;
  }
}

package io.damjava.onnx;

import io.damjava.api.Cancellation;
import io.damjava.api.InferenceException;
import io.damjava.api.StopReason;
import java.util.Arrays;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.IntConsumer;

/**
 * One sequence in a {@link ContinuousBatcher}: its inputs, the decode thread's bookkeeping and
 * per-row stop rule, and the queue through which its tokens reach the caller's thread. The result
 * and failure are written by the decode thread before it queues {@link #END}, so the queue
 * publishes them.
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
   * The Decoder's per-row rule, on the decode thread: cancel before sampling, stop on EOS or the
   * budget. Queues the sampled token to the caller; returns why the sequence stops, or null when it
   * goes on with {@link #next}.
   */
  StopReason sample(float[] l, int eos) {
    if (stopped()) {
      return StopReason.CANCELLED;
    }
    int id = sampler.sample(l);
    if (id == eos) {
      return StopReason.EOS;
    }
    tokens[count++] = id;
    events.add(id);
    steps++;
    if (steps >= limit) {
      return StopReason.MAX_TOKENS;
    }
    next = id;
    return null;
  }

  /** Ends the sequence with its tokens (decode thread; its row is already free). */
  void finish(StopReason stop) {
    result =
        new ContinuousBatcher.Result(
            new Decoder.Output(Arrays.copyOf(tokens, count), stop),
            prefillNanos,
            System.nanoTime() - started);
    events.add(END);
  }

  /** Ends the sequence with a failure (decode thread), freeing the prompt if it still holds it. */
  void fail(RuntimeException e) {
    prompt.close();
    failure =
        e instanceof InferenceException || e instanceof IllegalStateException
            ? e
            : new InferenceException("decoding failed: " + e.getMessage(), e);
    events.add(END);
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

package io.damjava.api;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A flag that stops a running describe call from another thread. Generation checks it before every
 * token, so a call stops within one token and returns what it generated with {@link
 * StopReason#CANCELLED}.
 *
 * <pre>{@code
 * Cancellation cancel = new Cancellation();
 * executor.submit(() -> dam.describe(DescribeRequest.of(image, region).cancellation(cancel)));
 * cancel.cancel(); // from any thread
 * }</pre>
 */
public final class Cancellation {
  private final AtomicBoolean cancelled = new AtomicBoolean();

  /** Asks the call to stop; idempotent. */
  public void cancel() {
    cancelled.set(true);
  }

  public boolean isCancelled() {
    return cancelled.get();
  }
}

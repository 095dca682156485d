package io.damjava.api;

import java.time.Duration;
import java.util.Objects;

/**
 * Wall-clock time spent in each stage of one describe call.
 *
 * @param preprocess focal crop, resize and normalisation (and segmentation, if any)
 * @param vision vision graphs and projector
 * @param prefill the decoder's pass over the prompt
 * @param decode all generation steps after prefill
 * @param total the whole call
 */
public record Timings(
    Duration preprocess, Duration vision, Duration prefill, Duration decode, Duration total) {

  /** All stages zero. */
  public static final Timings ZERO =
      new Timings(Duration.ZERO, Duration.ZERO, Duration.ZERO, Duration.ZERO, Duration.ZERO);

  public Timings {
    Objects.requireNonNull(preprocess, "preprocess");
    Objects.requireNonNull(vision, "vision");
    Objects.requireNonNull(prefill, "prefill");
    Objects.requireNonNull(decode, "decode");
    Objects.requireNonNull(total, "total");
  }
}

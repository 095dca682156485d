package io.damjava.convert;

/** Receives progress lines during a conversion. */
@FunctionalInterface
public interface Progress {
  /** One step. */
  void step(String message);

  /** Ignores everything. */
  Progress NONE = m -> {};
}

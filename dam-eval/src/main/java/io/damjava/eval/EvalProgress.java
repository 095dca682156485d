package io.damjava.eval;

/** Receives progress of a generation or scoring run. */
@FunctionalInterface
public interface EvalProgress {
  /** {@code done} of {@code total} items of a stage ("generating", "judging") are finished. */
  void update(String stage, int done, int total);

  /** Ignores everything. */
  EvalProgress NONE = (s, d, t) -> {};
}

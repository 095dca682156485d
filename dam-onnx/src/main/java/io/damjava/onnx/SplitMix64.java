package io.damjava.onnx;

/**
 * SplitMix64, the random generator of the cross-language sampling contract (docs/engine.md): the
 * Python reference implements the same sequence, so a seed gives the same draws in both. Not
 * thread-safe; one per call.
 */
final class SplitMix64 {
  private static final double TWO_POW_MINUS_53 = 0x1.0p-53;

  private long state;

  SplitMix64(long seed) {
    this.state = seed;
  }

  /** The next 64 random bits. */
  long nextLong() {
    state += 0x9E3779B97F4A7C15L;
    long z = state;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /** A uniform double in [0, 1): the top 53 bits of {@link #nextLong()} times 2^-53. */
  double nextDouble() {
    return (nextLong() >>> 11) * TWO_POW_MINUS_53;
  }
}

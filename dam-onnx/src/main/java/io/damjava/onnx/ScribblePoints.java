package io.damjava.onnx;

import io.damjava.api.Mask;

/**
 * The DAM demo's scribble rule, reproduced exactly: the stroke's pixels in {@code np.nonzero} order
 * (row by row, left to right) as (x, y), then {@code np.random.seed(0); np.random.choice(n, min(n,
 * 8), replace=False)}. numpy's legacy {@code RandomState.choice} without replacement takes the
 * first k of {@code permutation(n)}, a Fisher-Yates shuffle from the end drawing each index with
 * {@code random_interval} (masked rejection on 32-bit MT19937 outputs), so the same stroke always
 * gives the same points as the reference. Stateless; thread-safe.
 */
final class ScribblePoints {
  /** The demo's maximum number of clicks taken from a stroke. */
  static final int MAX_POINTS = 8;

  private ScribblePoints() {}

  /**
   * The chosen pixels as {x, y} pairs, in the order numpy returns them.
   *
   * @throws IllegalArgumentException if the stroke is empty (callers validate first)
   */
  static int[][] choose(Mask stroke) {
    int n = stroke.area();
    if (n == 0) {
      throw new IllegalArgumentException("empty stroke");
    }
    int[] xs = new int[n];
    int[] ys = new int[n];
    int k = 0;
    for (int y = 0; y < stroke.height(); y++) {
      for (int x = 0; x < stroke.width(); x++) {
        if (stroke.get(x, y)) {
          xs[k] = x;
          ys[k++] = y;
        }
      }
    }
    int[] idx = choiceWithoutReplacement(n, Math.min(n, MAX_POINTS), 0);
    int[][] out = new int[idx.length][];
    for (int i = 0; i < idx.length; i++) {
      out[i] = new int[] {xs[idx[i]], ys[idx[i]]};
    }
    return out;
  }

  /** {@code np.random.seed(seed); np.random.choice(n, size, replace=False)}. */
  static int[] choiceWithoutReplacement(int n, int size, long seed) {
    Mt19937 mt = new Mt19937(seed);
    int[] perm = new int[n];
    for (int i = 0; i < n; i++) {
      perm[i] = i;
    }
    for (int i = n - 1; i >= 1; i--) {
      int j = (int) mt.interval(i);
      int t = perm[i];
      perm[i] = perm[j];
      perm[j] = t;
    }
    int[] out = new int[size];
    System.arraycopy(perm, 0, out, 0, size);
    return out;
  }

  /** MT19937 as numpy's legacy seeding ({@code mt19937_seed}) and 32-bit output. */
  static final class Mt19937 {
    private final int[] key = new int[624];
    private int pos;

    Mt19937(long seed) {
      long s = seed & 0xffffffffL;
      for (int i = 0; i < 624; i++) {
        key[i] = (int) s;
        s = (1812433253L * (s ^ (s >>> 30)) + i + 1) & 0xffffffffL;
      }
      pos = 624;
    }

    long next32() {
      if (pos == 624) {
        generate();
      }
      int y = key[pos++];
      y ^= y >>> 11;
      y ^= (y << 7) & 0x9d2c5680;
      y ^= (y << 15) & 0xefc60000;
      y ^= y >>> 18;
      return y & 0xffffffffL;
    }

    private void generate() {
      for (int i = 0; i < 624; i++) {
        int y = (key[i] & 0x80000000) | (key[(i + 1) % 624] & 0x7fffffff);
        int v = key[(i + 397) % 624] ^ (y >>> 1);
        key[i] = (y & 1) != 0 ? v ^ 0x9908b0df : v;
      }
      pos = 0;
    }

    /** numpy's {@code random_interval(max)}: uniform in [0, max], for max below 2^32. */
    long interval(long max) {
      if (max == 0) {
        return 0;
      }
      long mask = max;
      mask |= mask >>> 1;
      mask |= mask >>> 2;
      mask |= mask >>> 4;
      mask |= mask >>> 8;
      mask |= mask >>> 16;
      long v;
      do {
        v = next32() & mask;
      } while (v > max);
      return v;
    }
  }
}

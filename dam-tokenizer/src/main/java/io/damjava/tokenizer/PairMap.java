package io.damjava.tokenizer;

import java.util.Arrays;

/** Open-addressing map from an (int, int) pair to (rank, merged id), for BPE merge lookups. */
final class PairMap {
  private long[] keys;
  private int[] ranks;
  private int[] values;
  private boolean[] used;
  private int size;

  PairMap(int expected) {
    int cap = Integer.highestOneBit(Math.max(16, expected * 2)) << 1;
    keys = new long[cap];
    ranks = new int[cap];
    values = new int[cap];
    used = new boolean[cap];
  }

  private static long key(int a, int b) {
    return ((long) a << 32) | (b & 0xffffffffL);
  }

  private static int hash(long k) {
    // SplitMix64 finalizer: every key bit reaches the low bits used for the slot.
    long h = k;
    h = (h ^ (h >>> 30)) * 0xBF58476D1CE4E5B9L;
    h = (h ^ (h >>> 27)) * 0x94D049BB133111EBL;
    return (int) (h ^ (h >>> 31));
  }

  /** Inserts or replaces (a later duplicate merge wins, as in tokenizers' HashMap collect). */
  void put(int a, int b, int rank, int value) {
    if ((size + 1) * 2 > keys.length) {
      grow();
    }
    long k = key(a, b);
    int mask = keys.length - 1;
    int i = hash(k) & mask;
    while (used[i] && keys[i] != k) {
      i = (i + 1) & mask;
    }
    if (!used[i]) {
      used[i] = true;
      keys[i] = k;
      size++;
    }
    ranks[i] = rank;
    values[i] = value;
  }

  /** Returns the slot of the pair, or -1. */
  int find(int a, int b) {
    long k = key(a, b);
    int mask = keys.length - 1;
    int i = hash(k) & mask;
    while (used[i]) {
      if (keys[i] == k) {
        return i;
      }
      i = (i + 1) & mask;
    }
    return -1;
  }

  int rank(int slot) {
    return ranks[slot];
  }

  int value(int slot) {
    return values[slot];
  }

  private void grow() {
    long[] oldKeys = keys;
    int[] oldRanks = ranks;
    int[] oldValues = values;
    boolean[] oldUsed = used;
    int cap = keys.length * 2;
    keys = new long[cap];
    ranks = new int[cap];
    values = new int[cap];
    used = new boolean[cap];
    size = 0;
    for (int i = 0; i < oldKeys.length; i++) {
      if (oldUsed[i]) {
        put((int) (oldKeys[i] >>> 32), (int) oldKeys[i], oldRanks[i], oldValues[i]);
      }
    }
    Arrays.fill(oldUsed, false);
  }
}

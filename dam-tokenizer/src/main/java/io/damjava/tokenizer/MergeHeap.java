package io.damjava.tokenizer;

import java.util.Arrays;

/**
 * Binary min-heap of merge candidates over parallel primitive arrays: ordered by {@code key}
 * ascending, then {@code pos} ascending (leftmost first). {@code aux} is carried along (the merged
 * id or the merged length, used to detect stale entries).
 */
final class MergeHeap {
  private long[] keys;
  private int[] pos;
  private int[] aux;
  private int size;

  MergeHeap(int capacity) {
    int c = Math.max(16, capacity);
    keys = new long[c];
    pos = new int[c];
    aux = new int[c];
  }

  boolean isEmpty() {
    return size == 0;
  }

  void push(long key, int p, int a) {
    if (size == keys.length) {
      int c = size * 2;
      keys = Arrays.copyOf(keys, c);
      pos = Arrays.copyOf(pos, c);
      aux = Arrays.copyOf(aux, c);
    }
    int i = size++;
    while (i > 0) {
      int parent = (i - 1) >>> 1;
      if (!less(key, p, keys[parent], pos[parent])) {
        break;
      }
      set(i, keys[parent], pos[parent], aux[parent]);
      i = parent;
    }
    set(i, key, p, a);
  }

  long topKey() {
    return keys[0];
  }

  int topPos() {
    return pos[0];
  }

  int topAux() {
    return aux[0];
  }

  void pop() {
    size--;
    if (size == 0) {
      return;
    }
    long k = keys[size];
    int p = pos[size];
    int a = aux[size];
    int i = 0;
    while (true) {
      int child = 2 * i + 1;
      if (child >= size) {
        break;
      }
      if (child + 1 < size && less(keys[child + 1], pos[child + 1], keys[child], pos[child])) {
        child++;
      }
      if (!less(keys[child], pos[child], k, p)) {
        break;
      }
      set(i, keys[child], pos[child], aux[child]);
      i = child;
    }
    set(i, k, p, a);
  }

  private void set(int i, long k, int p, int a) {
    keys[i] = k;
    pos[i] = p;
    aux[i] = a;
  }

  private static boolean less(long k1, int p1, long k2, int p2) {
    return k1 < k2 || (k1 == k2 && p1 < p2);
  }

  /** Maps a float score (higher is better) to a long key (smaller is better), order-preserving. */
  static long scoreKey(float score) {
    float negated = -score;
    if (negated == 0f) {
      negated = 0f; // -0.0 and 0.0 compare equal in sentencepiece
    }
    int bits = Float.floatToIntBits(negated);
    // Standard trick: flip so that the signed int order matches the float order.
    return bits >= 0 ? bits : bits ^ 0x7fffffff;
  }
}

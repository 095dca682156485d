package io.damjava.onnx;

import io.damjava.api.GenerationOptions;
import io.damjava.onnx.bundle.BundleManifest;
import java.security.SecureRandom;

/**
 * Builds the sampler of a call. The contract, shared with the Python reference (docs/engine.md):
 *
 * <ul>
 *   <li>Temperature 0: greedy, the argmax, ties to the lowest id.
 *   <li>Otherwise, per step in float64: {@code x = logits / temperature}; top-k ({@code k > 0}):
 *       every {@code x} below the k-th largest value becomes -inf; top-p ({@code p < 1}): sort
 *       ascending by (value, id), softmax, cumulative sum, drop those with {@code cumsum <= 1 - p}
 *       but always keep the largest; {@code probs = softmax(x)} over the kept ids; one {@code u}
 *       from SplitMix64; walk ids in ascending order accumulating probs and take the first id whose
 *       cumulative sum exceeds {@code u} (the last kept id if none does). This is Hugging Face's
 *       warper order (temperature, top-k, top-p; {@code min_tokens_to_keep} 1) with a portable
 *       draw.
 *   <li>Top-k {@link GenerationOptions#MODEL_TOP_K} is the bundle's {@code generation.topK} (the
 *       checkpoint's {@code generation_config.json} value, 50 when it sets none): transformers'
 *       generate takes {@code top_k} from the model's generation config when the call passes none,
 *       and DAM's call passes none.
 * </ul>
 */
final class Samplers {
  private static final SecureRandom SEEDS = new SecureRandom();

  private Samplers() {}

  /** The seed of a call: the options' seed, else a fresh random one. */
  static long seedFor(GenerationOptions options) {
    return options.seed().isPresent()
        ? options.seed().getAsLong()
        : SEEDS.nextLong() ^ System.nanoTime();
  }

  /** {@code options} with a {@link GenerationOptions#MODEL_TOP_K} top-k replaced by the model's. */
  static GenerationOptions resolve(GenerationOptions options, BundleManifest.Generation model) {
    if (options.topK() != GenerationOptions.MODEL_TOP_K) {
      return options;
    }
    return options.toBuilder().topK(model.topK()).build();
  }

  /**
   * A new sampler for one call; a {@link GenerationOptions#MODEL_TOP_K} top-k must have been
   * {@linkplain #resolve resolved}.
   */
  static Sampler of(GenerationOptions options, long seed) {
    if (options.greedy()) {
      return Samplers::argmax;
    }
    if (options.topK() < 0) {
      throw new IllegalArgumentException(
          "top-k " + options.topK() + " not resolved to the model's");
    }
    return new TopKTopP(
        options.temperature(), options.topK(), options.topP(), new SplitMix64(seed));
  }

  /** The greedy choice: the largest logit, the lowest id among equals. */
  static int argmax(float[] logits) {
    int best = 0;
    for (int i = 1; i < logits.length; i++) {
      if (logits[i] > logits[best]) {
        best = i;
      }
    }
    return best;
  }

  /** Temperature, top-k, top-p, then one categorical draw. */
  static final class TopKTopP implements Sampler {
    private final double temperature;
    private final int topK;
    private final double topP;
    private final SplitMix64 rng;
    private double[] x = new double[0]; // (V) scaled logits, -inf once removed
    private double[] heap = new double[0]; // (k) min-heap of the k largest values
    private int[] ids = new int[0]; // (V) candidate ids, sorted for top-p
    private int[] tmp = new int[0]; // (V) merge-sort scratch
    private double[] cum = new double[0]; // (V) top-p softmax of the sorted candidates

    TopKTopP(double temperature, int topK, double topP, SplitMix64 rng) {
      this.temperature = temperature;
      this.topK = topK;
      this.topP = topP;
      this.rng = rng;
    }

    @Override
    public int sample(float[] logits) {
      int v = logits.length;
      if (x.length != v) {
        x = new double[v];
        ids = new int[v];
        tmp = new int[v];
        cum = new double[v];
      }
      for (int i = 0; i < v; i++) {
        x[i] = logits[i] / temperature;
      }
      if (topK > 0 && topK < v) {
        double kth = kthLargest(v);
        for (int i = 0; i < v; i++) {
          if (x[i] < kth) {
            x[i] = Double.NEGATIVE_INFINITY;
          }
        }
      }
      if (topP < 1.0) {
        applyTopP(v);
      }
      double max = Double.NEGATIVE_INFINITY;
      for (int i = 0; i < v; i++) {
        max = Math.max(max, x[i]);
      }
      double sum = 0;
      for (int i = 0; i < v; i++) {
        if (x[i] != Double.NEGATIVE_INFINITY) {
          sum += StrictMath.exp(x[i] - max);
        }
      }
      double u = rng.nextDouble();
      double acc = 0;
      int last = -1;
      for (int i = 0; i < v; i++) {
        if (x[i] != Double.NEGATIVE_INFINITY) {
          acc += StrictMath.exp(x[i] - max) / sum;
          last = i;
          if (acc > u) {
            return i;
          }
        }
      }
      return last;
    }

    private double kthLargest(int v) {
      if (heap.length != topK) {
        heap = new double[topK];
      }
      int n = 0;
      for (int i = 0; i < v; i++) {
        double val = x[i];
        if (n < topK) {
          heap[n] = val;
          siftUp(n++);
        } else if (val > heap[0]) {
          heap[0] = val;
          siftDown(n);
        }
      }
      return heap[0];
    }

    private void siftUp(int i) {
      while (i > 0) {
        int p = (i - 1) / 2;
        if (heap[p] <= heap[i]) {
          return;
        }
        double t = heap[p];
        heap[p] = heap[i];
        heap[i] = t;
        i = p;
      }
    }

    private void siftDown(int n) {
      int i = 0;
      while (true) {
        int l = 2 * i + 1;
        int r = l + 1;
        int m = i;
        if (l < n && heap[l] < heap[m]) {
          m = l;
        }
        if (r < n && heap[r] < heap[m]) {
          m = r;
        }
        if (m == i) {
          return;
        }
        double t = heap[m];
        heap[m] = heap[i];
        heap[i] = t;
        i = m;
      }
    }

    private void applyTopP(int v) {
      int n = 0;
      for (int i = 0; i < v; i++) {
        if (x[i] != Double.NEGATIVE_INFINITY) {
          ids[n++] = i;
        }
      }
      sortAscending(n);
      double max = x[ids[n - 1]];
      double sum = 0;
      for (int j = 0; j < n; j++) {
        cum[j] = StrictMath.exp(x[ids[j]] - max);
        sum += cum[j];
      }
      double running = 0;
      double cut = 1 - topP;
      for (int j = 0; j < n - 1; j++) {
        running += cum[j] / sum;
        if (running <= cut) {
          x[ids[j]] = Double.NEGATIVE_INFINITY;
        }
      }
    }

    /** Bottom-up merge sort of ids[0..n) by (x, id); a total order, so the result is unique. */
    private void sortAscending(int n) {
      int[] a = ids;
      int[] b = tmp;
      for (int width = 1; width < n; width *= 2) {
        for (int lo = 0; lo < n; lo += 2 * width) {
          int mid = Math.min(lo + width, n);
          int hi = Math.min(lo + 2 * width, n);
          int i = lo;
          int j = mid;
          for (int k = lo; k < hi; k++) {
            if (i < mid && (j >= hi || !less(a[j], a[i]))) {
              b[k] = a[i++];
            } else {
              b[k] = a[j++];
            }
          }
        }
        int[] t = a;
        a = b;
        b = t;
      }
      if (a != ids) {
        System.arraycopy(a, 0, ids, 0, n);
      }
    }

    private boolean less(int p, int q) {
      return x[p] < x[q] || (x[p] == x[q] && p < q);
    }
  }
}

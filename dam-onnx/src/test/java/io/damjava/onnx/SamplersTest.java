package io.damjava.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.damjava.api.GenerationOptions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SamplersTest {

  /** Pinned SplitMix64 outputs for seed 1234 (computed with an independent Python loop). */
  @Test
  void splitMix64IsPinned() {
    SplitMix64 r = new SplitMix64(1234);
    assertEquals(0xbb0cf61b2f181cdbL, r.nextLong());
    assertEquals(0x97c7a1364df06524L, r.nextLong());
    assertEquals(0x33befae49bc025daL, r.nextLong());
    SplitMix64 d = new SplitMix64(1234);
    assertEquals(0.730666524540624, d.nextDouble(), 0.0);
    assertEquals(0.5928898580149862, d.nextDouble(), 0.0);
  }

  @Test
  void greedyTakesLowestIdAmongEqualMaxima() {
    Sampler s = Samplers.of(GenerationOptions.defaults().withTemperature(0), 1);
    assertEquals(2, s.sample(new float[] {0f, 1f, 3f, 3f, -1f}));
    assertEquals(0, s.sample(new float[] {5f, 5f}));
  }

  @Test
  void modelTopKIsResolvedFromTheBundleAndAnExplicitOneWins() {
    var model = new io.damjava.onnx.bundle.BundleManifest.Generation(0.2, 0.5, 1, 512);
    GenerationOptions unset = GenerationOptions.builder().temperature(5).topP(1).seed(3).build();
    assertEquals(GenerationOptions.MODEL_TOP_K, unset.topK());
    GenerationOptions resolved = Samplers.resolve(unset, model);
    assertEquals(1, resolved.topK());
    // the bundle's top_k 1 makes even temperature 5 greedy
    Sampler s = Samplers.of(resolved, 3);
    for (int i = 0; i < 20; i++) {
      assertEquals(2, s.sample(new float[] {0f, 1f, 1.5f, -1f}));
    }
    GenerationOptions explicit = unset.toBuilder().topK(0).build();
    assertEquals(0, Samplers.resolve(explicit, model).topK());
    org.junit.jupiter.api.Assertions.assertThrows(
        IllegalArgumentException.class, () -> Samplers.of(unset, 3));
  }

  @Test
  void topKOfOneIsGreedy() {
    GenerationOptions o =
        GenerationOptions.builder().temperature(5).topK(1).topP(1).seed(7).build();
    Sampler s = Samplers.of(o, 7);
    for (int i = 0; i < 50; i++) {
      assertEquals(3, s.sample(new float[] {1f, 0.5f, 2f, 2.5f, -4f}));
    }
  }

  @Test
  void topPKeepsTheNucleus() {
    float[] logits = {(float) Math.log(0.2), (float) Math.log(0.5), (float) Math.log(0.3)};
    GenerationOptions o = GenerationOptions.builder().temperature(1).topK(0).topP(0.6).build();
    Sampler s = Samplers.of(o, 11);
    int[] counts = new int[3];
    for (int i = 0; i < 4000; i++) {
      counts[s.sample(logits)]++;
    }
    assertEquals(0, counts[0], "the 0.2 token lies in the removed tail");
    assertEquals(0.5 / 0.8, counts[1] / 4000.0, 0.03);
  }

  @Test
  void frequenciesFollowTheSoftmax() {
    float[] logits = {0f, (float) Math.log(3)};
    GenerationOptions o = GenerationOptions.builder().temperature(1).topK(0).topP(1).build();
    Sampler s = Samplers.of(o, 3);
    int ones = 0;
    for (int i = 0; i < 20000; i++) {
      ones += s.sample(logits);
    }
    assertEquals(0.75, ones / 20000.0, 0.015);
  }

  @Test
  void sameSeedSameDraws() {
    GenerationOptions o = GenerationOptions.builder().temperature(0.9).topK(5).topP(0.8).build();
    float[] logits = randomLogits(new Random(5), 100);
    Sampler a = Samplers.of(o, 42);
    Sampler b = Samplers.of(o, 42);
    for (int i = 0; i < 100; i++) {
      assertEquals(a.sample(logits), b.sample(logits));
    }
  }

  /** The fast sampler against a naive twin written straight from the contract. */
  @Test
  void fuzzAgainstNaiveTwin() {
    Random rnd = new Random(1);
    for (int trial = 0; trial < 300; trial++) {
      int v = 1 + rnd.nextInt(300);
      double t = 0.05 + rnd.nextDouble() * 2;
      int k = rnd.nextInt(4) == 0 ? 0 : 1 + rnd.nextInt(60);
      double p = rnd.nextInt(4) == 0 ? 1.0 : 0.05 + rnd.nextDouble() * 0.95;
      GenerationOptions o = GenerationOptions.builder().temperature(t).topK(k).topP(p).build();
      long seed = rnd.nextLong();
      Sampler fast = Samplers.of(o, seed);
      SplitMix64 rng = new SplitMix64(seed);
      for (int step = 0; step < 5; step++) {
        float[] logits = randomLogits(rnd, v);
        if (rnd.nextBoolean()) {
          logits[rnd.nextInt(v)] = logits[rnd.nextInt(v)]; // ties
        }
        assertEquals(naive(logits, t, k, p, rng), fast.sample(logits), "trial " + trial);
      }
    }
  }

  private static float[] randomLogits(Random r, int v) {
    float[] l = new float[v];
    for (int i = 0; i < v; i++) {
      l[i] = (float) (r.nextGaussian() * 3);
    }
    return l;
  }

  static int naive(float[] logits, double t, int k, double p, SplitMix64 rng) {
    int v = logits.length;
    double[] x = new double[v];
    for (int i = 0; i < v; i++) {
      x[i] = logits[i] / t;
    }
    if (k > 0 && k < v) {
      double[] sorted = x.clone();
      java.util.Arrays.sort(sorted);
      double kth = sorted[v - k];
      for (int i = 0; i < v; i++) {
        if (x[i] < kth) {
          x[i] = Double.NEGATIVE_INFINITY;
        }
      }
    }
    if (p < 1) {
      List<Integer> order = new ArrayList<>();
      for (int i = 0; i < v; i++) {
        order.add(i);
      }
      order.sort(Comparator.<Integer>comparingDouble(i -> x[i]).thenComparingInt(i -> i));
      double[] probs = softmax(order.stream().mapToDouble(i -> x[i]).toArray());
      double c = 0;
      for (int j = 0; j < v - 1; j++) {
        c += probs[j];
        if (c <= 1 - p) {
          x[order.get(j)] = Double.NEGATIVE_INFINITY;
        }
      }
    }
    double[] probs = softmax(x);
    double u = rng.nextDouble();
    double c = 0;
    int last = -1;
    for (int i = 0; i < v; i++) {
      if (x[i] != Double.NEGATIVE_INFINITY) {
        c += probs[i];
        last = i;
        if (c > u) {
          return i;
        }
      }
    }
    return last;
  }

  private static double[] softmax(double[] x) {
    double m = Double.NEGATIVE_INFINITY;
    for (double d : x) {
      m = Math.max(m, d);
    }
    double s = 0;
    double[] e = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      e[i] = x[i] == Double.NEGATIVE_INFINITY ? 0 : StrictMath.exp(x[i] - m);
      s += e[i];
    }
    for (int i = 0; i < x.length; i++) {
      e[i] /= s;
    }
    assertTrue(s > 0);
    return e;
  }
}

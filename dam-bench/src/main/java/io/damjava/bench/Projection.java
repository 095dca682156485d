package io.damjava.bench;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The figures of a {@link Compare} run: the best round of each measurement, the stage figures of a
 * run, and their per-layer projection to the full DAM-3B depth. A projection that noise makes
 * meaningless falls back to a bound's ratio and is named in {@link #fallbacks}.
 */
final class Projection {
  private final Map<String, List<JsonNode>> runs;
  private final int[] depths;
  private final Map<String, Path> bundles;

  /** The projections that fell back to the deeper measurement scaled by the bound's ratio. */
  final List<String> fallbacks = new ArrayList<>();

  /**
   * @param runs each run's child JSON per round, by run name ({@code java/fp32-L2}, {@code ref/L2})
   * @param depths the measured depths, sorted
   * @param bundles the bundle of each precision and depth ({@link Compare#key})
   */
  Projection(Map<String, List<JsonNode>> runs, int[] depths, Map<String, Path> bundles) {
    this.runs = runs;
    this.depths = depths;
    this.bundles = bundles;
  }

  /** Whether {@code run} was measured. */
  boolean has(String run) {
    return runs.containsKey(run);
  }

  /** Linear extrapolation in depth from the measured depths (x = layers or blocks). */
  static double extrapolate(double x1, double y1, double x2, double y2, double x) {
    return x1 == x2 ? y1 * x / x1 : y1 + (x - x1) * (y2 - y1) / (x2 - x1);
  }

  double med(String run, String... path) {
    List<JsonNode> l = runs.get(run);
    if (l == null) {
      return Double.NaN;
    }
    double[] v = new double[l.size()];
    for (int i = 0; i < v.length; i++) {
      JsonNode n = l.get(i);
      for (String p : path) {
        n = n.path(p);
      }
      v[i] = n.isNumber() ? n.asDouble() : Double.NaN;
    }
    // Each child reports medians over its reps; across rounds the least disturbed round counts
    // (the machine is shared: interference only ever adds time). Both sides get the same rule.
    return Arrays.stream(v).filter(x -> !Double.isNaN(x)).min().orElse(Double.NaN);
  }

  double max(String run, String field) {
    List<JsonNode> l = runs.get(run);
    return l == null
        ? Double.NaN
        : l.stream().mapToDouble(n -> n.path(field).asDouble()).max().orElse(Double.NaN);
  }

  /** Decode ms/token at context c, piecewise linear over the measured contexts. */
  static double interp(TreeMap<Integer, Double> pts, double c) {
    Integer[] k = pts.keySet().toArray(new Integer[0]);
    if (k.length == 1) {
      return pts.get(k[0]);
    }
    int i = 0;
    while (i < k.length - 2 && c > k[i + 1]) {
      i++;
    }
    return extrapolate(k[i], pts.get(k[i]), k[i + 1], pts.get(k[i + 1]), c);
  }

  /** Stage figures of one implementation/precision at one depth (or projected to full depth). */
  record Stages(double preprocess, double vision, double prefill, TreeMap<Integer, Double> decode) {
    double describe(int promptLength, int tokens) {
      double s = preprocess + vision + prefill;
      for (int t = 0; t < tokens; t++) {
        s += interp(decode, promptLength + t);
      }
      return s;
    }
  }

  Stages stages(String run, String[] contexts) {
    TreeMap<Integer, Double> dec = new TreeMap<>();
    for (String c : contexts) {
      double v = med(run, "by_context", c, "decode_ms_per_token");
      if (!Double.isNaN(v)) {
        dec.put(Integer.parseInt(c), v);
      }
    }
    double pre = med(run, "preprocess_ms");
    return new Stages(
        Double.isNaN(pre) ? 0 : pre,
        med(run, "vision_ms_per_region"),
        med(run, "prompt_prefill_ms"),
        dec);
  }

  /**
   * Per-layer extrapolation in depth: y = fixed + x * perLayer from the two measured depths. Where
   * noise makes that meaningless (per-layer cost not positive, or a negative fixed part), the
   * deeper measurement is scaled by the bound's ratio instead (same achieved fraction), and noted.
   */
  private double depthScale(
      String what,
      double x1,
      double y1,
      double x2,
      double y2,
      double x,
      double cost2,
      double costX) {
    if (x1 != x2) {
      double per = (y2 - y1) / (x2 - x1);
      if (per > 0 && y1 - x1 * per >= 0) {
        return y1 + (x - x1) * per;
      }
    }
    fallbacks.add(what);
    return y2 * costX / cost2;
  }

  Stages full(String prefix, String precision, String[] contexts, CompareModel m, int promptLength)
      throws IOException {
    int d1 = depths[0];
    int d2 = depths[depths.length - 1];
    Stages a = stages(prefix + "L" + d1, contexts);
    Stages b = stages(prefix + "L" + d2, contexts);
    String who = prefix.replace("/", " ") + " ";
    double vision =
        depthScale(
            who + "vision",
            d1 - 1,
            a.vision,
            d2 - 1,
            b.vision,
            CompareModel.FULL_VISION_BLOCKS,
            m.visionFlops(d2 - 1),
            m.visionFlops(CompareModel.FULL_VISION_BLOCKS));
    double prefill =
        depthScale(
            who + "prefill",
            d1,
            a.prefill,
            d2,
            b.prefill,
            CompareModel.FULL_LLM_LAYERS,
            m.prefillFlops(promptLength, d2),
            m.prefillFlops(promptLength, CompareModel.FULL_LLM_LAYERS));
    double w1 = CompareModel.decoderBytes(bundles.get(Compare.key(precision, d1)));
    double w2 = CompareModel.decoderBytes(bundles.get(Compare.key(precision, d2)));
    double wFull = extrapolate(d1, w1, d2, w2, CompareModel.FULL_LLM_LAYERS);
    TreeMap<Integer, Double> dec = new TreeMap<>();
    for (Integer c : b.decode.keySet()) {
      if (a.decode.containsKey(c)) {
        dec.put(
            c,
            depthScale(
                who + "decode@" + c,
                d1,
                a.decode.get(c),
                d2,
                b.decode.get(c),
                CompareModel.FULL_LLM_LAYERS,
                w2 + m.kvBytes(c, d2),
                wFull + m.kvBytes(c, CompareModel.FULL_LLM_LAYERS)));
      }
    }
    return new Stages(b.preprocess, vision, prefill, dec);
  }
}

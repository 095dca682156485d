package io.damjava.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The Markdown report of a {@link Compare} run ({@code compare.md}) and its decode-vs-context
 * chart: the machine and settings, one stage table per measured depth next to the FLOP and
 * bandwidth bounds, the projection to full DAM-3B depth, the profiled describe() calls, and the
 * targets.
 */
final class CompareReport {
  private final int threads;
  private final int[] depths;
  private final List<String> precisions;
  private final int rounds;
  private final int reps;
  private final int captionTokens;
  private final Path out;
  private final Map<String, JsonNode> describes;
  private final Projection projection;
  private final StringBuilder md = new StringBuilder();

  CompareReport(Compare c, Projection projection) {
    this.threads = c.threads;
    this.depths = c.depths;
    this.precisions = c.precisions;
    this.rounds = c.rounds;
    this.reps = c.reps;
    this.captionTokens = c.captionTokens;
    this.out = c.out;
    this.describes = c.describes;
    this.projection = projection;
  }

  /** Writes the report (and the chart into the output folder) and returns the Markdown. */
  String write(
      ObjectNode env,
      CompareModel m,
      Map<String, Path> bundles,
      Probes.Rate bw,
      Probes.Rate gemm,
      int promptLength)
      throws IOException {
    double gbs = bw.best();
    double gflops = gemm.best();
    int deep = depths[depths.length - 1];
    int d1 = depths[0];
    String[] refContexts = {"256", "1024"};
    md.append("## Run\n\n");
    md.append("* command: `").append(env.path("command").asText()).append("`\n");
    md.append(
        String.format(
            Locale.ROOT,
            "* machine: %s, %d CPUs; %s; ONNX Runtime %s; %d intra-op threads (Java) / torch.set_num_threads(%d) (reference)%n",
            env.path("cpu").asText(),
            env.path("cpus").asInt(),
            env.path("jdk").asText(),
            env.path("onnxruntime").asText(),
            threads,
            threads));
    md.append(
        String.format(
            Locale.ROOT,
            "* reference BLAS (libblas.so.3): %s, OPENBLAS_CORETYPE=%s%n",
            env.path("blas").asText(),
            Machine.openblasCore()));
    md.append(
        String.format(
            Locale.ROOT,
            "* load average before / after: %s / %s; wall %.0f s; %d rounds of %d reps: each figure is"
                + " the best round's median%n",
            env.path("loadavg_before").asText(),
            env.path("loadavg_after").asText(),
            env.path("wall_s").asDouble(),
            rounds,
            reps));
    md.append(
        String.format(
            Locale.ROOT,
            "* memory bandwidth bound %.1f GB/s, the faster of two streaming reads: Java %.1f GB/s"
                + " (Arrays.mismatch over 2 x 1 GiB long[], %d threads) and ONNX Runtime fp32 GEMV"
                + " %.1f GB/s (1 GiB weight, %d threads); best of 7 each%n",
            gbs,
            env.path("java_read_gbs").asDouble(),
            threads,
            env.path("ort_gemv_read_gbs").asDouble(),
            threads));
    md.append(
        String.format(
            Locale.ROOT,
            "* GEMM rate %.0f GFLOP/s (%s; median %.0f)%n",
            gflops,
            gemm.method(),
            gemm.median()));
    md.append(
        String.format(
            Locale.ROOT,
            "* prompt: the default DAM query with one image, %d positions (%d image rows); vision: one 640x480 region needing the focal pass%n%n",
            promptLength,
            m.imageTokens()));

    for (int d : depths) {
      md.append(
          String.format(
              Locale.ROOT,
              "### bench checkpoint, %d layers (%d vision block%s + adapter%s, %d decoder layers)%n%n",
              d,
              d - 1,
              d - 1 == 1 ? "" : "s",
              d - 1 == 1 ? "" : "s",
              d));
      md.append(
          "| impl | vision ms/region (bound, frac) | prefill ms (bound, frac) | decode ms/tok @256 (bound, frac) | @1024 (bound, frac) | peak RSS MB |\n");
      md.append("|---|---|---|---|---|---|\n");
      double vb = m.visionFlops(d - 1) / gflops / 1e6;
      double pb = m.prefillFlops(promptLength, d) / gflops / 1e6;
      for (String p : precisions) {
        String run = "java/" + Compare.key(p, d);
        stageRow(
            "dam-java " + p,
            run,
            CompareModel.decoderBytes(bundles.get(Compare.key(p, d))),
            vb,
            pb,
            gbs,
            m,
            d);
      }
      if (projection.has("ref/L" + d)) {
        String run = "ref/L" + d;
        stageRow(
            "PyTorch reference fp32",
            run,
            CompareModel.decoderBytes(bundles.get(Compare.key("fp32", d))),
            vb,
            pb,
            gbs,
            m,
            d);
      }
      md.append('\n');
    }
    md.append(
        "Bounds: vision and prefill = useful FLOPs / GEMM rate; decode = (decoder weight bytes + KV bytes read) / bandwidth. frac = bound / measured.\n\n");

    // full depth
    md.append(
        String.format(
            Locale.ROOT,
            "### Projected full DAM-3B (%d vision blocks + adapters, %d decoder layers, lm_head %dx%d), per-layer extrapolation from %s layers%n%n",
            CompareModel.FULL_VISION_BLOCKS,
            CompareModel.FULL_LLM_LAYERS,
            m.h(),
            m.vocab(),
            Arrays.toString(depths)));
    md.append(
        String.format(
            Locale.ROOT,
            "| impl | vision ms/region (frac) | prefill ms (frac) | decode ms/tok @256 (frac) | @1024 (frac) | describe(), 1 region, %d tokens |%n",
            captionTokens));
    md.append("|---|---|---|---|---|---|\n");
    double fvb = m.visionFlops(CompareModel.FULL_VISION_BLOCKS) / gflops / 1e6;
    double fpb = m.prefillFlops(promptLength, CompareModel.FULL_LLM_LAYERS) / gflops / 1e6;
    Map<String, Double> describeFull = new LinkedHashMap<>();
    Map<String, Double> describeBench = new LinkedHashMap<>();
    Map<String, double[]> decodeFrac = new LinkedHashMap<>();
    Map<String, TreeMap<Integer, Double>> chart = new LinkedHashMap<>();
    Map<String, TreeMap<Integer, Double>> chartBound = new LinkedHashMap<>();
    for (String p : precisions) {
      Projection.Stages f =
          projection.full("java/" + p + "-", p, Compare.CHART_CONTEXTS, m, promptLength);
      double w1 = CompareModel.decoderBytes(bundles.get(Compare.key(p, d1)));
      double w2 = CompareModel.decoderBytes(bundles.get(Compare.key(p, deep)));
      double wFull = Projection.extrapolate(d1, w1, deep, w2, CompareModel.FULL_LLM_LAYERS);
      double b256 = (wFull + m.kvBytes(256, CompareModel.FULL_LLM_LAYERS)) / gbs / 1e6;
      double b1024 = (wFull + m.kvBytes(1024, CompareModel.FULL_LLM_LAYERS)) / gbs / 1e6;
      double desc = f.describe(promptLength, captionTokens);
      describeFull.put(p, desc);
      describeBench.put(
          p,
          projection
              .stages("java/" + Compare.key(p, deep), Compare.CHART_CONTEXTS)
              .describe(promptLength, captionTokens));
      md.append("| dam-java ")
          .append(p)
          .append(" | ")
          .append(cell(f.vision(), fvb))
          .append(" | ")
          .append(cell(f.prefill(), fpb))
          .append(" | ")
          .append(cell(f.decode().get(256), b256))
          .append(" | ")
          .append(cell(f.decode().get(1024), b1024))
          .append(" | ")
          .append(String.format(Locale.ROOT, "**%.1f s** |%n", desc / 1000));
      Projection.Stages bench =
          projection.stages("java/" + Compare.key(p, deep), Compare.CHART_CONTEXTS);
      double wb = w2;
      decodeFrac.put(
          p,
          new double[] {
            (wb + m.kvBytes(256, deep)) / gbs / 1e6 / bench.decode().get(256),
            (wb + m.kvBytes(1024, deep)) / gbs / 1e6 / bench.decode().get(1024)
          });
      chart.put(p, bench.decode());
      TreeMap<Integer, Double> bd = new TreeMap<>();
      for (Integer c : bench.decode().keySet()) {
        bd.put(c, (wb + m.kvBytes(c, deep)) / gbs / 1e6);
      }
      chartBound.put(p, bd);
    }
    double refFull = Double.NaN;
    double refBench = Double.NaN;
    if (projection.has("ref/L" + deep)) {
      Projection.Stages f = projection.full("ref/", "fp32", refContexts, m, promptLength);
      double w1 = CompareModel.decoderBytes(bundles.get(Compare.key("fp32", d1)));
      double w2 = CompareModel.decoderBytes(bundles.get(Compare.key("fp32", deep)));
      double wFull = Projection.extrapolate(d1, w1, deep, w2, CompareModel.FULL_LLM_LAYERS);
      refFull = f.describe(promptLength, captionTokens);
      refBench =
          projection.stages("ref/L" + deep, refContexts).describe(promptLength, captionTokens);
      md.append("| PyTorch reference fp32 | ")
          .append(cell(f.vision(), fvb))
          .append(" | ")
          .append(cell(f.prefill(), fpb))
          .append(" | ")
          .append(
              cell(
                  f.decode().get(256),
                  (wFull + m.kvBytes(256, CompareModel.FULL_LLM_LAYERS)) / gbs / 1e6))
          .append(" | ")
          .append(
              cell(
                  f.decode().get(1024),
                  (wFull + m.kvBytes(1024, CompareModel.FULL_LLM_LAYERS)) / gbs / 1e6))
          .append(" | ")
          .append(
              String.format(
                  Locale.ROOT, "**%.1f s** (no preprocessing counted) |%n", refFull / 1000));
      TreeMap<Integer, Double> rd = projection.stages("ref/L" + deep, refContexts).decode();
      chart.put("reference fp32", rd);
    }
    md.append('\n');
    md.append(
        String.format(
            Locale.ROOT,
            "describe() = preprocessing + vision + prefill of the %d-position prompt + %d decode steps at contexts %d..%d (piecewise linear over the measured contexts).%n%n",
            promptLength,
            captionTokens,
            promptLength,
            promptLength + captionTokens - 1));
    md.append(
        projection.fallbacks.isEmpty()
            ? "Every projection is a per-layer extrapolation (fixed part + layers x per-layer part).\n\n"
            : "Per-layer extrapolation was too noisy (non-positive per-layer or negative fixed part)"
                + " for: "
                + String.join(", ", projection.fallbacks)
                + "; those are the deeper measurement scaled by the bound's ratio.\n\n");

    Map<String, Double> outsideFull =
        ProfiledDescribes.append(md, describes, precisions, deep, captionTokens, describeFull);

    // targets
    md.append("### Targets\n\n| target | result | |\n|---|---|---|\n");
    for (String p : precisions) {
      double[] f = decodeFrac.get(p);
      md.append(
          String.format(
              Locale.ROOT,
              "| decode %s ≥ 0.80 of bound @256, ≥ 0.75 @1024 (%d layers) | %.2f / %.2f | %s |%n",
              p,
              deep,
              f[0],
              f[1],
              f[0] >= 0.80 && f[1] >= 0.75 ? "met" : "**missed**"));
    }
    for (String p : precisions) {
      double vf =
          m.visionFlops(deep - 1)
              / gflops
              / 1e6
              / projection.med("java/" + Compare.key(p, deep), "vision_ms_per_region");
      double pf =
          m.prefillFlops(promptLength, deep)
              / gflops
              / 1e6
              / projection.med("java/" + Compare.key(p, deep), "prompt_prefill_ms");
      md.append(
          String.format(
              Locale.ROOT,
              "| vision and prefill %s ≥ 0.75 of GEMM rate (%d layers) | %.2f / %.2f | %s |%n",
              p,
              deep,
              vf,
              pf,
              vf >= 0.75 && pf >= 0.75 ? "met" : "**missed**"));
    }
    if (!Double.isNaN(refFull)) {
      double jb = describeBench.get("fp32");
      double jf = describeFull.get("fp32");
      md.append(
          String.format(
              Locale.ROOT,
              "| describe() fp32 ≤ 0.5 × reference | %d layers: %.1f s vs %.1f s (%.2f×); full depth: %.1f s vs %.1f s (%.2f×) | %s |%n",
              deep,
              jb / 1000,
              refBench / 1000,
              jb / refBench,
              jf / 1000,
              refFull / 1000,
              jf / refFull,
              jf <= 0.5 * refFull && jb <= 0.5 * refBench ? "met" : "**missed**"));
    }
    for (String p : precisions) {
      double o = outsideFull.get(p);
      md.append(
          String.format(
              Locale.ROOT,
              "| Java outside ORT ≤ 2%% of describe() (%s, full depth) | %.2f%% | %s |%n",
              p,
              100 * o,
              o <= 0.02 ? "met" : "**missed**"));
    }
    if (describeFull.containsKey("int4")) {
      double s = describeFull.get("int4") / 1000;
      md.append(
          String.format(
              Locale.ROOT,
              "| full DAM-3B int4, 1 region, %d tokens < 30 s | %.1f s | %s |%n",
              captionTokens,
              s,
              s < 30 ? "met" : "**missed**"));
    }
    md.append('\n');
    Chart.draw(
        out.resolve("decode-vs-context.png"),
        "decode ms/token vs context, bench checkpoint " + deep + " layers, " + threads + " threads",
        chart,
        chartBound);
    return md.toString();
  }

  /** One row of a stage table: measured figures of {@code run} next to their bounds. */
  private void stageRow(
      String label,
      String run,
      double weightBytes,
      double visionBound,
      double prefillBound,
      double gbs,
      CompareModel m,
      int depth) {
    md.append("| ")
        .append(label)
        .append(" | ")
        .append(cell(projection.med(run, "vision_ms_per_region"), visionBound))
        .append(" | ")
        .append(cell(projection.med(run, "prompt_prefill_ms"), prefillBound));
    for (int context : new int[] {256, 1024}) {
      md.append(" | ")
          .append(
              cell(
                  projection.med(run, "by_context", String.valueOf(context), "decode_ms_per_token"),
                  (weightBytes + m.kvBytes(context, depth)) / gbs / 1e6));
    }
    md.append(" | ")
        .append(String.format(Locale.ROOT, "%.0f |%n", projection.max(run, "peak_rss_mb")));
  }

  private static String cell(double measured, double bound) {
    if (Double.isNaN(measured)) {
      return "–";
    }
    return String.format(Locale.ROOT, "%.1f (%.1f, %.2f)", measured, bound, bound / measured);
  }
}

package io.damjava.bench;

import ai.onnxruntime.OrtEnvironment;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Side-by-side run of dam-java and the PyTorch reference (tools/reference/bench_reference.py) on
 * the same {@code bench} checkpoints (real DAM-3B widths, a few layers), the same threads and the
 * same machine, next to the machine's measured memory bandwidth and GEMM rate; then a per-layer
 * extrapolation to the full DAM-3B depth. See docs/PERFORMANCE.md.
 *
 * <pre>
 * java -Xmx4g -cp dam-bench/target/dam-bench.jar io.damjava.bench.Compare [--threads 2]
 *     [--depths 2,3] [--precisions fp32,int8,int4] [--rounds 2] [--reps 3] [--decode-tokens 8]
 *     [--caption-tokens 100] [--no-reference] [--out target/dam-bench-compare]
 * </pre>
 *
 * Checkpoints and bundles are cached in {@link BenchModels#home()} ({@code -Ddam.bench.models}).
 * Every measurement runs in a child process (Java: {@link JavaStages}; reference: /usr/bin/python3
 * bench_reference.py), one bundle per process, alternating Java and the reference in each round.
 */
public final class Compare {
  static final int FULL_LLM_LAYERS = 32;
  static final int FULL_VISION_BLOCKS = 26; // 27 SigLIP layers, select_layer -2
  static final String[] CHART_CONTEXTS = {"128", "256", "512", "1024", "2048"};

  private final ObjectMapper json = new ObjectMapper();
  private int threads = 2;
  private int[] depths = {2, 3};
  private List<String> precisions = List.of("fp32", "int8", "int4");
  private int rounds = 2;
  private int reps = 3;
  private int decodeTokens = 8;
  private int captionTokens = 100;
  private boolean reference = true;
  private Path out = Path.of("target/dam-bench-compare");

  private final Map<String, List<JsonNode>> runs = new TreeMap<>();
  private final Map<String, JsonNode> describes = new TreeMap<>();
  private final StringBuilder md = new StringBuilder();

  static final String USAGE =
      "usage: dam bench compare [--threads 2] [--depths 2,3] [--precisions fp32,int8,int4]\n"
          + "    [--rounds 2] [--reps 3] [--decode-tokens 8] [--caption-tokens 100]\n"
          + "    [--no-reference] [--out target/dam-bench-compare]\n"
          + "Makes bench checkpoints at DAM-3B widths (cached in ~/.cache/dam-bench), converts them,\n"
          + "alternates this engine and the PyTorch reference, prints the table (docs/PERFORMANCE.md).";

  public static void main(String[] args) throws Exception {
    Compare c = new Compare();
    try {
      if (!c.parse(args)) {
        System.out.println(USAGE);
        return;
      }
    } catch (IllegalArgumentException e) {
      System.err.println("dam bench compare: " + e.getMessage() + "\n" + USAGE);
      System.exit(2);
    }
    c.run();
  }

  /** False when help was asked for. */
  private boolean parse(String[] args) {
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (a.equals("--help") || a.equals("-h")) {
        return false;
      }
      if (a.equals("--no-reference")) {
        reference = false;
        continue;
      }
      if (i + 1 >= args.length) {
        throw new IllegalArgumentException(a + " needs a value");
      }
      String v = args[++i];
      switch (a) {
        case "--threads" -> threads = Integer.parseInt(v);
        case "--depths" ->
            depths = Arrays.stream(v.split(",")).mapToInt(Integer::parseInt).toArray();
        case "--precisions" -> precisions = List.of(v.split(","));
        case "--rounds" -> rounds = Integer.parseInt(v);
        case "--reps" -> reps = Integer.parseInt(v);
        case "--decode-tokens" -> decodeTokens = Integer.parseInt(v);
        case "--caption-tokens" -> captionTokens = Integer.parseInt(v);
        case "--out" -> out = Path.of(v);
        default -> throw new IllegalArgumentException("unknown option " + a);
      }
    }
    Arrays.sort(depths);
    return true;
  }

  private void run() throws Exception {
    long start = System.nanoTime();
    Files.createDirectories(out);
    ObjectNode env = json.createObjectNode();
    env.put("cpu", cpuModel());
    env.put("cpus", Runtime.getRuntime().availableProcessors());
    env.put(
        "jdk",
        System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
    env.put("onnxruntime", OrtEnvironment.getEnvironment().getVersion());
    env.put("threads", threads);
    env.put(
        "command",
        ProcessHandle.current()
            .info()
            .commandLine()
            .orElse("java -cp dam-bench.jar " + Compare.class.getName()));
    env.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version"));
    env.put("inputs", "synthetic, fixed seeds (Synthetic.image/mask, random KV seed = context)");
    env.put("loadavg_before", loadavg());
    log("machine: " + env);

    // 1. checkpoints and bundles
    Map<Integer, Path> ckpt = new TreeMap<>();
    Map<String, Path> bundles = new LinkedHashMap<>();
    for (int d : depths) {
      ckpt.put(d, BenchModels.checkpoint(d));
      for (String p : precisions) {
        long t = System.nanoTime();
        bundles.put(key(p, d), BenchModels.bundle(ckpt.get(d), p));
        log("bundle " + key(p, d) + " ready (" + secs(t) + " s)");
      }
    }
    Model model = Model.read(ckpt.get(depths[0]));

    // 2. machine limits
    Probes.Rate javaRead = Probes.bandwidth(threads);
    log("Java read " + javaRead);
    Probes.Rate gemv = Probes.gemv(BenchModels.home().resolve("probe"), threads);
    log("ORT GEMV read " + gemv);
    // the bound uses the fastest streaming read any probe achieved (a lower bound of the limit)
    Probes.Rate bw = javaRead.best() >= gemv.best() ? javaRead : gemv;
    Probes.Rate gemm = Probes.gemm(BenchModels.home().resolve("probe"), threads, 3072);
    log(
        String.format(
            Locale.ROOT,
            "GEMM %.0f GFLOP/s best, %.0f median: %s",
            gemm.best(),
            gemm.median(),
            gemm.method()));

    // 3. alternating rounds
    int promptLength = 0;
    for (int r = 0; r < rounds; r++) {
      for (int d : depths) {
        for (int i = 0; i < precisions.size(); i++) {
          String p = precisions.get(i);
          JsonNode j =
              child(
                  javaCommand(
                      "--bundle", bundles.get(key(p, d)).toString(),
                      "--threads", Integer.toString(threads),
                      "--reps", Integer.toString(reps),
                      "--decode-tokens", Integer.toString(decodeTokens),
                      "--context", String.join(",", CHART_CONTEXTS)));
          runs.computeIfAbsent("java/" + key(p, d), k -> new ArrayList<>()).add(j);
          promptLength = j.path("prompt_length").asInt();
          log(String.format(Locale.ROOT, "round %d java %s: %s", r + 1, key(p, d), summary(j)));
          if (i == 0 && reference) {
            JsonNode ref = child(referenceCommand(ckpt.get(d), promptLength));
            runs.computeIfAbsent("ref/L" + d, k -> new ArrayList<>()).add(ref);
            log(String.format(Locale.ROOT, "round %d reference L%d: %s", r + 1, d, summary(ref)));
          }
        }
      }
    }
    // 4. describe() with ORT profiling: Java time outside ONNX Runtime's run calls
    int deep = depths[depths.length - 1];
    for (String p : precisions) {
      JsonNode j =
          child(
              javaCommand(
                  "--bundle", bundles.get(key(p, deep)).toString(),
                  "--threads", Integer.toString(threads),
                  "--describe", Integer.toString(captionTokens),
                  "--profile", out.resolve("profile-" + key(p, deep)).toString()));
      describes.put(p, j);
      log("describe " + key(p, deep) + ": " + j.path("describe"));
    }
    env.put("loadavg_after", loadavg());
    env.put(
        "blas",
        reference && runs.containsKey("ref/L" + deep)
            ? runs.get("ref/L" + deep).get(0).path("blas").path("libblas.so.3").asText()
            : "n/a");
    env.put("wall_s", secs(start));

    env.put("java_read_gbs", javaRead.best());
    env.put("ort_gemv_read_gbs", gemv.best());
    report(env, model, bundles, bw, gemm, promptLength);
    ObjectNode all = json.createObjectNode();
    all.set("environment", env);
    all.putPOJO("bandwidth", bw);
    all.putPOJO("javaRead", javaRead);
    all.putPOJO("ortGemvRead", gemv);
    all.putPOJO("gemm", gemm);
    ObjectNode rs = all.putObject("runs");
    runs.forEach((k, v) -> rs.putArray(k).addAll(v));
    ObjectNode ds = all.putObject("describe");
    describes.forEach(ds::set);
    Files.writeString(
        out.resolve("compare.json"), json.writerWithDefaultPrettyPrinter().writeValueAsString(all));
    Files.writeString(out.resolve("compare.md"), md);
    System.out.println(md);
    log(
        "wrote "
            + out.resolve("compare.md")
            + ", compare.json, decode-vs-context.png in "
            + secs(start)
            + " s");
  }

  // ---------------------------------------------------------------- model arithmetic

  /**
   * Widths of the bench checkpoint (the same as DAM-3B's) and the FLOP / byte counts they imply.
   */
  record Model(
      int h,
      int inter,
      int heads,
      int kvHeads,
      int headDim,
      int vocab,
      int hv,
      int iv,
      int tokens,
      int patch,
      int imageTokens) {
    static Model read(Path ckpt) throws IOException {
      ObjectMapper j = new ObjectMapper();
      JsonNode l = j.readTree(ckpt.resolve("llm/config.json").toFile());
      JsonNode v = j.readTree(ckpt.resolve("vision_tower/config.json").toFile());
      int h = l.path("hidden_size").asInt();
      int heads = l.path("num_attention_heads").asInt();
      int grid = v.path("image_size").asInt() / v.path("patch_size").asInt();
      int merged = (grid + 1) / 2;
      return new Model(
          h,
          l.path("intermediate_size").asInt(),
          heads,
          l.path("num_key_value_heads").asInt(heads),
          h / heads,
          l.path("vocab_size").asInt(),
          v.path("hidden_size").asInt(),
          v.path("intermediate_size").asInt(),
          grid * grid,
          v.path("patch_size").asInt(),
          merged * merged);
    }

    double layerParams() {
      return (double) h * heads * headDim * 2 + 2.0 * h * kvHeads * headDim + 3.0 * h * inter;
    }

    /**
     * Useful FLOPs of a prefill of n positions at depth d (causal attention; lm_head on the last
     * position).
     */
    double prefillFlops(int n, int d) {
      return d * (2.0 * n * layerParams() + 2.0 * n * n * heads * headDim) + 2.0 * h * vocab;
    }

    double visionBlockFlops() {
      return 2.0 * tokens * (4.0 * hv * hv + 2.0 * hv * iv) + 4.0 * tokens * tokens * hv;
    }

    /**
     * One region: two patch embeddings, b tower blocks (context), b blocks + b adapters (focal),
     * projector.
     */
    double visionFlops(int blocks) {
      double embed = 2.0 * tokens * 4 * patch * patch * hv;
      double projector = 2.0 * imageTokens * (4.0 * hv * h + (double) h * h);
      return 2 * embed + 3.0 * blocks * visionBlockFlops() + projector;
    }

    /** KV bytes read by one decode step at context c and depth d (float32 cache). */
    double kvBytes(int c, int d) {
      return 2.0 * d * c * kvHeads * headDim * 4;
    }
  }

  static double decoderBytes(Path bundle) throws IOException {
    double b = 0;
    try (var s = Files.list(bundle)) {
      for (Path p : s.toList()) {
        String n = p.getFileName().toString();
        if (n.startsWith("decoder") && n.endsWith(".data")) {
          b += Files.size(p);
        }
      }
    }
    return b;
  }

  // ---------------------------------------------------------------- report

  /** Linear extrapolation in depth from the measured depths (x = layers or blocks). */
  static double extrapolate(double x1, double y1, double x2, double y2, double x) {
    return x1 == x2 ? y1 * x / x1 : y1 + (x - x1) * (y2 - y1) / (x2 - x1);
  }

  private double med(String run, String... path) {
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

  private double max(String run, String field) {
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

  private Stages stages(String run, String[] contexts) {
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

  private final List<String> fallbacks = new ArrayList<>();
  private Map<String, Path> bundleDirs = Map.of();

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

  private Stages full(String prefix, String precision, String[] contexts, Model m, int promptLength)
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
            FULL_VISION_BLOCKS,
            m.visionFlops(d2 - 1),
            m.visionFlops(FULL_VISION_BLOCKS));
    double prefill =
        depthScale(
            who + "prefill",
            d1,
            a.prefill,
            d2,
            b.prefill,
            FULL_LLM_LAYERS,
            m.prefillFlops(promptLength, d2),
            m.prefillFlops(promptLength, FULL_LLM_LAYERS));
    double w1 = decoderBytes(bundleDirs.get(key(precision, d1)));
    double w2 = decoderBytes(bundleDirs.get(key(precision, d2)));
    double wFull = extrapolate(d1, w1, d2, w2, FULL_LLM_LAYERS);
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
                FULL_LLM_LAYERS,
                w2 + m.kvBytes(c, d2),
                wFull + m.kvBytes(c, FULL_LLM_LAYERS)));
      }
    }
    return new Stages(b.preprocess, vision, prefill, dec);
  }

  private void report(
      ObjectNode env,
      Model m,
      Map<String, Path> bundles,
      Probes.Rate bw,
      Probes.Rate gemm,
      int promptLength)
      throws IOException {
    double gbs = bw.best();
    double gflops = gemm.best();
    bundleDirs = bundles;
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
            openblasCore()));
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
        String run = "java/" + key(p, d);
        stageRow("dam-java " + p, run, decoderBytes(bundles.get(key(p, d))), vb, pb, gbs, m, d);
      }
      if (runs.containsKey("ref/L" + d)) {
        String run = "ref/L" + d;
        stageRow(
            "PyTorch reference fp32",
            run,
            decoderBytes(bundles.get(key("fp32", d))),
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
            FULL_VISION_BLOCKS,
            FULL_LLM_LAYERS,
            m.h(),
            m.vocab(),
            Arrays.toString(depths)));
    md.append(
        String.format(
            Locale.ROOT,
            "| impl | vision ms/region (frac) | prefill ms (frac) | decode ms/tok @256 (frac) | @1024 (frac) | describe(), 1 region, %d tokens |%n",
            captionTokens));
    md.append("|---|---|---|---|---|---|\n");
    double fvb = m.visionFlops(FULL_VISION_BLOCKS) / gflops / 1e6;
    double fpb = m.prefillFlops(promptLength, FULL_LLM_LAYERS) / gflops / 1e6;
    Map<String, Double> describeFull = new LinkedHashMap<>();
    Map<String, Double> describeBench = new LinkedHashMap<>();
    Map<String, double[]> decodeFrac = new LinkedHashMap<>();
    Map<String, TreeMap<Integer, Double>> chart = new LinkedHashMap<>();
    Map<String, TreeMap<Integer, Double>> chartBound = new LinkedHashMap<>();
    for (String p : precisions) {
      Stages f = full("java/" + p + "-", p, CHART_CONTEXTS, m, promptLength);
      double w1 = decoderBytes(bundles.get(key(p, d1)));
      double w2 = decoderBytes(bundles.get(key(p, deep)));
      double wFull = extrapolate(d1, w1, deep, w2, FULL_LLM_LAYERS);
      double b256 = (wFull + m.kvBytes(256, FULL_LLM_LAYERS)) / gbs / 1e6;
      double b1024 = (wFull + m.kvBytes(1024, FULL_LLM_LAYERS)) / gbs / 1e6;
      double desc = f.describe(promptLength, captionTokens);
      describeFull.put(p, desc);
      describeBench.put(
          p, stages("java/" + key(p, deep), CHART_CONTEXTS).describe(promptLength, captionTokens));
      md.append("| dam-java ")
          .append(p)
          .append(" | ")
          .append(cell(f.vision, fvb))
          .append(" | ")
          .append(cell(f.prefill, fpb))
          .append(" | ")
          .append(cell(f.decode.get(256), b256))
          .append(" | ")
          .append(cell(f.decode.get(1024), b1024))
          .append(" | ")
          .append(String.format(Locale.ROOT, "**%.1f s** |%n", desc / 1000));
      Stages bench = stages("java/" + key(p, deep), CHART_CONTEXTS);
      double wb = w2;
      decodeFrac.put(
          p,
          new double[] {
            (wb + m.kvBytes(256, deep)) / gbs / 1e6 / bench.decode.get(256),
            (wb + m.kvBytes(1024, deep)) / gbs / 1e6 / bench.decode.get(1024)
          });
      chart.put(p, bench.decode);
      TreeMap<Integer, Double> bd = new TreeMap<>();
      for (Integer c : bench.decode.keySet()) {
        bd.put(c, (wb + m.kvBytes(c, deep)) / gbs / 1e6);
      }
      chartBound.put(p, bd);
    }
    double refFull = Double.NaN;
    double refBench = Double.NaN;
    if (runs.containsKey("ref/L" + deep)) {
      Stages f = full("ref/", "fp32", refContexts, m, promptLength);
      double w1 = decoderBytes(bundles.get(key("fp32", d1)));
      double w2 = decoderBytes(bundles.get(key("fp32", deep)));
      double wFull = extrapolate(d1, w1, deep, w2, FULL_LLM_LAYERS);
      refFull = f.describe(promptLength, captionTokens);
      refBench = stages("ref/L" + deep, refContexts).describe(promptLength, captionTokens);
      md.append("| PyTorch reference fp32 | ")
          .append(cell(f.vision, fvb))
          .append(" | ")
          .append(cell(f.prefill, fpb))
          .append(" | ")
          .append(cell(f.decode.get(256), (wFull + m.kvBytes(256, FULL_LLM_LAYERS)) / gbs / 1e6))
          .append(" | ")
          .append(cell(f.decode.get(1024), (wFull + m.kvBytes(1024, FULL_LLM_LAYERS)) / gbs / 1e6))
          .append(" | ")
          .append(
              String.format(
                  Locale.ROOT, "**%.1f s** (no preprocessing counted) |%n", refFull / 1000));
      TreeMap<Integer, Double> rd = stages("ref/L" + deep, refContexts).decode;
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
        fallbacks.isEmpty()
            ? "Every projection is a per-layer extrapolation (fixed part + layers x per-layer part).\n\n"
            : "Per-layer extrapolation was too noisy (non-positive per-layer or negative fixed part)"
                + " for: "
                + String.join(", ", fallbacks)
                + "; those are the deeper measurement scaled by the bound's ratio.\n\n");

    // describe() measured with profiling
    md.append(
        String.format(
            Locale.ROOT,
            "### describe() measured at %d layers (%d tokens, greedy, ONNX Runtime profiling on)%n%n",
            deep,
            captionTokens));
    md.append(
        "| precision | wall ms | inside ORT run calls ms | outside ms | outside / wall | outside / projected full-depth describe() |\n|---|---|---|---|---|---|\n");
    Map<String, Double> outsideFull = new LinkedHashMap<>();
    for (String p : precisions) {
      JsonNode d = describes.get(p).path("describe");
      double o = d.path("outside_ort_ms").asDouble();
      outsideFull.put(p, o / describeFull.get(p));
      md.append(
          String.format(
              Locale.ROOT,
              "| %s | %.0f | %.0f | %.0f | %.1f%% | %.2f%% |%n",
              p,
              d.path("wall_ms").asDouble(),
              d.path("ort_run_ms").asDouble(),
              o,
              100 * d.path("outside_ort_fraction").asDouble(),
              100 * o / describeFull.get(p)));
    }
    md.append('\n');

    md.append("Regions per call (one batched vision call, same sessions, ms):");
    for (String p : precisions) {
      JsonNode d = describes.get(p);
      md.append(
          String.format(
              Locale.ROOT,
              " %s: 1 region %.0f, 4 regions %.0f (%.2f× per region);",
              p,
              d.path("vision_ms_1_regions").asDouble(),
              d.path("vision_ms_4_regions").asDouble(),
              d.path("vision_ms_4_regions").asDouble()
                  / 4
                  / d.path("vision_ms_1_regions").asDouble()));
    }
    md.append("\n\n");
    md.append(
        "Where ONNX Runtime's time goes in that call (node time per operator, share of the stage's"
            + " node time; ORT profiling):\n\n| precision | stage | top operators |\n|---|---|---|\n");
    for (String p : precisions) {
      JsonNode ops = describes.get(p).path("describe").path("ops_ms");
      for (String stage :
          List.of(
              "visionContext", "visionFocal", "projector", "decoder.prefill", "decoder.decode")) {
        JsonNode g = ops.path(stage);
        if (!g.isObject()) {
          continue;
        }
        List<Map.Entry<String, JsonNode>> l = new ArrayList<>();
        g.fields().forEachRemaining(l::add);
        double total = l.stream().mapToDouble(x -> x.getValue().asDouble()).sum();
        l.sort((x, y) -> Double.compare(y.getValue().asDouble(), x.getValue().asDouble()));
        StringBuilder top = new StringBuilder();
        for (int i = 0; i < Math.min(4, l.size()); i++) {
          top.append(i == 0 ? "" : ", ")
              .append(
                  String.format(
                      Locale.ROOT,
                      "%s %.0f%%",
                      l.get(i).getKey(),
                      100 * l.get(i).getValue().asDouble() / total));
        }
        md.append(String.format(Locale.ROOT, "| %s | %s (%.0f ms) | %s |%n", p, stage, total, top));
      }
    }
    md.append('\n');

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
              / med("java/" + key(p, deep), "vision_ms_per_region");
      double pf =
          m.prefillFlops(promptLength, deep)
              / gflops
              / 1e6
              / med("java/" + key(p, deep), "prompt_prefill_ms");
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
  }

  /** One row of a stage table: measured figures of {@code run} next to their bounds. */
  private void stageRow(
      String label,
      String run,
      double weightBytes,
      double visionBound,
      double prefillBound,
      double gbs,
      Model m,
      int depth) {
    md.append("| ")
        .append(label)
        .append(" | ")
        .append(cell(med(run, "vision_ms_per_region"), visionBound))
        .append(" | ")
        .append(cell(med(run, "prompt_prefill_ms"), prefillBound));
    for (int context : new int[] {256, 1024}) {
      md.append(" | ")
          .append(
              cell(
                  med(run, "by_context", String.valueOf(context), "decode_ms_per_token"),
                  (weightBytes + m.kvBytes(context, depth)) / gbs / 1e6));
    }
    md.append(" | ").append(String.format(Locale.ROOT, "%.0f |%n", max(run, "peak_rss_mb")));
  }

  private static String cell(double measured, double bound) {
    if (Double.isNaN(measured)) {
      return "–";
    }
    return String.format(Locale.ROOT, "%.1f (%.1f, %.2f)", measured, bound, bound / measured);
  }

  // ---------------------------------------------------------------- children

  private List<String> javaCommand(String... args) {
    List<String> c = new ArrayList<>();
    c.add(ProcessHandle.current().info().command().orElse("java"));
    c.add("-Xmx6g");
    String tmp = System.getProperty("java.io.tmpdir");
    if (tmp != null) {
      c.add("-Djava.io.tmpdir=" + tmp);
    }
    c.add("-cp");
    c.add(System.getProperty("java.class.path"));
    c.add(JavaStages.class.getName());
    c.addAll(List.of(args));
    return c;
  }

  private List<String> referenceCommand(Path ckpt, int promptLength) {
    return List.of(
        BenchModels.python(),
        BenchModels.referenceDir().resolve("bench_reference.py").toString(),
        "--checkpoint",
        ckpt.toString(),
        "--threads",
        Integer.toString(threads),
        "--context",
        "256,1024",
        "--reps",
        Integer.toString(reps),
        "--decode-tokens",
        Integer.toString(decodeTokens),
        "--prompt-length",
        Integer.toString(promptLength),
        "--random-cache");
  }

  private JsonNode child(List<String> cmd) throws IOException, InterruptedException {
    Thread.sleep(300); // let the previous process's threads go quiet
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT);
    if (cmd.get(0).equals(BenchModels.python()) && openblasCore() != null) {
      pb.environment().put("OPENBLAS_CORETYPE", openblasCore());
    }
    Process p = pb.start();
    String stdout;
    try (InputStream in = p.getInputStream()) {
      stdout = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    int rc = p.waitFor();
    if (rc != 0) {
      throw new IllegalStateException("exit " + rc + ": " + String.join(" ", cmd) + "\n" + stdout);
    }
    return json.readTree(stdout.substring(stdout.indexOf('{')));
  }

  private static String summary(JsonNode j) {
    StringBuilder s = new StringBuilder();
    s.append(
        String.format(
            Locale.ROOT,
            "vision %.0f ms, prefill %.0f ms, decode",
            j.path("vision_ms_per_region").asDouble(),
            j.path("prompt_prefill_ms").asDouble()));
    j.path("by_context")
        .fields()
        .forEachRemaining(
            e ->
                s.append(
                    String.format(
                        Locale.ROOT,
                        " %s:%.1f",
                        e.getKey(),
                        e.getValue().path("decode_ms_per_token").asDouble())));
    s.append(
        String.format(Locale.ROOT, " ms/tok, peak RSS %.0f MB", j.path("peak_rss_mb").asDouble()));
    return s.toString();
  }

  // ---------------------------------------------------------------- environment

  private static String key(String precision, int depth) {
    return precision + "-L" + depth;
  }

  /**
   * The OpenBLAS kernel for the reference. Debian's OpenBLAS 0.3.21 does not know recent Xeons
   * (family 6 model 207 here) and falls back to its SSE3 "Prescott" kernels, about 32 GFLOP/s per
   * core; on a CPU with AVX-512 we select the SkylakeX kernels (about 5x faster, on par with ONNX
   * Runtime's MLAS), unless OPENBLAS_CORETYPE is already set.
   */
  static String openblasCore() {
    String set = System.getenv("OPENBLAS_CORETYPE");
    if (set != null) {
      return set;
    }
    try {
      for (String l : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
        if (l.startsWith("flags")) {
          return l.contains(" avx512f ") ? "SkylakeX" : null;
        }
      }
    } catch (IOException e) {
      // not Linux
    }
    return null;
  }

  static String cpuModel() {
    try {
      for (String l : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
        if (l.startsWith("model name")) {
          return l.substring(l.indexOf(':') + 1).trim();
        }
      }
    } catch (IOException e) {
      // not Linux
    }
    return System.getProperty("os.arch");
  }

  private static String loadavg() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split(" ");
      return f[0] + " " + f[1] + " " + f[2];
    } catch (IOException e) {
      return "n/a";
    }
  }

  private static double secs(long startNanos) {
    return Math.round((System.nanoTime() - startNanos) / 1e8) / 10.0;
  }

  private static void log(String s) {
    System.err.println("[compare] " + s);
  }
}

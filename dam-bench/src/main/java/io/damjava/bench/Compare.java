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
  static final String[] CHART_CONTEXTS = {"128", "256", "512", "1024", "2048"};

  private final ObjectMapper json = new ObjectMapper();
  int threads = 2;
  int[] depths = {2, 3};
  List<String> precisions = List.of("fp32", "int8", "int4");
  int rounds = 2;
  int reps = 3;
  private int decodeTokens = 8;
  int captionTokens = 100;
  private boolean reference = true;
  Path out = Path.of("target/dam-bench-compare");

  private final Map<String, List<JsonNode>> runs = new TreeMap<>();
  final Map<String, JsonNode> describes = new TreeMap<>();

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
    env.put("cpu", Machine.cpuModel());
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
    env.put("loadavg_before", Machine.loadavg());
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
    CompareModel model = CompareModel.read(ckpt.get(depths[0]));

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
    env.put("loadavg_after", Machine.loadavg());
    env.put(
        "blas",
        reference && runs.containsKey("ref/L" + deep)
            ? runs.get("ref/L" + deep).get(0).path("blas").path("libblas.so.3").asText()
            : "n/a");
    env.put("wall_s", secs(start));

    env.put("java_read_gbs", javaRead.best());
    env.put("ort_gemv_read_gbs", gemv.best());
    String md =
        new CompareReport(this, new Projection(runs, depths, bundles))
            .write(env, model, bundles, bw, gemm, promptLength);
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
    return BenchModels.referenceBench(ckpt, threads, reps, decodeTokens, promptLength);
  }

  private JsonNode child(List<String> cmd) throws IOException, InterruptedException {
    Thread.sleep(300); // let the previous process's threads go quiet
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT);
    if (cmd.get(0).equals(BenchModels.python()) && Machine.openblasCore() != null) {
      pb.environment().put("OPENBLAS_CORETYPE", Machine.openblasCore());
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

  /** The name of a bundle by precision and depth, e.g. {@code int4-L3}. */
  static String key(String precision, int depth) {
    return precision + "-L" + depth;
  }

  private static double secs(long startNanos) {
    return Math.round((System.nanoTime() - startNanos) / 1e8) / 10.0;
  }

  private static void log(String s) {
    System.err.println("[compare] " + s);
  }
}

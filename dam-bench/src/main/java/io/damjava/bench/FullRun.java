package io.damjava.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code ./dam bench full}: DAM-3B measured at its real depth, not extrapolated.
 *
 * <pre>
 * ./dam bench full [--precisions int4,int8,fp32] [--tokens 100] [--threads 2]
 *                  [--reference auto|off] [--projection on|off] [--out DIR]
 * </pre>
 *
 * <ol>
 *   <li>Makes (once; kept in {@link BenchModels#home()}{@code /ckpt-full}) the full-depth random
 *       bench checkpoint with tools/reference/make_checkpoint.py, timing it and its peak RSS.
 *   <li>For each precision: converts it in a child JVM (wall, peak RSS, bundle bytes; the bundle is
 *       kept for later runs), then loads it twice in fresh JVMs through the public API and
 *       describes one region with {@code --tokens} greedy tokens ({@link LoadStage}). The first
 *       load starts with an empty engine cache (no remembered checksums, no pre-packed graphs) and,
 *       where this process may, a dropped page cache: a bundle copied onto a new machine. The
 *       second is the same bundle again. Then {@link JavaStages} times ms/token at contexts 256 and
 *       1024. A precision whose bundle would not fit in the memory available is skipped with the
 *       reason.
 *   <li>The fp32 PyTorch reference at full depth (tools/reference/bench_reference.py), when the
 *       memory available holds it: vision, prefill and decode side by side.
 *   <li>The per-layer projection the quick mode uses: the same stages at 2 and 3 layers (int4),
 *       extended linearly to the full depth, printed next to the measured figures with the ratio.
 * </ol>
 *
 * Writes every child's JSON and {@code full.json} into {@code --out} (default {@code
 * dam-bench/results/<date>/full}) and prints a Markdown table.
 */
public final class FullRun {
  private static final ObjectMapper JSON = new ObjectMapper();

  private FullRun() {}

  public static void main(String[] args) throws Exception {
    List<String> precisions = List.of("int4", "int8", "fp32");
    int tokens = 100;
    int threads = 2;
    boolean reference = true;
    boolean projection = true;
    Path out = Path.of("dam-bench", "results", LocalDate.now().toString(), "full");
    for (int i = 0; i + 1 < args.length; i += 2) {
      String v = args[i + 1];
      switch (args[i]) {
        case "--precisions" -> precisions = List.of(v.split(","));
        case "--tokens" -> tokens = Integer.parseInt(v);
        case "--threads" -> threads = Integer.parseInt(v);
        case "--reference" -> reference = !v.equals("off");
        case "--projection" -> projection = !v.equals("off");
        case "--out" -> out = Path.of(v);
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    Files.createDirectories(out);
    ObjectNode all = JSON.createObjectNode();
    all.put("cpu", Machine.cpuModel());
    all.put("cores", Runtime.getRuntime().availableProcessors());
    all.put("mem_total_mb", meminfo("MemTotal") / 1024);
    all.put("command", "./dam bench full " + String.join(" ", args));
    all.put("date", LocalDate.now().toString());

    Path ckpt = BenchModels.home().resolve("ckpt-full");
    all.set("checkpoint", checkpoint(ckpt, out));
    ObjectNode results = all.putObject("precisions");
    for (String p : precisions) {
      results.set(p, precision(ckpt, p, tokens, threads, out));
      write(out.resolve("full.json"), all);
    }
    if (reference) {
      all.set("reference", reference(ckpt, threads, out));
    }
    if (projection) {
      all.set("projection", projection(threads, out));
    }
    write(out.resolve("full.json"), all);
    System.out.println(FullReport.markdown(all));
    Files.writeString(out.resolve("full.md"), FullReport.markdown(all), StandardCharsets.UTF_8);
  }

  private static JsonNode checkpoint(Path ckpt, Path out) throws Exception {
    Path info = ckpt.resolveSibling("ckpt-full.json");
    if (Files.isRegularFile(ckpt.resolve("config.json")) && Files.isRegularFile(info)) {
      ObjectNode n = (ObjectNode) JSON.readTree(info.toFile());
      n.put("cached", true);
      return n;
    }
    log("making the full-depth bench checkpoint in " + ckpt + " (about 2 minutes, 6 GB)");
    BenchModels.deleteRecursively(ckpt);
    Files.createDirectories(ckpt.getParent());
    String script = BenchModels.referenceDir().resolve("make_checkpoint.py").toString();
    // The child reports its own peak RSS: the wrapper runs the script, then prints ru_maxrss.
    String wrapper =
        "import resource,runpy,sys,json,time\n"
            + "t=time.time()\n"
            + "sys.argv=[sys.argv[1]]+sys.argv[2:]\n"
            + "runpy.run_path(sys.argv[0],run_name='__main__')\n"
            + "print(json.dumps({'make_s':time.time()-t,"
            + "'peak_rss_mb':resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024}))\n";
    String res =
        capture(
            List.of(
                BenchModels.python(),
                "-c",
                wrapper,
                script,
                "--preset",
                "bench",
                "--variant",
                "image",
                "--out",
                ckpt.toString()),
            Map.of());
    ObjectNode n = (ObjectNode) lastJson(res);
    n.put("bytes", treeBytes(ckpt));
    write(info, n);
    write(out.resolve("checkpoint.json"), n);
    return n;
  }

  private static JsonNode precision(Path ckpt, String p, int tokens, int threads, Path out)
      throws Exception {
    ObjectNode r = JSON.createObjectNode();
    Path bundle = BenchModels.home().resolve("full-" + p.toLowerCase(Locale.ROOT));
    Path info = BenchModels.home().resolve("full-" + p + ".convert.json");
    long need = (long) (estimateBundleBytes(ckpt, p) * 1.3);
    long avail = meminfo("MemAvailable") * 1024;
    if (need > avail) {
      r.put(
          "skipped",
          String.format(
              Locale.ROOT,
              "needs about %.1f GB of memory, %.1f GB available",
              need / 1e9,
              avail / 1e9));
      log(p + ": skipped, " + r.get("skipped").asText());
      return r;
    }
    if (Files.isRegularFile(bundle.resolve("dam-bundle.json")) && Files.isRegularFile(info)) {
      r.set("convert", JSON.readTree(info.toFile()));
      ((ObjectNode) r.get("convert")).put("cached", true);
    } else {
      log(p + ": converting");
      BenchModels.deleteRecursively(bundle);
      JsonNode c =
          lastJson(
              capture(
                  java(
                      ConvertStage.class, "-Xmx4g", List.of(ckpt.toString(), bundle.toString(), p)),
                  Map.of()));
      write(info, c);
      r.set("convert", c);
    }
    Path cache = Files.createTempDirectory(BenchModels.home(), ".engine-cache-");
    try {
      boolean dropped = dropPageCache();
      log(p + ": first load (empty engine cache" + (dropped ? ", page cache dropped" : "") + ")");
      JsonNode first = load(bundle, cache, tokens, threads);
      ((ObjectNode) first).put("page_cache_dropped", dropped);
      r.set("first_load", first);
      log(p + ": second load");
      r.set("second_load", load(bundle, cache, tokens, threads));
      log(p + ": ms/token at contexts 256 and 1024");
      r.set(
          "stages",
          lastJson(
              capture(
                  java(
                      JavaStages.class,
                      "-Ddam.cache.dir=" + cache,
                      List.of(
                          "--bundle",
                          bundle.toString(),
                          "--threads",
                          Integer.toString(threads),
                          "--reps",
                          "1",
                          "--context",
                          "256,1024",
                          "--decode-tokens",
                          "16")),
                  Map.of())));
    } finally {
      BenchModels.deleteRecursively(cache);
    }
    write(out.resolve(p + ".json"), r);
    return r;
  }

  private static JsonNode load(Path bundle, Path cache, int tokens, int threads) throws Exception {
    return lastJson(
        capture(
            java(
                LoadStage.class,
                "-Ddam.cache.dir=" + cache,
                List.of(
                    "--bundle",
                    bundle.toString(),
                    "--tokens",
                    Integer.toString(tokens),
                    "--threads",
                    Integer.toString(threads))),
            Map.of()));
  }

  private static JsonNode reference(Path ckpt, int threads, Path out) throws Exception {
    ObjectNode r = JSON.createObjectNode();
    long need = (long) (estimateBundleBytes(ckpt, "fp32") * 1.25);
    long avail = meminfo("MemAvailable") * 1024;
    if (need > avail) {
      r.put(
          "skipped",
          String.format(
              Locale.ROOT,
              "the fp32 reference needs about %.1f GB, %.1f GB available",
              need / 1e9,
              avail / 1e9));
      log("reference: skipped, " + r.get("skipped").asText());
      return r;
    }
    log("reference: fp32 PyTorch at full depth (vision, prefill, decode)");
    String core = Machine.openblasCore();
    JsonNode res =
        lastJson(
            capture(
                // 304: the default DAM prompt with one image, as JavaStages measures
                BenchModels.referenceBench(ckpt, threads, 1, 8, 304),
                core == null ? Map.of() : Map.of("OPENBLAS_CORETYPE", core)));
    write(out.resolve("reference.json"), res);
    return res;
  }

  /** The quick mode's per-layer projection of the same stages (int4, 2 and 3 layers). */
  private static JsonNode projection(int threads, Path out) throws Exception {
    ObjectNode r = JSON.createObjectNode();
    JsonNode[] at = new JsonNode[2];
    int[] depth = {2, 3};
    for (int i = 0; i < 2; i++) {
      Path bundle = BenchModels.bundle(BenchModels.checkpoint(depth[i]), "int4");
      log("projection: int4 stages at " + depth[i] + " layers");
      at[i] =
          lastJson(
              capture(
                  java(
                      JavaStages.class,
                      "-Ddam.cache.dir=" + BenchModels.home().resolve("engine-cache"),
                      List.of(
                          "--bundle",
                          bundle.toString(),
                          "--threads",
                          Integer.toString(threads),
                          "--reps",
                          "3",
                          "--context",
                          "256,1024",
                          "--decode-tokens",
                          "16")),
                  Map.of()));
      r.set("L" + depth[i], at[i]);
    }
    // vision blocks = layers - 1 (1 and 2 here, 26 at full depth); llm layers 2, 3 -> 32
    r.put("vision_ms_per_region", line(at, "vision_ms_per_region", 1, 2, 26));
    r.put("prompt_prefill_ms", line(at, "prompt_prefill_ms", 2, 3, 32));
    for (String c : List.of("256", "1024")) {
      double a = at[0].path("by_context").path(c).path("decode_ms_per_token").asDouble();
      double b = at[1].path("by_context").path(c).path("decode_ms_per_token").asDouble();
      r.put("decode_ms_per_token_" + c, a + (b - a) * (32 - 2));
    }
    write(out.resolve("projection.json"), r);
    return r;
  }

  private static double line(JsonNode[] at, String key, int x1, int x2, int x) {
    double a = at[0].path(key).asDouble();
    double b = at[1].path(key).asDouble();
    return a + (b - a) / (x2 - x1) * (x - x1);
  }

  /** Bytes of a bundle at a precision, from the checkpoint's parameter bytes (f16 on disk). */
  private static long estimateBundleBytes(Path ckpt, String p) throws IOException {
    long f16 = treeBytes(ckpt);
    return switch (p) {
      case "fp32" -> 2 * f16;
      case "fp16" -> f16;
      case "int8" -> f16; // vision stays fp32, the llm halves
      default -> (long) (0.8 * f16);
    };
  }

  static long treeBytes(Path dir) throws IOException {
    try (var s = Files.walk(dir)) {
      return s.filter(Files::isRegularFile)
          .mapToLong(
              f -> {
                try {
                  return Files.size(f);
                } catch (IOException e) {
                  return 0;
                }
              })
          .sum();
    }
  }

  /** A /proc/meminfo field in kB (0 where there is none). */
  static long meminfo(String field) {
    try {
      for (String l : Files.readAllLines(Path.of("/proc/meminfo"))) {
        if (l.startsWith(field + ":")) {
          return Long.parseLong(l.replaceAll("[^0-9]", ""));
        }
      }
    } catch (IOException | NumberFormatException e) {
      // not Linux
    }
    return 0;
  }

  /** Drops the kernel's page cache where this process may (root on Linux). */
  private static boolean dropPageCache() {
    try {
      new ProcessBuilder("sync").inheritIO().start().waitFor();
      Files.writeString(Path.of("/proc/sys/vm/drop_caches"), "3");
      return true;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private static List<String> java(Class<?> main, String jvmOption, List<String> args) {
    List<String> c = new ArrayList<>();
    c.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    c.add(jvmOption);
    c.add("-Djava.io.tmpdir=" + System.getProperty("java.io.tmpdir"));
    c.add("-cp");
    c.add(System.getProperty("java.class.path"));
    c.add(main.getName());
    c.addAll(args);
    return c;
  }

  /** Runs a child, its stderr to ours, and returns its stdout. */
  private static String capture(List<String> cmd, Map<String, String> env) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT);
    pb.environment().putAll(env);
    Process p = pb.start();
    String stdout = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    int rc = p.waitFor();
    if (rc != 0) {
      throw new IllegalStateException("exit " + rc + ": " + String.join(" ", cmd));
    }
    return stdout;
  }

  /** The last JSON object a child printed (children may print progress before it). */
  private static JsonNode lastJson(String stdout) throws IOException {
    int i = stdout.lastIndexOf("\n{");
    return JSON.readTree(i >= 0 ? stdout.substring(i + 1) : stdout.substring(stdout.indexOf('{')));
  }

  private static void write(Path f, JsonNode n) throws IOException {
    Files.writeString(
        f,
        JSON.writerWithDefaultPrettyPrinter().writeValueAsString(n) + "\n",
        StandardCharsets.UTF_8);
  }

  private static void log(String s) {
    System.err.println("dam bench full: " + s);
  }
}

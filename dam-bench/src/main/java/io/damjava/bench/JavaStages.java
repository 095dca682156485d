package io.damjava.bench;

import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.damjava.api.Caption;
import io.damjava.api.DamImage;
import io.damjava.api.GenerationOptions;
import io.damjava.api.Mask;
import io.damjava.onnx.EngineStages;
import io.damjava.onnx.StageKv;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.ToIntFunction;

/**
 * The Java side of {@link Compare}, one bundle per process (so that the peak RSS is this bundle's
 * alone): prints one JSON object with the same fields as tools/reference/bench_reference.py.
 *
 * <pre>
 * java -cp dam-bench.jar io.damjava.bench.JavaStages --bundle DIR [--threads 2] [--reps 3]
 *     [--context 256,1024] [--decode-tokens 8]
 * java -cp dam-bench.jar io.damjava.bench.JavaStages --bundle DIR --describe 100 --profile DIR
 * </pre>
 *
 * Stage mode: session creation, preprocessing of a 640x480 region, vision per region (context +
 * focal + projector), prefill of the default prompt with its image rows, and decode ms/token at
 * each context (the past is a random KV cache of that length; {@code decode-tokens} chained steps,
 * each with the logits copied out and an argmax, as the engine's greedy loop does). Medians over
 * {@code reps} after one warm-up. Describe mode: one warm-up describe() and one measured describe()
 * with greedy decoding of exactly the same tokens, under ONNX Runtime profiling; reports the wall
 * time, the time inside ONNX Runtime's run calls of the measured call and the fraction outside.
 */
public final class JavaStages {
  private JavaStages() {}

  public static void main(String[] args) throws Exception {
    Path bundle = null;
    int threads = 2;
    int reps = 3;
    int decodeTokens = 8;
    int describe = 0;
    Path profile = null;
    String contexts = "256,1024";
    for (int i = 0; i < args.length; i += 2) {
      String v = args[i + 1];
      switch (args[i]) {
        case "--bundle" -> bundle = Path.of(v);
        case "--threads" -> threads = Integer.parseInt(v);
        case "--reps" -> reps = Integer.parseInt(v);
        case "--decode-tokens" -> decodeTokens = Integer.parseInt(v);
        case "--context" -> contexts = v;
        case "--describe" -> describe = Integer.parseInt(v);
        case "--profile" -> profile = Path.of(v);
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    if (bundle == null) {
      throw new IllegalArgumentException("--bundle DIR is required");
    }
    ObjectMapper json = new ObjectMapper();
    ObjectNode res = json.createObjectNode();
    res.put("impl", "dam-java");
    res.put("bundle", bundle.toString());
    res.put("threads", threads);
    res.put("reps", reps);
    DamImage image = Synthetic.image(640, 480);
    Mask mask = Synthetic.mask(640, 480);
    long t0 = System.nanoTime();
    if (describe > 0) {
      Files.createDirectories(profile);
      try (EngineStages e = EngineStages.openProfiled(bundle, threads, profile.resolve("ort"))) {
        res.put("session_ms", ms(System.nanoTime() - t0));
        describe(e, image, mask, describe, res, json);
      }
    } else {
      try (EngineStages e = EngineStages.open(bundle, threads)) {
        res.put("session_ms", ms(System.nanoTime() - t0));
        stages(e, image, mask, reps, decodeTokens, contexts, res);
      }
    }
    res.put("peak_rss_mb", peakRssMb());
    System.out.println(json.writerWithDefaultPrettyPrinter().writeValueAsString(res));
  }

  private static void stages(
      EngineStages e,
      DamImage image,
      Mask mask,
      int reps,
      int decodeTokens,
      String contexts,
      ObjectNode res) {
    res.put("precision", e.manifest().precision().toString().toLowerCase(java.util.Locale.ROOT));
    res.put("llm_layers", e.manifest().dims().layers());
    res.put("kv_cache", e.sharedKv() ? "shared" : "growing");
    e.region(image, mask); // warm-up
    timed(res, "preprocess_ms", reps, 1, () -> e.region(image, mask));
    PrefillStage p = PrefillStage.run(e, e.region(image, mask), reps);
    put(res, "vision_ms_per_region", p.visionMs());
    res.put("prompt_length", p.length());
    put(res, "prompt_prefill_ms", p.prefillMs());
    ObjectNode by = res.putObject("by_context");
    ToIntFunction<float[]> argmax =
        EngineStages.sampler(GenerationOptions.defaults().withTemperature(0), 0);
    for (String c : contexts.split(",")) {
      int n = Integer.parseInt(c.trim());
      try (StageKv past = e.randomPast(n, n)) {
        Runnable decode = () -> chainedSteps(e, past, n, decodeTokens, argmax);
        decode.run();
        timed(by.putObject(c.trim()), "decode_ms_per_token", reps, decodeTokens, decode);
      }
    }
  }

  /**
   * {@code tokens} chained greedy decode steps from {@code past} (holding {@code context}
   * positions), each step's logits copied out and argmaxed, every result closed. Shared KV: every
   * step writes position context + t of the same buffers in place.
   */
  static void chainedSteps(
      EngineStages e, StageKv past, int context, int tokens, ToIntFunction<float[]> argmax) {
    OrtSession.Result prev = null;
    int id = 100;
    try {
      for (int t = 0; t < tokens; t++) {
        OrtSession.Result r =
            prev == null || e.sharedKv()
                ? e.step(past, context + t, id)
                : e.step(prev, context + t, id);
        if (prev != null) {
          prev.close();
        }
        prev = r;
        id = argmax.applyAsInt(e.logits(r));
      }
    } finally {
      if (prev != null) {
        prev.close();
      }
    }
  }

  private static void describe(
      EngineStages e, DamImage image, Mask mask, int tokens, ObjectNode res, ObjectMapper json)
      throws IOException {
    res.put("precision", e.manifest().precision().toString().toLowerCase(java.util.Locale.ROOT));
    res.put("llm_layers", e.manifest().dims().layers());
    GenerationOptions o = GenerationOptions.defaults().withTemperature(0).withMaxNewTokens(tokens);
    Caption warm = e.describe(image, List.of(mask), o).get(0);
    long t = System.nanoTime();
    Caption c = e.describe(image, List.of(mask), o).get(0);
    double wall = ms(System.nanoTime() - t);
    if (!Arrays.equals(warm.tokenIds(), c.tokenIds())) {
      throw new IllegalStateException("greedy describe() is not repeatable");
    }
    double ort = 0;
    int runs = 0;
    // Sessions created within the same millisecond share a trace file name (the later writer
    // wins), so a file is labelled with the last session that returned it.
    String[] names = {
      "visionContext", "visionFocal", "projector", "embedTokens", "decoder", "prefill"
    };
    List<Path> files = e.endProfiling();
    java.util.Map<Path, String> traces = new java.util.LinkedHashMap<>();
    for (int i = 0; i < files.size(); i++) {
      traces.put(files.get(i), names[i]);
    }
    ObjectNode ops = json.createObjectNode();
    for (var trace : traces.entrySet()) {
      List<JsonNode> runEvents = new ArrayList<>();
      List<JsonNode> nodes = new ArrayList<>();
      for (JsonNode ev : json.readTree(trace.getKey().toFile())) {
        if ("model_run".equals(ev.path("name").asText())) {
          runEvents.add(ev);
        } else if ("Node".equals(ev.path("cat").asText())) {
          nodes.add(ev);
        }
      }
      runEvents.sort(java.util.Comparator.comparingLong(x -> x.path("ts").asLong()));
      // the warm-up call and the measured call made the same runs: the second half is the call
      int first = runEvents.size() / 2;
      for (int i = first; i < runEvents.size(); i++) {
        ort += runEvents.get(i).path("dur").asDouble() / 1000.0;
        runs++;
      }
      boolean decoder = trace.getValue().equals("decoder");
      // with a prefill graph the decoder runs only the steps; its prefill is the "prefill" group
      boolean prefillInDecoder = files.size() < names.length;
      for (JsonNode n : nodes) {
        long ts = n.path("ts").asLong();
        for (int i = first; i < runEvents.size(); i++) {
          JsonNode r = runEvents.get(i);
          long rs = r.path("ts").asLong();
          if (ts >= rs && ts <= rs + r.path("dur").asLong()) {
            String group =
                decoder
                    ? (i == first && prefillInDecoder ? "decoder.prefill" : "decoder.decode")
                    : trace.getValue();
            ObjectNode g = ops.has(group) ? (ObjectNode) ops.get(group) : ops.putObject(group);
            String op = n.path("args").path("op_name").asText();
            g.put(op, g.path(op).asDouble() + n.path("dur").asDouble() / 1000.0);
            break;
          }
        }
      }
    }
    // regions per call (after profiling ended): one batched vision call for 1 and for 4 regions
    Object region = e.region(image, mask);
    for (int b : new int[] {1, 4}) {
      List<Object> regions = java.util.Collections.nCopies(b, region);
      e.vision(regions);
      long s = System.nanoTime();
      e.vision(regions);
      res.put("vision_ms_" + b + "_regions", ms(System.nanoTime() - s));
    }
    ObjectNode d = res.putObject("describe");
    d.put("tokens", c.tokenCount());
    d.put("stop", c.stopReason().toString());
    d.put("prompt_length", c.promptTokens());
    d.put("wall_ms", wall);
    d.put("ort_run_ms", ort);
    d.put("ort_runs", runs);
    d.put("profiled_sessions", traces.size());
    d.set("ops_ms", ops);
    d.put("outside_ort_ms", wall - ort);
    d.put("outside_ort_fraction", (wall - ort) / wall);
    d.put("preprocess_ms", ms(c.timings().preprocess().toNanos()));
    d.put("vision_ms", ms(c.timings().vision().toNanos()));
    d.put("prefill_ms", ms(c.timings().prefill().toNanos()));
    d.put("decode_ms", ms(c.timings().decode().toNanos()));
  }

  static double ms(long nanos) {
    return nanos / 1e6;
  }

  /**
   * Runs {@code r} {@code reps} times (the caller has warmed it up) and puts the median ms per
   * {@code per} units under {@code key} and the sample standard deviation under {@code key_sd}.
   */
  static void timed(ObjectNode out, String key, int reps, int per, Runnable r) {
    put(out, key, sortedMs(reps, per, r));
  }

  /** Runs {@code r} {@code reps} times and returns the ms per {@code per} units of each, sorted. */
  static double[] sortedMs(int reps, int per, Runnable r) {
    double[] t = new double[reps];
    for (int i = 0; i < reps; i++) {
      long s = System.nanoTime();
      r.run();
      t[i] = ms(System.nanoTime() - s) / per;
    }
    Arrays.sort(t);
    return t;
  }

  /**
   * Puts the median of sorted samples under {@code key} and their sample sd under {@code key_sd}.
   */
  static void put(ObjectNode out, String key, double[] t) {
    int reps = t.length;
    double mean = Arrays.stream(t).average().orElse(Double.NaN);
    double var = Arrays.stream(t).map(x -> (x - mean) * (x - mean)).sum() / Math.max(1, reps - 1);
    out.put(key, reps % 2 == 1 ? t[reps / 2] : (t[reps / 2 - 1] + t[reps / 2]) / 2);
    out.put(key + "_sd", Math.sqrt(var));
  }

  /** VmHWM of this process (Linux), in MB; NaN elsewhere. */
  static double peakRssMb() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmHWM:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
        }
      }
    } catch (IOException | NumberFormatException e) {
      // not Linux
    }
    return Double.NaN;
  }
}

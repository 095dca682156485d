package io.damjava.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.damjava.api.Caption;
import io.damjava.api.DamImage;
import io.damjava.api.DescribeAnything;
import io.damjava.api.GenerationOptions;
import io.damjava.api.Mask;
import io.damjava.api.Region;
import io.damjava.onnx.EngineStages;
import io.damjava.server.DamServer;
import io.damjava.server.ServerConfig;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Continuous batching measured side by side in one JVM, on one bundle:
 *
 * <ol>
 *   <li>decode ms per token of one caption: the per-call decoder with ONNX Runtime's growing cache
 *       (the path before, kept for standard-style bundles) against the engine's batcher with its
 *       in-place cache and pinned logits (B = 1); the tokens must be identical;
 *   <li>the server: generated tokens per second of 1 client, of N concurrent clients with the batch
 *       limit N, and of N clients with the batch limit 1 (one generation at a time, as before);
 *   <li>with {@code --regions R}: captions per minute of one call describing R regions of an image
 *       (encoded in one vision call, decoded together) against R sequential one-region calls.
 * </ol>
 *
 * <pre>
 * ./dam bench serve [--bundle DIR | --precision fp32] [--clients 8] [--requests 2] [--tokens 64]
 *                   [--threads 2] [--server off] [--decode off] [--regions 0]
 *                   [--out serve.json]
 * </pre>
 *
 * Without {@code --bundle} it uses the {@code bench} checkpoint at {@code -Ddam.bench.layers}
 * (default 2) made and converted on first use ({@link BenchModels}).
 */
public final class ServeBench {
  private static final ObjectMapper M = new ObjectMapper();

  private ServeBench() {}

  public static void main(String[] args) throws Exception {
    Path bundle = null;
    String precision = "fp32";
    int clients = 8;
    int requests = 2;
    int tokens = 64;
    int threads = 2;
    Path out = null;
    boolean serverPart = true;
    boolean decodePart = true;
    int regions = 0;
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (i + 1 >= args.length) {
        throw new IllegalArgumentException(a + " needs a value");
      }
      String v = args[++i];
      switch (a) {
        case "--bundle" -> bundle = Path.of(v);
        case "--precision" -> precision = v;
        case "--clients" -> clients = Integer.parseInt(v);
        case "--requests" -> requests = Integer.parseInt(v);
        case "--tokens" -> tokens = Integer.parseInt(v);
        case "--threads" -> threads = Integer.parseInt(v);
        case "--out" -> out = Path.of(v);
        case "--server" -> serverPart = !v.equals("off");
        case "--decode" -> decodePart = !v.equals("off");
        case "--regions" -> regions = Integer.parseInt(v);
        default -> throw new IllegalArgumentException("unknown option " + a);
      }
    }
    if (bundle == null) {
      bundle = BenchModels.bundle(precision);
    }
    Map<String, Object> report = new LinkedHashMap<>();
    report.put("bundle", bundle.toString());
    report.put("threads", threads);
    report.put("tokens", tokens);
    report.put("jdk", System.getProperty("java.version"));
    report.put("cores", Runtime.getRuntime().availableProcessors());
    // before any part runs: rows that do not fit wait and decode alone, which no figure says
    if (decodePart) {
      requireRows(bundle, 8, PROMPT, tokens);
    }
    if (serverPart) {
      requireRows(bundle, clients, PROMPT, tokens);
    }
    if (decodePart) {
      report.put("decode", decode(bundle, threads, tokens));
    }
    if (regions > 0) {
      report.put("regions", regions(bundle, threads, regions, tokens));
    }
    if (serverPart) {
      report.put("server", server(bundle, threads, clients, requests, tokens));
    }
    String json = M.writerWithDefaultPrettyPrinter().writeValueAsString(report);
    System.out.println(json);
    if (out != null) {
      Files.writeString(out, json);
    }
  }

  /** Per-token decode of one caption, the old per-call path and the batcher, alternating. */
  static Map<String, Object> decode(Path bundle, int threads, int tokens) {
    DamImage image = Synthetic.image(640, 480);
    Mask mask = Synthetic.mask(640, 480);
    GenerationOptions o = GenerationOptions.builder().temperature(0).maxNewTokens(tokens).build();
    Map<String, Object> r = new LinkedHashMap<>();
    try (EngineStages before = EngineStages.open(bundle, threads);
        DescribeAnything after =
            DescribeAnything.builder().model(bundle).threads(threads).maxBatch(8).build()) {
      before.describe(image, List.of(mask), o); // warm-up
      after.describe(image, Region.mask(mask));
      double[] msBefore = new double[3];
      double[] msAfter = new double[3];
      boolean same = true;
      int n = 0;
      for (int rep = 0; rep < 3; rep++) {
        Caption a = before.describe(image, List.of(mask), o).get(0);
        Caption b = after.describe(image, List.of(Region.mask(mask)), o).get(0);
        same &= Arrays.equals(a.tokenIds(), b.tokenIds());
        n = a.tokenCount();
        msBefore[rep] = a.timings().decode().toNanos() / 1e6 / Math.max(1, a.tokenCount());
        msAfter[rep] = b.timings().decode().toNanos() / 1e6 / Math.max(1, b.tokenCount());
      }
      r.put("generatedTokens", n);
      r.put("tokensIdentical", same);
      r.put("msPerTokenGrowingCache", round(median(msBefore)));
      r.put("msPerTokenInPlaceBatcher", round(median(msAfter)));
      r.put("ratio", round(median(msBefore) / median(msAfter)));
      // Decode alone, B sequences sharing steps: one call with B regions (all join at once).
      int b = 8;
      List<Region> regions = java.util.Collections.nCopies(b, Region.mask(mask));
      double[] batchedTps = new double[3];
      double[] singleTps = new double[3];
      for (int rep = 0; rep < 3; rep++) {
        batchedTps[rep] = decodeTokensPerSecond(after.describe(image, regions, o));
        singleTps[rep] = decodeTokensPerSecond(after.describe(image, List.of(regions.get(0)), o));
      }
      r.put("decodeBatch", b);
      r.put("decodeTokensPerSecondB1", round(median(singleTps)));
      r.put("decodeTokensPerSecondB8", round(median(batchedTps)));
      r.put("decodeRatioB8vsB1", round(median(batchedTps) / median(singleTps)));
      System.err.printf(
          Locale.ROOT,
          "decode alone: B=1 %.2f tok/s, B=%d %.2f tok/s%n",
          median(singleTps),
          b,
          median(batchedTps));
      System.err.printf(
          Locale.ROOT,
          "decode: growing %.1f ms/token, in-place %.1f ms/token (%d tokens, identical %s)%n",
          median(msBefore),
          median(msAfter),
          n,
          same);
    }
    return r;
  }

  /**
   * One call with {@code n} regions (distinct ellipses across the image) against {@code n}
   * sequential calls of one region each, same engine, greedy; the captions must be identical.
   */
  static Map<String, Object> regions(Path bundle, int threads, int n, int tokens) {
    DamImage image = Synthetic.image(640, 480);
    List<Region> regions = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      regions.add(
          Region.mask(Synthetic.ellipse(640, 480, (i + 0.5) / n, 0.3 + 0.4 * (i % 2), 0.05, 0.1)));
    }
    GenerationOptions o = GenerationOptions.builder().temperature(0).maxNewTokens(tokens).build();
    Map<String, Object> r = new LinkedHashMap<>();
    try (DescribeAnything dam =
        DescribeAnything.builder()
            .model(bundle)
            .threads(threads)
            .maxBatch(Math.max(8, n))
            .build()) {
      dam.describe(image, List.of(regions.get(0)), o.toBuilder().maxNewTokens(2).build()); // warm
      long t0 = System.nanoTime();
      List<Caption> sequential = new ArrayList<>();
      for (Region g : regions) {
        sequential.add(dam.describe(image, List.of(g), o).get(0));
      }
      double seqS = (System.nanoTime() - t0) / 1e9;
      t0 = System.nanoTime();
      List<Caption> together = dam.describe(image, regions, o);
      double oneS = (System.nanoTime() - t0) / 1e9;
      boolean same = true;
      int generated = 0;
      List<Integer> divergence = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        int at = Arrays.mismatch(sequential.get(i).tokenIds(), together.get(i).tokenIds());
        same &= at < 0;
        divergence.add(at); // -1: identical; else the first token that differs
        generated += together.get(i).tokenCount();
      }
      r.put("regions", n);
      r.put("generatedTokens", generated);
      r.put("captionsIdentical", same);
      r.put("firstDivergencePerRegion", divergence);
      r.put("sequentialSeconds", round(seqS));
      r.put("oneCallSeconds", round(oneS));
      r.put("captionsPerMinuteSequential", round(n * 60 / seqS));
      r.put("captionsPerMinuteOneCall", round(n * 60 / oneS));
      r.put("ratio", round(seqS / oneS));
      System.err.printf(
          Locale.ROOT,
          "%d regions: %d sequential calls %.1f s, one call %.1f s (%.2fx; identical %s)%n",
          n,
          n,
          seqS,
          oneS,
          seqS / oneS,
          same);
    }
    return r;
  }

  /**
   * Generated tokens of a call over its shortest caption's decode time. The regions are identical,
   * so they stop at the same step; the last to join (its clock starts after every prefill) is the
   * shortest and spans only the shared steps, while the first one's clock also counts the others'
   * prefills.
   */
  private static double decodeTokensPerSecond(List<Caption> captions) {
    long nanos = Long.MAX_VALUE;
    int n = 0;
    for (Caption c : captions) {
      nanos = Math.min(nanos, c.timings().decode().toNanos());
      n += c.tokenCount();
    }
    return n / (nanos / 1e9);
  }

  /** Tokens per second of the server for 1 client, N clients batched, N clients one at a time. */
  static Map<String, Object> server(Path bundle, int threads, int clients, int requests, int tokens)
      throws Exception {
    String body = body(Synthetic.image(640, 480), Synthetic.mask(640, 480), tokens);
    Map<String, Object> r = new LinkedHashMap<>();
    double one = serve(bundle, threads, clients, 1, requests, body);
    double many = serve(bundle, threads, clients, clients, requests, body);
    double serial = serve(bundle, threads, 1, clients, requests, body);
    r.put("clients", clients);
    r.put("requestsPerClient", requests);
    r.put("tokensPerSecond1Client", round(one));
    r.put("tokensPerSecondNClientsBatched", round(many));
    r.put("tokensPerSecondNClientsBatchLimit1", round(serial));
    r.put("ratioBatchedVs1Client", round(many / one));
    r.put("ratioBatchedVsBatchLimit1", round(many / serial));
    return r;
  }

  /**
   * Positions of DAM-3B's spliced image prompt with the default query (at most, for any bundle).
   */
  private static final int PROMPT = 304;

  /**
   * Fails unless the batcher's KV budget (half the heap limit) admits {@code rows} sequences of
   * {@code prompt + tokens} positions: otherwise the last rows wait and decode alone, and the
   * batched figures mean something else (a 2026-12-04 run reported 6.4x for 8 rows of which 7 fit).
   */
  static void requireRows(Path bundle, int rows, int prompt, int tokens) {
    long rowBytes = EngineStages.kvBytesPerSequence(bundle, prompt, tokens);
    long budget = Runtime.getRuntime().maxMemory() / 2;
    if (rowBytes * rows > budget) {
      long gb = (2 * rowBytes * rows + (1L << 30) - 1) >> 30;
      throw new IllegalStateException(
          String.format(
              Locale.ROOT,
              "the KV budget (half the heap limit, %d MB) admits %d of %d rows of %d MB: rerun"
                  + " with DAM_JAVA_OPTS=-Xmx%dg or more",
              budget >> 20,
              budget / rowBytes,
              rows,
              rowBytes >> 20,
              gb + 1));
    }
  }

  /** One server with a batch limit; {@code clients} threads send {@code requests} each. */
  static double serve(Path bundle, int threads, int limit, int clients, int requests, String body)
      throws Exception {
    try (DescribeAnything dam =
            DescribeAnything.builder().model(bundle).threads(threads).maxBatch(limit).build();
        DamServer server =
            DamServer.start(
                dam,
                ServerConfig.defaults("bench", false)
                    .withPort(0)
                    .withLimits(limit, clients * requests, Duration.ofHours(1)))) {
      HttpClient http = HttpClient.newHttpClient();
      HttpRequest req =
          HttpRequest.newBuilder(
                  URI.create("http://127.0.0.1:" + server.port() + "/v1/chat/completions"))
              .POST(HttpRequest.BodyPublishers.ofString(body))
              .build();
      completionTokens(http.send(req, HttpResponse.BodyHandlers.ofString())); // warm-up
      ExecutorService pool = Executors.newFixedThreadPool(clients);
      try {
        long t0 = System.nanoTime();
        List<Future<Integer>> done = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
          done.add(
              pool.submit(
                  () -> {
                    int n = 0;
                    for (int k = 0; k < requests; k++) {
                      n += completionTokens(http.send(req, HttpResponse.BodyHandlers.ofString()));
                    }
                    return n;
                  }));
        }
        long total = 0;
        for (Future<Integer> f : done) {
          total += f.get();
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        double tps = total / seconds;
        System.err.printf(
            Locale.ROOT,
            "server: batch limit %d, %d clients x %d requests: %d tokens in %.1f s = %.2f tok/s%n",
            limit,
            clients,
            requests,
            total,
            seconds,
            tps);
        return tps;
      } finally {
        pool.shutdownNow();
      }
    }
  }

  private static int completionTokens(HttpResponse<String> r) throws IOException {
    if (r.statusCode() != 200) {
      throw new IllegalStateException("HTTP " + r.statusCode() + ": " + r.body());
    }
    JsonNode root = M.readTree(r.body());
    return root.get("usage").get("completion_tokens").asInt();
  }

  private static String body(DamImage photo, Mask mask, int tokens) throws IOException {
    String b = Soak.requestBody(photo, mask);
    return b.replace("\"max_tokens\":8", "\"max_tokens\":" + tokens);
  }

  private static double median(double[] x) {
    double[] s = x.clone();
    Arrays.sort(s);
    return s[s.length / 2];
  }

  private static double round(double x) {
    return Math.round(x * 100) / 100.0;
  }
}

package io.damjava.bench;

import io.damjava.api.Caption;
import io.damjava.api.DamImage;
import io.damjava.api.DescribeAnything;
import io.damjava.api.DescribeRequest;
import io.damjava.api.GenerationOptions;
import io.damjava.api.Mask;
import io.damjava.api.Region;
import io.damjava.server.DamServer;
import io.damjava.server.ServerConfig;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Soak: many describe calls on one instance, then mixed server traffic (good, bad and cancelled
 * requests from several clients), with RSS and heap sampled throughout. A good answer must equal
 * the caption of its own mask (greedy decoding makes it a pure function of the request), so a lost
 * or mixed-up response is caught. See docs/RELIABILITY.md.
 *
 * <pre>
 * ./dam bench soak [--calls 10000] [--requests 3000] [--model BUNDLE]
 * </pre>
 */
public final class Soak {
  private static final GenerationOptions GREEDY =
      GenerationOptions.builder().temperature(0).maxNewTokens(8).build();

  /** RSS and heap at one point of a run, in MiB. */
  public record Sample(int done, double rssMiB, double heapMiB) {}

  /** What a soak measured. */
  public record Report(
      List<Sample> library,
      List<Sample> server,
      int good,
      int bad,
      int cancelled,
      int busy,
      int mismatched,
      int healthFailures,
      List<String> problems) {
    /**
     * RSS growth of a phase after warm-up: the mean of the last quarter of the samples over the
     * mean of the quarter after the first fifth (the warm-up), minus 1. Means, because RSS moves by
     * a few MiB between samples as buffers come and go.
     */
    public static double growth(List<Sample> s) {
      int n = s.size();
      int warm = n / 5;
      return mean(s.subList(n - Math.max(1, n / 4), n))
              / mean(s.subList(warm, Math.min(n, warm + Math.max(1, n / 4))))
          - 1;
    }

    private static double mean(List<Sample> s) {
      return s.stream().mapToDouble(Sample::rssMiB).average().orElse(Double.NaN);
    }

    /** A readable summary. */
    public String summary() {
      StringBuilder sb = new StringBuilder();
      sb.append(table("library describe calls", library));
      sb.append(table("server requests", server));
      sb.append(
          String.format(
              Locale.ROOT,
              "server: %d good, %d bad (4xx), %d cancelled, %d busy (503), %d mismatched answers,"
                  + " %d health failures%n",
              good,
              bad,
              cancelled,
              busy,
              mismatched,
              healthFailures));
      problems.forEach(p -> sb.append("PROBLEM ").append(p).append('\n'));
      return sb.toString();
    }

    private static String table(String what, List<Sample> s) {
      StringBuilder sb = new StringBuilder();
      sb.append(
          String.format(
              Locale.ROOT,
              "%s: RSS growth after warm-up %+.1f %%%n  %8s %10s %10s%n",
              what,
              growth(s) * 100,
              "done",
              "RSS MiB",
              "heap MiB"));
      for (Sample x : s) {
        sb.append(
            String.format(Locale.ROOT, "  %8d %10.1f %10.1f%n", x.done(), x.rssMiB(), x.heapMiB()));
      }
      return sb.toString();
    }
  }

  private Soak() {}

  /**
   * Runs both phases on a bundle.
   *
   * @param bundle a DAM bundle (the tiny one is enough: this measures the engine's bookkeeping)
   * @param repo the source checkout (for the test photo and masks)
   */
  public static Report run(Path bundle, Path repo, int calls, int requests) throws Exception {
    DamImage photo = DamImage.read(repo.resolve("tools/reference/fixtures/images/chelsea.png"));
    Path inputs = repo.resolve("tools/reference/goldens/inputs");
    List<Mask> masks =
        List.of(
            Mask.read(inputs.resolve("mask_left_eye.png")),
            Mask.read(inputs.resolve("mask_nose_small.png")),
            Mask.read(inputs.resolve("mask_face_full.png")));
    List<String> problems = new ArrayList<>();
    try (DescribeAnything dam = DescribeAnything.builder().model(bundle).build()) {
      List<String> expected = new ArrayList<>();
      for (Mask m : masks) {
        expected.add(
            dam.describe(DescribeRequest.of(photo, Region.mask(m)).options(GREEDY)).text());
      }
      List<Sample> lib = new ArrayList<>();
      int every = Math.max(1, calls / 20);
      for (int i = 0; i < calls; i++) {
        int k = i % masks.size();
        Caption c =
            dam.describe(DescribeRequest.of(photo, Region.mask(masks.get(k))).options(GREEDY));
        if (!c.text().equals(expected.get(k))) {
          problems.add("library call " + i + " gave another caption for the same input");
        }
        if ((i + 1) % every == 0) {
          lib.add(sample(i + 1));
        }
      }
      return server(dam, photo, masks, expected, requests, lib, problems);
    }
  }

  private static Report server(
      DescribeAnything dam,
      DamImage photo,
      List<Mask> masks,
      List<String> expected,
      int requests,
      List<Sample> lib,
      List<String> problems)
      throws Exception {
    List<String> bodies = new ArrayList<>();
    for (Mask m : masks) {
      bodies.add(requestBody(photo, m));
    }
    ServerConfig config =
        ServerConfig.defaults("DAM-3B", false).withPort(0).withLimits(2, 4, Duration.ofSeconds(60));
    AtomicInteger good = new AtomicInteger();
    AtomicInteger bad = new AtomicInteger();
    AtomicInteger cancelled = new AtomicInteger();
    AtomicInteger busy = new AtomicInteger();
    AtomicInteger mismatched = new AtomicInteger();
    AtomicInteger healthFailures = new AtomicInteger();
    AtomicInteger next = new AtomicInteger();
    List<Sample> srv = new ArrayList<>();
    int every = Math.max(1, requests / 20);
    try (DamServer server = DamServer.start(dam, config)) {
      HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
      String base = "http://127.0.0.1:" + server.port();
      // Four clients for six places (2 running + 4 waiting): busy answers only while a hung-up
      // client's generation has not noticed yet.
      ExecutorService pool = Executors.newFixedThreadPool(4);
      List<Future<?>> fs = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        fs.add(
            pool.submit(
                () -> {
                  for (int i; (i = next.getAndIncrement()) < requests; ) {
                    int kind = i % 10;
                    int k = i % masks.size();
                    try {
                      if (i % 25 == 0) {
                        HttpResponse<String> h =
                            client.send(
                                HttpRequest.newBuilder(URI.create(base + "/health"))
                                    .timeout(Duration.ofSeconds(2))
                                    .build(),
                                HttpResponse.BodyHandlers.ofString());
                        if (h.statusCode() != 200) {
                          healthFailures.incrementAndGet();
                        }
                      }
                      if (kind < 6) {
                        boolean stream = kind % 2 == 1;
                        String body =
                            stream
                                ? bodies.get(k).replace("\"stream\":false", "\"stream\":true")
                                : bodies.get(k);
                        HttpResponse<String> r = post(client, base, body);
                        if (r.statusCode() == 503) {
                          busy.incrementAndGet();
                        } else if (r.statusCode() != 200) {
                          problems.add("good request got " + r.statusCode() + ": " + r.body());
                        } else if (!textOf(r.body(), stream).equals(expected.get(k))) {
                          mismatched.incrementAndGet();
                        } else {
                          good.incrementAndGet();
                        }
                      } else if (kind < 8) {
                        String b = bodies.get(k);
                        String broken =
                            kind == 6
                                ? b.substring(0, b.length() / 2)
                                : b.replace("\"max_tokens\":8", "\"max_tokens\":1e30");
                        HttpResponse<String> r = post(client, base, broken);
                        if (r.statusCode() == 400) {
                          bad.incrementAndGet();
                        } else if (r.statusCode() == 503) {
                          busy.incrementAndGet();
                        } else {
                          problems.add("bad request got " + r.statusCode());
                        }
                      } else {
                        // A client that reads the first chunk of a stream, then hangs up.
                        HttpResponse<InputStream> r =
                            client.send(
                                HttpRequest.newBuilder(URI.create(base + "/v1/chat/completions"))
                                    .POST(
                                        HttpRequest.BodyPublishers.ofString(
                                            bodies
                                                .get(k)
                                                .replace("\"stream\":false", "\"stream\":true")))
                                    .build(),
                                HttpResponse.BodyHandlers.ofInputStream());
                        try (InputStream in = r.body()) {
                          in.read(new byte[64]);
                        }
                        if (r.statusCode() == 503) {
                          busy.incrementAndGet();
                        } else {
                          cancelled.incrementAndGet();
                        }
                      }
                    } catch (IOException e) {
                      problems.add("request " + i + ": " + e);
                    } catch (InterruptedException e) {
                      Thread.currentThread().interrupt();
                      return;
                    }
                    if ((i + 1) % every == 0) {
                      synchronized (srv) {
                        srv.add(sample(i + 1));
                      }
                    }
                  }
                }));
      }
      for (Future<?> f : fs) {
        f.get();
      }
      pool.shutdownNow();
      long deadline = System.nanoTime() + 10_000_000_000L;
      while (server.inFlight() > 0 && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      if (server.inFlight() != 0) {
        problems.add(server.inFlight() + " requests still hold a slot after the run");
      }
    }
    srv.sort(java.util.Comparator.comparingInt(Sample::done));
    return new Report(
        lib,
        srv,
        good.get(),
        bad.get(),
        cancelled.get(),
        busy.get(),
        mismatched.get(),
        healthFailures.get(),
        List.copyOf(problems));
  }

  private static HttpResponse<String> post(HttpClient client, String base, String body)
      throws IOException, InterruptedException {
    return client.send(
        HttpRequest.newBuilder(URI.create(base + "/v1/chat/completions"))
            .timeout(Duration.ofSeconds(60))
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static final com.fasterxml.jackson.databind.ObjectMapper M =
      new com.fasterxml.jackson.databind.ObjectMapper();

  private static String textOf(String body, boolean stream) throws IOException {
    if (!stream) {
      return M.readTree(body).get("choices").get(0).get("message").get("content").asText();
    }
    StringBuilder sb = new StringBuilder();
    for (String block : body.split("\n\n")) {
      if (!block.startsWith("data: ") || block.equals("data: [DONE]")) {
        continue;
      }
      var choices = M.readTree(block.substring(6)).path("choices");
      if (choices.size() > 0) {
        sb.append(choices.get(0).path("delta").path("content").asText(""));
      }
    }
    return sb.toString();
  }

  /** An OpenAI-shape request: the photo as RGBA whose alpha is the mask. */
  static String requestBody(DamImage photo, Mask mask) throws IOException {
    var img =
        new java.awt.image.BufferedImage(
            photo.width(), photo.height(), java.awt.image.BufferedImage.TYPE_INT_ARGB);
    for (int y = 0; y < photo.height(); y++) {
      for (int x = 0; x < photo.width(); x++) {
        int rgb = photo.sample(x, y, 0) << 16 | photo.sample(x, y, 1) << 8 | photo.sample(x, y, 2);
        img.setRGB(x, y, (mask.get(x, y) ? 0xFF000000 : 0) | rgb);
      }
    }
    var out = new java.io.ByteArrayOutputStream();
    javax.imageio.ImageIO.write(img, "png", out);
    String url = "data:image/png;base64," + Base64.getEncoder().encodeToString(out.toByteArray());
    return "{\"model\":\"describe_anything_model\",\"messages\":[{\"role\":\"user\",\"content\":["
        + "{\"type\":\"image_url\",\"image_url\":{\"url\":\""
        + url
        + "\"}},{\"type\":\"text\",\"text\":\"<image>\\nDescribe the masked region in detail.\"}]}],"
        + "\"max_tokens\":8,\"temperature\":0,\"stream\":false}";
  }

  static Sample sample(int done) {
    System.gc();
    var heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
    return new Sample(done, rssKb() / 1024.0, heap.getUsed() / (1024.0 * 1024));
  }

  static long rssKb() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"), StandardCharsets.UTF_8)) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
      }
    } catch (IOException e) {
      return -1;
    }
    return -1;
  }

  /** {@code ./dam bench soak [--calls N] [--requests N] [--model BUNDLE] [--repo DIR]}. */
  public static void main(String[] args) throws Exception {
    int calls = 10_000;
    int requests = 3_000;
    Path model = null;
    Path repo = Path.of(".");
    for (int i = 0; i + 1 < args.length; i += 2) {
      switch (args[i]) {
        case "--calls" -> calls = Integer.parseInt(args[i + 1]);
        case "--requests" -> requests = Integer.parseInt(args[i + 1]);
        case "--model" -> model = Path.of(args[i + 1]);
        case "--repo" -> repo = Path.of(args[i + 1]);
        default -> {
          System.err.println("usage: dam bench soak [--calls N] [--requests N] [--model BUNDLE]");
          System.exit(2);
        }
      }
    }
    if (model == null) {
      model = BenchModels.bundle(repo.resolve("tools/reference/fixtures/tiny-image"), "fp32");
    }
    long t0 = System.nanoTime();
    Report r = run(model, repo, calls, requests);
    System.out.print(r.summary());
    System.out.printf(Locale.ROOT, "took %.0f s%n", (System.nanoTime() - t0) / 1e9);
    boolean ok =
        r.problems().isEmpty()
            && r.mismatched() == 0
            && r.healthFailures() == 0
            && Report.growth(r.library()) <= 0.05
            && Report.growth(r.server()) <= 0.05;
    System.out.println(ok ? "soak: OK" : "soak: FAILED");
    System.exit(ok ? 0 : 1);
  }
}

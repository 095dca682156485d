package io.damjava.bench;

import io.damjava.api.DamImage;
import io.damjava.api.DescribeAnything;
import io.damjava.api.Mask;
import io.damjava.server.DamServer;
import io.damjava.server.ServerConfig;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The server scenario that once grew RSS from 435 MB to 2.29 GB: a batch of hostile requests, then
 * rounds of 50 concurrent streams, with RSS and the heap after a collection sampled after each
 * phase. Run twice: with the default slots (most of the 50 get 503 before their body is read) and
 * with a queue deep enough to serve all 50. See docs/RELIABILITY.md.
 *
 * <pre>
 * ./dam bench burst [--model BUNDLE] [--rounds 6] [--clients 50]
 * </pre>
 */
public final class StreamBurst {
  private StreamBurst() {}

  /** The bodies of the hostile batch: each must get a 4xx. */
  static List<String> hostile(String good) throws IOException {
    List<String> b = new ArrayList<>();
    b.add(good.substring(0, good.length() / 2));
    b.add(good.replace("\"max_tokens\":8", "\"max_tokens\":1e30"));
    b.add(good.replace("\"temperature\":0", "\"temperature\":1e308"));
    b.add(good.replace("\"stream\":false", "\"stream\":\"x\""));
    b.add(good.replace("\"max_tokens\":8", "\"max_tokens\":8,\"n\":-1"));
    b.add(good.replace("base64,", "base64,!!not-base64!!"));
    b.add(good.replace("data:image/png", "data:image/tiff"));
    b.add("{\"messages\":[]}");
    b.add("[]");
    b.add(good.replaceFirst("base64,[^\"]*", "base64," + bombPng()));
    return b;
  }

  /** A valid PNG header that declares 60000 x 60000 pixels (refused before decoding). */
  static String bombPng() throws IOException {
    var img = new java.awt.image.BufferedImage(1, 1, java.awt.image.BufferedImage.TYPE_INT_ARGB);
    var out = new ByteArrayOutputStream();
    javax.imageio.ImageIO.write(img, "png", out);
    byte[] png = out.toByteArray();
    java.nio.ByteBuffer.wrap(png, 16, 8).putInt(60000).putInt(60000);
    var crc = new java.util.zip.CRC32();
    crc.update(png, 12, 17);
    java.nio.ByteBuffer.wrap(png, 29, 4).putInt((int) crc.getValue());
    return java.util.Base64.getEncoder().encodeToString(png);
  }

  record Phase(String name, double rssMib, double heapMib, Map<Integer, Integer> statuses) {}

  static List<Phase> run(Path bundle, Path repo, int workers, int queue, int rounds, int clients)
      throws Exception {
    ServerConfig config =
        ServerConfig.defaults("DAM-3B", false)
            .withPort(0)
            .withLimits(workers, queue, Duration.ofSeconds(120));
    try (DescribeAnything dam = DescribeAnything.builder().model(bundle).build();
        DamServer server = DamServer.start(dam, config)) {
      return drive(repo, server.port(), -1, rounds, clients);
    }
  }

  /** The phases against a server on {@code port}; {@code pid} > 0: a server in another process. */
  static List<Phase> drive(Path repo, int port, long pid, int rounds, int clients)
      throws Exception {
    DamImage photo = DamImage.read(repo.resolve("tools/reference/fixtures/images/chelsea.png"));
    Mask mask = Mask.read(repo.resolve("tools/reference/goldens/inputs/mask_face_full.png"));
    String good = Soak.requestBody(photo, mask);
    String stream = good.replace("\"stream\":false", "\"stream\":true");
    List<Phase> phases = new ArrayList<>();
    HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    URI chat = URI.create("http://127.0.0.1:" + port + "/v1/chat/completions");
    phases.add(phase(pid, "started", Map.of()));
    Map<Integer, Integer> st = new TreeMap<>();
    for (int i = 0; i < 10; i++) {
      st.merge(post(client, chat, good), 1, Integer::sum);
    }
    phases.add(phase(pid, "10 good requests", st));
    st = new TreeMap<>();
    List<String> bad = hostile(good);
    for (int i = 0; i < 300; i++) {
      st.merge(post(client, chat, bad.get(i % bad.size())), 1, Integer::sum);
    }
    phases.add(phase(pid, "300 hostile requests", st));
    ExecutorService pool = Executors.newFixedThreadPool(clients);
    for (int r = 1; r <= rounds; r++) {
      List<Future<Integer>> fs = new ArrayList<>();
      for (int c = 0; c < clients; c++) {
        fs.add(pool.submit(() -> post(client, chat, stream)));
      }
      Map<Integer, Integer> round = new TreeMap<>();
      for (Future<Integer> f : fs) {
        round.merge(f.get(), 1, Integer::sum);
      }
      phases.add(phase(pid, "round " + r + " of " + clients + " concurrent streams", round));
    }
    pool.shutdownNow();
    return phases;
  }

  static int post(HttpClient client, URI uri, String body)
      throws IOException, InterruptedException {
    HttpResponse<InputStream> r =
        client.send(
            HttpRequest.newBuilder(uri)
                .timeout(Duration.ofSeconds(300))
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build(),
            HttpResponse.BodyHandlers.ofInputStream());
    try (InputStream in = r.body()) {
      in.transferTo(java.io.OutputStream.nullOutputStream());
    }
    return r.statusCode();
  }

  static Phase phase(long pid, String name, Map<Integer, Integer> statuses) throws IOException {
    if (pid > 0) { // another process: its RSS only
      for (String l : java.nio.file.Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
        if (l.startsWith("VmRSS:")) {
          return new Phase(name, Long.parseLong(l.replaceAll("[^0-9]", "")) / 1024.0, -1, statuses);
        }
      }
    }
    Soak.Sample s = Soak.sample(0);
    return new Phase(name, s.rssMiB(), s.heapMiB(), statuses);
  }

  /** {@code ./dam bench burst [--model BUNDLE] [--rounds N] [--clients N]}. */
  public static void main(String[] args) throws Exception {
    Path model = null;
    Path repo = Path.of(".");
    int rounds = 6;
    int clients = 50;
    int port = -1;
    long pid = -1;
    for (int i = 0; i + 1 < args.length; i += 2) {
      switch (args[i]) {
        case "--model" -> model = Path.of(args[i + 1]);
        case "--repo" -> repo = Path.of(args[i + 1]);
        case "--rounds" -> rounds = Integer.parseInt(args[i + 1]);
        case "--clients" -> clients = Integer.parseInt(args[i + 1]);
        case "--port" -> port = Integer.parseInt(args[i + 1]);
        case "--pid" -> pid = Long.parseLong(args[i + 1]);
        default -> {
          System.err.println(
              "usage: dam bench burst [--model BUNDLE | --port N --pid PID] [--rounds N] [--clients N]");
          System.exit(2);
        }
      }
    }
    if (model == null) {
      model = BenchModels.bundle(repo.resolve("tools/reference/fixtures/tiny-image"), "fp32");
    }
    List<List<Phase>> runs = new ArrayList<>();
    if (port > 0) {
      System.out.printf(Locale.ROOT, "== the server on port %d (pid %d)%n", port, pid);
      runs.add(drive(repo, port, pid, rounds, clients));
    } else {
      ServerConfig d = ServerConfig.defaults("DAM-3B", false);
      for (int[] s : new int[][] {{d.maxConcurrent(), d.queueSize()}, {2, clients}}) {
        System.out.printf(Locale.ROOT, "== in this JVM: %d workers, queue %d%n", s[0], s[1]);
        runs.add(run(model, repo, s[0], s[1], rounds, clients));
      }
    }
    for (List<Phase> run : runs) {
      for (Phase p : run) {
        System.out.printf(
            Locale.ROOT,
            "%-36s RSS %7.1f MiB  heap %6.1f MiB  %s%n", // heap -1: another process
            p.name(),
            p.rssMib(),
            p.heapMib(),
            p.statuses().isEmpty() ? "" : "statuses " + p.statuses());
      }
    }
  }
}

package io.damjava.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.damjava.api.DescribeAnything;
import io.damjava.convert.ConvertOptions;
import io.damjava.convert.Converter;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Continuous batching through HTTP on the tiny fp32 checkpoint (contrib graphs: the engine batches
 * concurrent calls): concurrent requests with their own temperature, top_p, seed and max_tokens,
 * streamed and not, get exactly the answers of the same requests sent one at a time, each stream
 * carrying only its own text; a client that hangs up mid-stream does not disturb the others.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ServerBatchingTest {
  DescribeAnything dam;
  DamServer server;
  final ServerEndToEndTest e2e = new ServerEndToEndTest();

  @BeforeAll
  void start(@TempDir Path tmp) throws Exception {
    Path bundle = tmp.resolve("tiny-image");
    Converter.run(ConvertOptions.of(ServerEndToEndTest.REF.resolve("fixtures/tiny-image"), bundle));
    dam = DescribeAnything.builder().model(bundle).threads(1).maxBatch(8).build();
    server =
        DamServer.start(
            dam,
            ServerConfig.defaults("tiny-image", false)
                .withPort(0)
                .withLimits(8, 16, Duration.ofMinutes(2)));
    e2e.photo =
        io.damjava.api.DamImage.read(ServerEndToEndTest.REF.resolve("fixtures/images/chelsea.png"));
  }

  @AfterAll
  void stop() {
    server.close();
    dam.close();
  }

  /** Request i: its own mask, options and seed; greedy for even i. */
  String body(int i, boolean stream) throws Exception {
    String opts =
        i % 2 == 0
            ? "\"temperature\": 0, \"max_tokens\": " + (12 + 5 * i)
            : "\"temperature\": "
                + (0.6 + 0.1 * i)
                + ", \"top_p\": "
                + (0.6 + 0.05 * i)
                + ", \"seed\": "
                + (40 + i)
                + ", \"max_tokens\": "
                + (20 + 3 * i);
    return "{\"model\": \"tiny-image\", "
        + opts
        + ", \"stream\": "
        + stream
        + (stream ? ", \"stream_options\": {\"include_usage\": true}" : "")
        + ", \"messages\": [{\"role\": \"user\", \"content\": ["
        + "{\"type\": \"image_url\", \"image_url\": {\"url\": \""
        + e2e.rgbaDataUrl(ServerEndToEndTest.MASKS.get(i % ServerEndToEndTest.MASKS.size()))
        + "\"}},"
        + "{\"type\": \"text\", \"text\": \"\\nDescribe the masked region in detail.\"}]}]}";
  }

  HttpRequest request(String body) {
    return HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + server.port() + "/v1/chat/completions"))
        .POST(HttpRequest.BodyPublishers.ofString(body))
        .build();
  }

  /** The answer's text and completion token count, from a JSON or an SSE body. */
  static String answer(HttpResponse<String> r, boolean stream) throws Exception {
    assertEquals(200, r.statusCode(), r.body());
    if (!stream) {
      JsonNode root = ServerEndToEndTest.M.readTree(r.body());
      return root.get("choices").get(0).get("message").get("content").asText()
          + " #"
          + root.get("usage").get("completion_tokens").asInt();
    }
    StringBuilder text = new StringBuilder();
    int tokens = -1;
    for (String block : r.body().split("\n\n")) {
      if (block.equals("data: [DONE]")) {
        continue;
      }
      JsonNode chunk = ServerEndToEndTest.M.readTree(block.substring(6));
      if (chunk.has("usage") && !chunk.get("usage").isNull()) {
        tokens = chunk.get("usage").get("completion_tokens").asInt();
      }
      JsonNode choices = chunk.get("choices");
      if (choices.size() > 0 && choices.get(0).get("delta").has("content")) {
        text.append(choices.get(0).get("delta").get("content").asText());
      }
    }
    return text.toString().strip() + " #" + tokens;
  }

  @Test
  void concurrentRequestsGetExactlyTheirOneAtATimeAnswers() throws Exception {
    int n = 8;
    HttpClient http = HttpClient.newHttpClient();
    List<String> alone = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      alone.add(
          answer(http.send(request(body(i, false)), HttpResponse.BodyHandlers.ofString()), false));
    }
    assertTrue(alone.stream().distinct().count() >= n / 2, "requests differ: " + alone);
    ExecutorService pool = Executors.newFixedThreadPool(2 * n);
    try {
      for (int rep = 0; rep < 2; rep++) {
        List<Future<String>> got = new ArrayList<>();
        for (int k = 0; k < 2 * n; k++) {
          int i = k % n;
          boolean stream = (k / n + i) % 2 == 0; // every request both streamed and not
          String b = body(i, stream);
          got.add(
              pool.submit(
                  () ->
                      answer(http.send(request(b), HttpResponse.BodyHandlers.ofString()), stream)));
        }
        for (int k = 0; k < 2 * n; k++) {
          assertEquals(alone.get(k % n), got.get(k).get(2, TimeUnit.MINUTES), "request " + k);
        }
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void aClientHangingUpMidStreamLeavesTheOthersIntact() throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    String want =
        answer(http.send(request(body(2, true)), HttpResponse.BodyHandlers.ofString()), true);
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<String>> others = new ArrayList<>();
      Future<Integer> quitter =
          pool.submit(
              () -> {
                HttpResponse<InputStream> r =
                    http.send(request(body(4, true)), HttpResponse.BodyHandlers.ofInputStream());
                int lines = 0;
                try (InputStream in = r.body();
                    BufferedReader br =
                        new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                  while (lines < 3 && br.readLine() != null) {
                    lines++;
                  }
                } // closing mid-stream: the server's next write fails and cancels the generation
                return lines;
              });
      for (int k = 0; k < 3; k++) {
        String b = body(2, true);
        others.add(
            pool.submit(
                () -> answer(http.send(request(b), HttpResponse.BodyHandlers.ofString()), true)));
      }
      assertEquals(3, quitter.get(1, TimeUnit.MINUTES));
      for (Future<String> f : others) {
        assertEquals(want, f.get(1, TimeUnit.MINUTES));
      }
      assertNotEquals("", want);
    } finally {
      pool.shutdownNow();
    }
  }
}

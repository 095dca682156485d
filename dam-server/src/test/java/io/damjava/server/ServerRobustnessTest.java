package io.damjava.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

class ServerRobustnessTest extends ServerTestBase {

  @Test
  void fiftyConcurrentStreamsEachGetTheirOwnAnswerOrA503() throws Exception {
    start(ServerConfig.defaults("DAM-3B", false).withLimits(2, 6, Duration.ofMinutes(1)), 5);
    int clients = 50;
    ExecutorService pool = Executors.newFixedThreadPool(clients);
    List<Future<HttpResponse<String>>> futures = new ArrayList<>();
    for (int i = 0; i < clients; i++) {
      String body = fixture("sdk_image.json", rgbaDataUrl(10, 10, i + 1));
      futures.add(pool.submit(() -> post("/chat/completions", body)));
    }
    int ok = 0;
    int busy = 0;
    for (int i = 0; i < clients; i++) {
      HttpResponse<String> r = futures.get(i).get();
      if (r.statusCode() == 503) {
        busy++;
        assertTrue(r.headers().firstValue("Retry-After").isPresent());
        assertEquals("server_busy", M.readTree(r.body()).get("error").get("type").asText());
        continue;
      }
      assertEquals(200, r.statusCode());
      ok++;
      StringBuilder text = new StringBuilder();
      List<JsonNode> ev = events(r.body());
      for (JsonNode c : ev.subList(0, ev.size() - 1)) {
        text.append(
            c.get("choices").get(0).get("delta").get("content").get(0).get("text").asText());
      }
      assertEquals(
          "image area " + (i + 1) + " t 0.2 p 0.5 q Describe the masked region in detail.",
          text.toString(),
          "client " + i + " got exactly its own answer");
    }
    pool.shutdown();
    assertEquals(clients, ok + busy);
    assertTrue(ok >= 8, "at least the running and queued requests were served: " + ok);
    assertTrue(busy > 0, "a queue of 6 behind 2 slots cannot take 50 at once");
    assertTrue(dam.maxRunning.get() <= 2, "never more than maxConcurrent generations");
  }

  @Test
  void malformedRequestsGetFourHundredsAndTheServerStaysHealthy() throws Exception {
    start(ServerConfig.defaults("DAM-3B", false), 0);
    String good = fixture("raw_image.json", rgbaDataUrl(8, 8, 3));
    String noAlpha =
        "data:image/png;base64," + java.util.Base64.getEncoder().encodeToString(rgbPng());
    List<String> bad =
        new ArrayList<>(
            List.of(
                "",
                "{",
                "[]",
                "null",
                "42",
                "{\"model\": 1}",
                "{\"model\": \"DAM-3B\"}",
                "{\"model\": \"DAM-3B\", \"messages\": []}",
                "{\"model\": \"DAM-3B\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}",
                good.replace("describe_anything_model", "gpt-4"),
                good.replace("\"temperature\": 0.2", "\"temperature\": -1"),
                good.replace("\"top_p\": 0.5", "\"top_p\": 0"),
                good.replace("\"max_tokens\": 512", "\"max_tokens\": 0"),
                good.replace("\"max_tokens\": 512", "\"max_tokens\": \"many\""),
                good.replace("data:image/png;base64,", "data:image/png;base64,!!!"),
                good.replace("data:image/png;base64,", "data:image/gif;base64,"),
                good.replace("data:image/png;base64,", "http://127.0.0.1:1/x.png#"),
                good.replace(rgbaDataUrlPrefix(good), noAlpha),
                good.replace("\"type\": \"text\"", "\"type\": \"audio\""),
                good.replace("\\nDescribe", "Describe <image> the"),
                good.replace("\"role\": \"user\"", "\"role\": \"tool\"")));
    Random rnd = new Random(7);
    while (bad.size() < 120) {
      // Truncations and byte flips of a valid request.
      String s = good;
      if (rnd.nextBoolean()) {
        s = s.substring(0, rnd.nextInt(s.length() - 1));
      } else {
        char[] c = s.toCharArray();
        int at = rnd.nextInt(Math.min(c.length, 200));
        c[at] = "{}[]\":,x".charAt(rnd.nextInt(8));
        s = new String(c);
        if (s.equals(good)) {
          continue;
        }
      }
      bad.add(s);
    }
    int checked = 0;
    for (String b : bad) {
      HttpResponse<String> r = post("/chat/completions", b);
      if (r.statusCode() == 200) {
        continue; // a byte flip that still forms a valid request
      }
      checked++;
      assertTrue(
          r.statusCode() >= 400 && r.statusCode() < 500,
          r.statusCode() + " for " + abbreviate(b) + ": " + r.body());
      JsonNode err = M.readTree(r.body()).get("error");
      assertTrue(err.get("message").asText().length() > 5, r.body());
      assertFalse(
          r.body().contains("at io.damjava") || r.body().contains("/work/"),
          "no traces or paths: " + r.body());
    }
    assertTrue(checked >= 100, "only " + checked + " requests were malformed");
    assertEquals(200, post("/chat/completions", good).statusCode(), "still healthy");
  }

  @Test
  void oversizedBodyIs413AndWrongMethodIs405() throws Exception {
    start(ServerConfig.defaults("DAM-3B", false).withMaxBodyBytes(100_000), 0);
    HttpResponse<String> big = post("/chat/completions", "x".repeat(120_000));
    assertEquals(413, big.statusCode());
    assertTrue(
        M.readTree(big.body()).get("error").get("message").asText().contains("100000 bytes"));
    HttpResponse<String> get =
        CLIENT.send(
            HttpRequest.newBuilder(uri("/chat/completions")).build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals(405, get.statusCode());
    assertEquals(404, post("/nope", "{}").statusCode());
  }

  @Test
  void clientThatDisconnectsMidStreamFreesItsSlotWithinOneToken() throws Exception {
    long wordMs = 200;
    start(ServerConfig.defaults("DAM-3B", false).withLimits(1, 0, Duration.ofMinutes(1)), wordMs);
    HttpResponse<InputStream> r =
        CLIENT.send(
            HttpRequest.newBuilder(uri("/chat/completions"))
                .POST(
                    HttpRequest.BodyPublishers.ofString(
                        fixture("sdk_image.json", rgbaDataUrl(8, 8, 2))))
                .build(),
            HttpResponse.BodyHandlers.ofInputStream());
    BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8));
    assertTrue(in.readLine().startsWith("data: "), "first chunk arrived");
    assertEquals(1, server.inFlight());
    in.close();
    long start = System.nanoTime();
    while (server.inFlight() > 0 && System.nanoTime() - start < 5_000_000_000L) {
      Thread.sleep(10);
    }
    assertEquals(0, server.inFlight(), "slot freed");
    assertEquals(1, dam.cancelled.get(), "the generation was cancelled, not run to the end");
    // The freed slot serves the next request.
    assertEquals(
        200,
        post("/chat/completions", fixture("raw_image.json", rgbaDataUrl(8, 8, 2))).statusCode());
  }

  private static byte[] rgbPng() throws Exception {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    javax.imageio.ImageIO.write(
        new java.awt.image.BufferedImage(4, 4, java.awt.image.BufferedImage.TYPE_INT_RGB),
        "png",
        out);
    return out.toByteArray();
  }

  private static String rgbaDataUrlPrefix(String body) {
    int a = body.indexOf("data:image/png;base64,");
    int b = body.indexOf('"', a);
    return body.substring(a, b);
  }

  private static String abbreviate(String s) {
    return s.length() > 80 ? s.substring(0, 80) + "..." : s;
  }
}

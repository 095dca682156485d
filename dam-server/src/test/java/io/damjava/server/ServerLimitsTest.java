package io.damjava.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.util.Base64;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;

/** The limits found with real clients: 413 bodies, out-of-range options, bombs, models. */
class ServerLimitsTest extends ServerTestBase {

  @Test
  void bodyFarOverTheLimitGetsA413BodyNotAReset() throws Exception {
    start(ServerConfig.defaults("DAM-3B", false).withMaxBodyBytes(100_000), 0);
    byte[] big = new byte[8 << 20];
    java.util.Arrays.fill(big, (byte) 'x');
    HttpResponse<String> fixed =
        CLIENT.send(
            HttpRequest.newBuilder(uri("/v1/chat/completions"))
                .POST(HttpRequest.BodyPublishers.ofByteArray(big))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals(413, fixed.statusCode());
    JsonNode err = M.readTree(fixed.body()).get("error");
    assertEquals("invalid_request_error", err.get("type").asText());
    assertTrue(err.get("message").asText().contains("100000 bytes"), fixed.body());

    // Chunked (no Content-Length): read up to the limit, refused, the rest drained.
    HttpResponse<String> chunked =
        CLIENT.send(
            HttpRequest.newBuilder(uri("/v1/chat/completions"))
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(big)))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals(413, chunked.statusCode());
    assertTrue(M.readTree(chunked.body()).has("error"));
    assertEquals(200, post("/v1/chat/completions", good(false)).statusCode(), "still serving");
  }

  @Test
  void outOfRangeOptionsAre400sAsOpenAiAnswers() throws Exception {
    start(ServerConfig.defaults("DAM-3B", false), 0);
    String good = good(false);
    String[][] cases = {
      {"\"temperature\": 0.2", "\"temperature\": 1e308", "temperature"},
      {"\"temperature\": 0.2", "\"temperature\": 2.5", "temperature"},
      {"\"max_tokens\": 512", "\"max_tokens\": 1e30", "max_tokens"},
      {"\"max_tokens\": 512", "\"max_tokens\": 12.5", "max_tokens"},
      {"\"max_tokens\": 512", "\"max_tokens\": 99999999999999999999999", "max_tokens"},
      {"\"max_tokens\": 512", "\"max_tokens\": 512, \"n\": -1", "'n'"},
      {"\"max_tokens\": 512", "\"max_tokens\": 512, \"n\": 2", "'n' must be 1"},
      {"\"max_tokens\": 512", "\"max_tokens\": 512, \"n\": \"1\"", "'n'"},
      {"\"stream\": false", "\"stream\": \"x\"", "stream"},
      {"\"stream\": false", "\"stream\": 1", "stream"},
      {
        "\"stream\": false",
        "\"stream\": false, \"stream_options\": {\"include_usage\": true}",
        "stream_options"
      },
      {"\"stream\": false", "\"stream\": true, \"stream_options\": 3", "stream_options"},
      {"\"top_p\": 0.5", "\"top_p\": 1e308", "top_p"},
      {"\"top_p\": 0.5", "\"top_p\": 0.5, \"top_k\": 1.5", "top_k"},
      {"\"top_p\": 0.5", "\"top_p\": 0.5, \"top_k\": -3", "top_k"},
      {"\"top_p\": 0.5", "\"top_p\": 0.5, \"seed\": 0.5", "seed"},
    };
    for (String[] c : cases) {
      String body = good.replace(c[0], c[1]);
      assertTrue(!body.equals(good), c[1]);
      HttpResponse<String> r = post("/v1/chat/completions", body);
      assertEquals(400, r.statusCode(), c[1] + " -> " + r.body());
      String msg = M.readTree(r.body()).get("error").get("message").asText();
      assertTrue(msg.contains(c[2]), c[1] + " -> " + msg);
    }
    for (String ok : new String[] {"\"n\": 1", "\"max_tokens\": 5.0", "\"temperature\": 2"}) {
      String body = good.replace("\"top_p\": 0.5", "\"top_p\": 0.5, " + ok);
      if (ok.startsWith("\"max_tokens\"") || ok.startsWith("\"temperature\"")) {
        body =
            good.replace(
                ok.startsWith("\"max") ? "\"max_tokens\": 512" : "\"temperature\": 0.2", ok);
      }
      assertEquals(200, post("/v1/chat/completions", body).statusCode(), ok);
    }
  }

  @Test
  void imageDeclaringHugeDimensionsIsRefusedBeforeDecoding() throws Exception {
    start(ServerConfig.defaults("DAM-3B", false), 0);
    byte[] png = Base64.getDecoder().decode(rgbaDataUrlPrefixless(rgbaDataUrl(4, 4, 3)));
    byte[] bomb = withDeclaredSize(png, 60_000, 60_000);
    String url = "data:image/png;base64," + Base64.getEncoder().encodeToString(bomb);
    HttpResponse<String> r =
        post("/v1/chat/completions", fixture("sdk_image.json", url).replace("true", "false"));
    assertEquals(400, r.statusCode(), r.body());
    String msg = M.readTree(r.body()).get("error").get("message").asText();
    assertTrue(msg.contains("60000x60000") && msg.contains("50000000"), msg);

    server.close();
    start(ServerConfig.defaults("DAM-3B", false).withMaxImagePixels(15), 0);
    HttpResponse<String> small = post("/v1/chat/completions", good(false));
    assertEquals(400, small.statusCode(), "4x4 = 16 pixels is over a limit of 15");
    assertTrue(small.body().contains("above the limit of 15"), small.body());
  }

  @Test
  void modelsListHasARealCreatedTime() throws Exception {
    long before = System.currentTimeMillis() / 1000;
    start(ServerConfig.defaults("DAM-3B", false), 0);
    JsonNode m =
        M.readTree(
            CLIENT
                .send(
                    HttpRequest.newBuilder(uri("/v1/models")).build(),
                    HttpResponse.BodyHandlers.ofString())
                .body());
    long created = m.get("data").get(0).get("created").asLong();
    assertTrue(created >= before && created <= System.currentTimeMillis() / 1000 + 1, m.toString());
  }

  private static String good(boolean stream) throws Exception {
    return fixture("sdk_image.json", rgbaDataUrl(4, 4, 3))
        .replace("\"stream\": true", "\"stream\": " + stream);
  }

  private static String rgbaDataUrlPrefixless(String url) {
    return url.substring(url.indexOf(',') + 1);
  }

  /** A PNG whose IHDR claims another size, with a correct CRC so only the size is wrong. */
  static byte[] withDeclaredSize(byte[] png, int w, int h) {
    byte[] out = png.clone();
    ByteBuffer b = ByteBuffer.wrap(out);
    b.putInt(16, w).putInt(20, h);
    CRC32 crc = new CRC32();
    crc.update(out, 12, 17);
    b.putInt(29, (int) crc.getValue());
    return out;
  }

  static byte[] bytesOf(java.awt.image.BufferedImage img) throws Exception {
    ByteArrayOutputStream o = new ByteArrayOutputStream();
    javax.imageio.ImageIO.write(img, "png", o);
    return o.toByteArray();
  }
}

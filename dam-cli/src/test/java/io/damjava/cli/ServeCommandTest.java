package io.damjava.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.damjava.api.Mask;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

/** {@code dam serve} in-process on a free port: health, one completion, stop. */
class ServeCommandTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void servesHealthAndACompletionOnTheTinyBundleThenStops() throws Exception {
    StringWriter err = new StringWriter();
    AtomicInteger code = new AtomicInteger(-1);
    Map<String, String> env = new HashMap<>(System.getenv());
    env.put("DAM_PROGRESS", "lines");
    String bundle = Fixtures.tinyImage().toString();
    Thread server =
        new Thread(
            () ->
                code.set(
                    DamCli.run(
                        new String[] {"serve", "--model", bundle, "--port", "0", "--threads", "1"},
                        new PrintWriter(new StringWriter(), true),
                        new PrintWriter(err, true),
                        env)),
            "dam-serve-test");
    server.start();
    try {
      int port = awaitPort(err, server);
      HttpClient http = HttpClient.newHttpClient();
      HttpResponse<String> health =
          http.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health")).build(),
              HttpResponse.BodyHandlers.ofString());
      assertEquals(200, health.statusCode());
      assertEquals("ok", JSON.readTree(health.body()).get("status").asText());

      ObjectNode req = JSON.createObjectNode();
      req.put("model", "describe_anything_model");
      req.put("temperature", 0);
      req.put("max_tokens", 32);
      ObjectNode msg = req.putArray("messages").addObject();
      msg.put("role", "user");
      var content = msg.putArray("content");
      content
          .addObject()
          .put("type", "image_url")
          .putObject("image_url")
          .put("url", "data:image/png;base64," + rgbaPng());
      content.addObject().put("type", "text").put("text", "Describe the masked region in detail.");
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(
                      URI.create("http://127.0.0.1:" + port + "/v1/chat/completions"))
                  .header("Content-Type", "application/json")
                  .POST(HttpRequest.BodyPublishers.ofString(req.toString()))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertEquals(200, r.statusCode(), r.body());
      JsonNode choice = JSON.readTree(r.body()).get("choices").get(0);
      assertEquals(
          Fixtures.golden("chelsea_left_eye").get("text").asText().strip(),
          choice.get("message").get("content").asText().strip());
      assertEquals("length", choice.get("finish_reason").asText());
    } finally {
      server.interrupt();
      server.join(10_000);
    }
    assertEquals(DamCli.OK, code.get(), err.toString());
  }

  private static int awaitPort(StringWriter err, Thread server) throws InterruptedException {
    Pattern p = Pattern.compile("on http://127\\.0\\.0\\.1:(\\d+)");
    for (int i = 0; i < 300; i++) {
      Matcher m = p.matcher(err.toString());
      if (m.find()) {
        return Integer.parseInt(m.group(1));
      }
      assertTrue(server.isAlive(), "serve ended early: " + err);
      Thread.sleep(50);
    }
    throw new AssertionError("no 'serving' line: " + err);
  }

  /** chelsea.png with the left-eye mask as its alpha channel, base64. */
  private static String rgbaPng() throws Exception {
    BufferedImage photo = ImageIO.read(Fixtures.CHELSEA.toFile());
    Mask mask = Mask.read(Fixtures.LEFT_EYE);
    BufferedImage rgba =
        new BufferedImage(photo.getWidth(), photo.getHeight(), BufferedImage.TYPE_INT_ARGB);
    for (int y = 0; y < photo.getHeight(); y++) {
      for (int x = 0; x < photo.getWidth(); x++) {
        int a = mask.get(x, y) ? 0xFF : 0;
        rgba.setRGB(x, y, (a << 24) | (photo.getRGB(x, y) & 0xFFFFFF));
      }
    }
    ByteArrayOutputStream png = new ByteArrayOutputStream();
    ImageIO.write(rgba, "png", png);
    assertNotNull(png.toByteArray());
    return Base64.getEncoder().encodeToString(png.toByteArray());
  }
}

package io.damjava.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterEach;

/** Starts a server over {@link FakeDam} and speaks HTTP to it. */
abstract class ServerTestBase {
  static final ObjectMapper M = new ObjectMapper();
  static final HttpClient CLIENT =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  DamServer server;
  FakeDam dam;

  @AfterEach
  void stop() {
    if (server != null) {
      server.close();
    }
  }

  DamServer start(ServerConfig config, long wordDelayMs) throws IOException {
    dam = new FakeDam(wordDelayMs);
    server = DamServer.start(dam, config.withPort(0));
    return server;
  }

  URI uri(String path) {
    return URI.create("http://127.0.0.1:" + server.port() + path);
  }

  /** A PNG data URL of a w x h RGBA image whose alpha covers {@code area} pixels. */
  static String rgbaDataUrl(int w, int h, int area) throws IOException {
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_ARGB);
    for (int i = 0; i < w * h; i++) {
      img.setRGB(i % w, i / w, (i < area ? 0xFF000000 : 0) | 0x336699);
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(img, "png", out);
    return "data:image/png;base64," + Base64.getEncoder().encodeToString(out.toByteArray());
  }

  static String fixture(String name, String... images) throws IOException {
    try (InputStream in = ServerTestBase.class.getResourceAsStream("/requests/" + name)) {
      String s = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      for (int i = 0; i < images.length; i++) {
        s = s.replace("$IMAGE_" + i, images[i]);
      }
      return s;
    }
  }

  HttpResponse<String> post(String path, String body) throws Exception {
    return CLIENT.send(
        HttpRequest.newBuilder(uri(path)).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** The JSON payloads of an SSE body, [DONE] excluded; asserts it ends with [DONE]. */
  static List<JsonNode> events(String sse) throws IOException {
    List<JsonNode> out = new ArrayList<>();
    String[] blocks = sse.split("\n\n");
    assertEquals("data: [DONE]", blocks[blocks.length - 1], "stream ends with [DONE]");
    for (int i = 0; i < blocks.length - 1; i++) {
      assertTrue(blocks[i].startsWith("data: "), blocks[i]);
      out.add(M.readTree(blocks[i].substring(6)));
    }
    return out;
  }
}

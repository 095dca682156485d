package io.damjava.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.damjava.api.DamImage;
import io.damjava.api.DescribeAnything;
import io.damjava.api.Mask;
import io.damjava.api.Region;
import io.damjava.convert.ConvertOptions;
import io.damjava.convert.Converter;
import io.damjava.convert.TinySam;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The page's HTTP side over the real engine on the tiny checkpoint and the tiny SAM bundle: {@code
 * GET /} and its assets, and {@code POST /v1/segment}, whose masks must equal the library's {@code
 * segment} for the same prompts. The page itself is tested in chromium (src/test/browser).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PageAndSegmentTest {
  static final Path REF = Path.of("..", "tools", "reference").toAbsolutePath().normalize();
  static final ObjectMapper M = new ObjectMapper();
  static final HttpClient CLIENT = HttpClient.newHttpClient();
  static final String KEY = "page-key";

  DescribeAnything dam;
  DescribeAnything noSam;
  DamServer server;
  DamServer noSamServer;
  DamImage photo;
  String photoUrl;

  @BeforeAll
  void start(@TempDir Path tmp) throws IOException {
    Path bundle = tmp.resolve("tiny-image");
    Converter.run(ConvertOptions.of(REF.resolve("fixtures/tiny-image"), bundle));
    Path sam = TinySam.samBundle(tmp.resolve("sam"));
    dam = DescribeAnything.builder().model(bundle).segmenter(sam).threads(1).build();
    noSam = DescribeAnything.builder().model(bundle).threads(1).build();
    server =
        DamServer.start(
            dam, ServerConfig.defaults("tiny-image", false).withPort(0).withApiKey(KEY));
    noSamServer = DamServer.start(noSam, ServerConfig.defaults("tiny-image", false).withPort(0));
    Path png = REF.resolve("fixtures/images/chelsea.png");
    photo = DamImage.read(png);
    photoUrl =
        "data:image/png;base64," + Base64.getEncoder().encodeToString(Files.readAllBytes(png));
  }

  @AfterAll
  void stop() {
    for (AutoCloseable c : new AutoCloseable[] {server, noSamServer, dam, noSam}) {
      try {
        if (c != null) {
          c.close();
        }
      } catch (Exception ignored) {
        // best effort
      }
    }
  }

  HttpResponse<String> get(DamServer s, String path) throws Exception {
    return CLIENT.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  HttpResponse<String> segment(DamServer s, String body, boolean key) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + "/v1/segment"))
            .POST(HttpRequest.BodyPublishers.ofString(body));
    if (key) {
      b.header("Authorization", "Bearer " + KEY);
    }
    return CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  String body(String regionJson) {
    ObjectNode root = M.createObjectNode().put("image", photoUrl);
    try {
      root.set("region", M.readTree(regionJson));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return root.toString();
  }

  /** The answer's mask, checked against its width, height, area and box fields. */
  static Mask mask(HttpResponse<String> r) throws IOException {
    assertEquals(200, r.statusCode(), r.body());
    JsonNode j = M.readTree(r.body());
    String url = j.get("mask").asText();
    assertTrue(url.startsWith("data:image/png;base64,"));
    Mask m = Mask.read(Base64.getDecoder().decode(url.substring(url.indexOf(',') + 1)));
    assertEquals(m.width(), j.get("width").asInt());
    assertEquals(m.height(), j.get("height").asInt());
    assertEquals(m.area(), j.get("area").asInt());
    Mask.Box b = m.boundingBox();
    assertEquals(List.of(b.x0(), b.y0(), b.x1(), b.y1()), M.convertValue(j.get("box"), List.class));
    return m;
  }

  @Test
  void servesThePageAndItsAssetsWithoutTheKey() throws Exception {
    HttpResponse<String> index = get(server, "/");
    assertEquals(200, index.statusCode());
    assertTrue(index.headers().firstValue("Content-Type").orElse("").startsWith("text/html"));
    assertTrue(index.body().contains("src=\"/web/app.js\""), "the page loads its script");
    assertTrue(
        index.headers().firstValue("Content-Security-Policy").orElse("").contains("default-src"));
    for (String asset :
        List.of(
            "/web/app.js",
            "/web/core.js",
            "/web/video.js",
            "/web/describe.js",
            "/web/png.js",
            "/web/app.css")) {
      HttpResponse<String> r = get(server, asset);
      assertEquals(200, r.statusCode(), asset);
      assertTrue(r.body().length() > 500, asset);
      assertTrue(!r.body().contains("http://") && !r.body().contains("https://"), asset);
    }
    assertEquals(404, get(noSamServer, "/web/nope.js").statusCode());
    assertEquals(401, get(server, "/v1/models").statusCode(), "the API still needs the key");
  }

  @Test
  void boxClicksAndScribbleGiveTheLibrarysMasks() throws Exception {
    Mask box = mask(segment(server, body("{\"box\": [250, 60, 400, 220]}"), true));
    assertEquals(dam.segment(photo, List.of(Region.box(250, 60, 400, 220))).get(0), box);
    Mask clicks = mask(segment(server, body("{\"points\": [[140, 110], [300, 20, 0]]}"), true));
    Region pts =
        Region.points(List.of(Region.Point.positive(140, 110), Region.Point.negative(300, 20)));
    assertEquals(dam.segment(photo, List.of(pts)).get(0), clicks);
    assertTrue(clicks.get(140, 110), "the click is inside its mask");

    BufferedImage stroke =
        new BufferedImage(photo.width(), photo.height(), BufferedImage.TYPE_INT_ARGB);
    boolean[] s = new boolean[photo.width() * photo.height()];
    for (int x = 40; x < 100; x++) {
      stroke.setRGB(x, 200, 0xFFFFFFFF);
      s[200 * photo.width() + x] = true;
    }
    ByteArrayOutputStream png = new ByteArrayOutputStream();
    ImageIO.write(stroke, "png", png);
    String url = "data:image/png;base64," + Base64.getEncoder().encodeToString(png.toByteArray());
    Mask scribble = mask(segment(server, body("{\"scribble\": \"" + url + "\"}"), true));
    Mask expected =
        dam.segment(photo, List.of(Region.scribble(Mask.of(s, photo.width(), photo.height()))))
            .get(0);
    assertArrayEquals(expected.toBytes(), scribble.toBytes());
  }

  @Test
  void badRequestsAreTypedErrors() throws Exception {
    assertEquals(401, segment(server, body("{\"box\": [1, 1, 50, 50]}"), false).statusCode());
    assertError(segment(server, "{not json", true), 400, "not valid JSON");
    assertError(segment(server, body("{\"lasso\": 1}"), true), 400, "'box' or 'points'");
    assertError(segment(server, "{\"image\": \"x\", \"region\": {}}", true), 400, "data:image");
    String notPng = "data:image/png;base64," + Base64.getEncoder().encodeToString(new byte[] {1});
    assertError(
        segment(server, "{\"image\": \"" + notPng + "\", \"region\": {}}", true), 400, "readable");
    assertError(segment(server, body("{\"box\": [1, 1, 9000, 50]}"), true), 400, "");
    assertError(segment(noSamServer, body("{\"box\": [1, 1, 50, 50]}"), false), 400, "segmenter");
    assertEquals(405, get(noSamServer, "/v1/segment").statusCode());
  }

  static void assertError(HttpResponse<String> r, int status, String inMessage) throws IOException {
    assertEquals(status, r.statusCode(), r.body());
    String msg = M.readTree(r.body()).path("error").path("message").asText();
    assertTrue(msg.contains(inMessage), msg);
  }
}

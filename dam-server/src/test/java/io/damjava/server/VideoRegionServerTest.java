package io.damjava.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.damjava.api.Caption;
import io.damjava.api.DescribeAnything;
import io.damjava.api.DescribeRequest;
import io.damjava.api.FrameSource;
import io.damjava.api.GenerationOptions;
import io.damjava.api.Region;
import io.damjava.api.VideoRegion;
import io.damjava.convert.ConvertOptions;
import io.damjava.convert.Converter;
import io.damjava.convert.sam2.Sam2Bundles;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * A chat request whose {@code region} carries {@code "frame": N}: the 14 committed frames (plain
 * RGB PNGs, no alpha) with a box on frame 3, over the real engine on the tiny image+video DAM
 * bundle with the tiny SAM 2.1 segmenter. The answer, plain and streamed, must equal the library's
 * {@code describe(DescribeRequest.video(VideoRegion))}; bad frames are 400s naming the problem.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class VideoRegionServerTest {
  static final Path REF = Path.of("..", "tools", "reference").toAbsolutePath().normalize();
  static final Path FRAMES = REF.resolve("sam2/frames");
  static final ObjectMapper M = new ObjectMapper();

  DescribeAnything dam;
  DamServer server;

  @BeforeAll
  void start(@TempDir Path tmp) throws IOException {
    Path bundle = tmp.resolve("tiny-joint");
    Converter.run(ConvertOptions.of(REF.resolve("fixtures/tiny-joint"), bundle));
    Path sam2 = Sam2Bundles.write(REF.resolve("fixtures/sam2-tiny"), tmp.resolve("sam2"));
    dam = DescribeAnything.builder().model(bundle).segmenter(sam2).threads(1).build();
    server = DamServer.start(dam, ServerConfig.defaults("tiny-joint", true).withPort(0));
  }

  @AfterAll
  void stop() {
    server.close();
    dam.close();
  }

  static String body(int frames, String region, boolean stream) throws IOException {
    StringBuilder sb =
        new StringBuilder(
            "{\"model\": \"describe_anything_model\", \"temperature\": 0, \"max_tokens\": 6,"
                + " \"stream\": "
                + stream
                + ", \"region\": "
                + region
                + ", \"messages\": [{\"role\": \"user\", \"content\": ["
                + "{\"type\": \"text\", \"text\": \"Video: \"}");
    for (int f = 0; f < frames; f++) {
      byte[] png = Files.readAllBytes(FRAMES.resolve(String.format("frame_%02d.png", f)));
      sb.append(", {\"type\": \"image_url\", \"image_url\": {\"url\": \"data:image/png;base64,")
          .append(Base64.getEncoder().encodeToString(png))
          .append("\"}}");
    }
    return sb.append("]}]}").toString();
  }

  HttpResponse<String> post(String body) throws Exception {
    return HttpClient.newHttpClient()
        .send(
            HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + server.port() + "/v1/chat/completions"))
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build(),
            HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void aBoxOnOneFrameIsTrackedAndDescribedAsTheLibraryDoes() throws Exception {
    String region = "{\"box\": [47, 54, 79, 86], \"frame\": 3}";
    HttpResponse<String> r = post(body(14, region, false));
    assertEquals(200, r.statusCode(), r.body());
    String got = M.readTree(r.body()).get("choices").get(0).get("message").get("content").asText();
    Caption want =
        dam.describe(
            DescribeRequest.video(
                    new VideoRegion(FrameSource.folder(FRAMES), 3, Region.box(47, 54, 79, 86)))
                .options(GenerationOptions.builder().temperature(0).maxNewTokens(6).build()));
    assertEquals(want.text().strip(), got.strip());
    assertTrue(!got.isBlank());

    HttpResponse<String> s = post(body(14, region, true));
    assertEquals(200, s.statusCode(), s.body());
    StringBuilder streamed = new StringBuilder();
    for (String block : s.body().split("\n\n")) {
      if (block.isBlank() || block.equals("data: [DONE]")) {
        continue;
      }
      JsonNode ch = M.readTree(block.substring(6)).path("choices");
      if (ch.size() > 0 && ch.get(0).path("delta").has("content")) {
        streamed.append(ch.get(0).get("delta").get("content").asText());
      }
    }
    assertEquals(got, streamed.toString());
  }

  @Test
  void badFramesAre400s() throws Exception {
    HttpResponse<String> outside = post(body(14, "{\"points\": [[60, 60]], \"frame\": 14}", false));
    assertEquals(400, outside.statusCode(), outside.body());
    assertTrue(outside.body().contains("frames 0..13"), outside.body());
    HttpResponse<String> few = post(body(7, "{\"points\": [[60, 60]], \"frame\": 0}", false));
    assertEquals(400, few.statusCode(), few.body());
    assertTrue(few.body().contains("at least 8"), few.body());
    HttpResponse<String> bad = post(body(8, "{\"points\": [[60, 60]], \"frame\": -2}", false));
    assertEquals(400, bad.statusCode(), bad.body());
    HttpResponse<String> box =
        post(body(14, "{\"box\": [100, 50, 170, 100], \"frame\": 3}", false));
    assertEquals(400, box.statusCode(), box.body());
    assertTrue(box.body().contains("frame 3: box"), box.body());
    HttpResponse<String> lost = post(body(14, "{\"points\": [[96, 63]], \"frame\": 6}", false));
    assertEquals(400, lost.statusCode(), lost.body());
    assertTrue(lost.body().contains("empty on picked frame [9]"), lost.body());
  }
}

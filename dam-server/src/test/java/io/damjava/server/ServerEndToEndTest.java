package io.damjava.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionContentPart;
import com.openai.models.chat.completions.ChatCompletionContentPartImage;
import com.openai.models.chat.completions.ChatCompletionContentPartText;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import io.damjava.api.DamImage;
import io.damjava.api.DescribeAnything;
import io.damjava.api.GenerationOptions;
import io.damjava.api.Mask;
import io.damjava.convert.ConvertOptions;
import io.damjava.convert.Converter;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server over the real engine on the tiny reference checkpoint: answers must equal the
 * reference goldens (greedy) and direct library calls, through raw HTTP and the official OpenAI
 * Java client.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ServerEndToEndTest {
  static final Path REF = Path.of("..", "tools", "reference").toAbsolutePath().normalize();
  static final ObjectMapper M = new ObjectMapper();
  static final List<String> MASKS =
      List.of("mask_left_eye", "mask_right_eye", "mask_nose_small", "mask_ear_border");

  DescribeAnything dam;
  DamServer server;
  JsonNode golden;
  DamImage photo;

  @BeforeAll
  void start(@TempDir Path tmp) throws IOException {
    Path bundle = tmp.resolve("tiny-image");
    Converter.run(ConvertOptions.of(REF.resolve("fixtures/tiny-image"), bundle));
    dam = DescribeAnything.builder().model(bundle).threads(1).build();
    server =
        DamServer.start(
            dam,
            ServerConfig.defaults("tiny-image", false)
                .withPort(0)
                .withLimits(2, 3, Duration.ofMinutes(1)));
    for (JsonNode c : M.readTree(REF.resolve("goldens/index.json").toFile()).get("cases")) {
      if (c.get("name").asText().equals("chelsea_left_eye")) {
        golden = c;
      }
    }
    photo = DamImage.read(REF.resolve("fixtures/images/chelsea.png"));
  }

  @AfterAll
  void stop() {
    server.close();
    dam.close();
  }

  Mask mask(String name) {
    return Mask.read(REF.resolve("goldens/inputs/" + name + ".png"));
  }

  /** The photo with the mask in its alpha channel, as the reference clients send it. */
  String rgbaDataUrl(String maskName) throws IOException {
    Mask m = mask(maskName);
    BufferedImage rgba =
        new BufferedImage(photo.width(), photo.height(), BufferedImage.TYPE_INT_ARGB);
    for (int y = 0; y < photo.height(); y++) {
      for (int x = 0; x < photo.width(); x++) {
        int rgb =
            (photo.sample(x, y, 0) << 16) | (photo.sample(x, y, 1) << 8) | photo.sample(x, y, 2);
        rgba.setRGB(x, y, (m.get(x, y) ? 0xFF000000 : 0) | rgb);
      }
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(rgba, "png", out);
    return "data:image/png;base64," + Base64.getEncoder().encodeToString(out.toByteArray());
  }

  String body(String maskName, boolean stream) throws IOException {
    return "{\"model\": \"describe_anything_model\", \"temperature\": 0, \"max_tokens\": 32,"
        + " \"stream\": "
        + stream
        + ", \"messages\": [{\"role\": \"user\", \"content\": ["
        + "{\"type\": \"image_url\", \"image_url\": {\"url\": \""
        + rgbaDataUrl(maskName)
        + "\"}},"
        + "{\"type\": \"text\", \"text\": \"\\nDescribe the masked region in detail.\"}]}]}";
  }

  HttpResponse<String> post(String path, String body) throws Exception {
    return HttpClient.newHttpClient()
        .send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build(),
            HttpResponse.BodyHandlers.ofString());
  }

  static String streamedText(String sse) throws IOException {
    StringBuilder text = new StringBuilder();
    for (String block : sse.split("\n\n")) {
      if (block.equals("data: [DONE]")) {
        continue;
      }
      JsonNode delta = M.readTree(block.substring(6)).get("choices").get(0).get("delta");
      if (delta != null && delta.has("content")) {
        text.append(delta.get("content").get(0).get("text").asText());
      }
    }
    return text.toString();
  }

  String expectedText() {
    return golden.get("text").asText().strip();
  }

  @Test
  void referencePathAnswersWithTheGoldenCaption() throws Exception {
    HttpResponse<String> r = post("/chat/completions", body("mask_left_eye", false));
    assertEquals(200, r.statusCode(), r.body());
    assertEquals(
        expectedText(),
        M.readTree(r.body()).get("choices").get(0).get("message").get("content").asText());
    HttpResponse<String> s = post("/chat/completions", body("mask_left_eye", true));
    assertEquals(expectedText(), streamedText(s.body()).strip());
  }

  @Test
  void officialOpenAiJavaClientWorksAgainstV1() {
    OpenAIClient client =
        OpenAIOkHttpClient.builder()
            .apiKey("not-needed")
            .baseUrl("http://127.0.0.1:" + server.port() + "/v1")
            .build();
    try {
      ChatCompletionCreateParams params =
          ChatCompletionCreateParams.builder()
              .model("tiny-image")
              .temperature(0.0)
              .maxCompletionTokens(32)
              .addUserMessageOfArrayOfContentParts(
                  List.of(
                      ChatCompletionContentPart.ofImageUrl(
                          ChatCompletionContentPartImage.builder()
                              .imageUrl(
                                  ChatCompletionContentPartImage.ImageUrl.builder()
                                      .url(rgbaDataUrl("mask_left_eye"))
                                      .build())
                              .build()),
                      ChatCompletionContentPart.ofText(
                          ChatCompletionContentPartText.builder()
                              .text("\nDescribe the masked region in detail.")
                              .build())))
              .build();
      ChatCompletion c = client.chat().completions().create(params);
      assertEquals(expectedText(), c.choices().get(0).message().content().orElseThrow());
      assertEquals(32, c.usage().orElseThrow().completionTokens());
      assertEquals(golden.get("spliced_length").asLong(), c.usage().orElseThrow().promptTokens());
      StringBuilder streamed = new StringBuilder();
      try (StreamResponse<ChatCompletionChunk> stream =
          client.chat().completions().createStreaming(params)) {
        stream.stream()
            .forEach(
                chunk ->
                    chunk.choices().stream()
                        .forEach(ch -> ch.delta().content().ifPresent(streamed::append)));
      }
      assertEquals(expectedText(), streamed.toString().strip());
    } catch (IOException e) {
      throw new AssertionError(e);
    } finally {
      client.close();
    }
  }

  @Test
  void concurrentClientsGetTheirOwnAnswersEqualToDirectCalls() throws Exception {
    int clients = 12;
    List<String> expected = new ArrayList<>();
    for (String m : MASKS) {
      expected.add(
          dam.describe(
                  photo,
                  List.of(io.damjava.api.Region.mask(mask(m))),
                  GenerationOptions.builder().temperature(0).maxNewTokens(32).build())
              .get(0)
              .text());
    }
    assertEquals(
        MASKS.size(), expected.stream().distinct().count(), "masks give distinct captions");
    ExecutorService pool = Executors.newFixedThreadPool(clients);
    List<Future<HttpResponse<String>>> futures = new ArrayList<>();
    for (int i = 0; i < clients; i++) {
      String b = body(MASKS.get(i % MASKS.size()), true);
      futures.add(pool.submit(() -> post("/chat/completions", b)));
    }
    int ok = 0;
    for (int i = 0; i < clients; i++) {
      HttpResponse<String> r = futures.get(i).get();
      if (r.statusCode() == 503) {
        continue;
      }
      assertEquals(200, r.statusCode(), r.body());
      assertEquals(expected.get(i % MASKS.size()), streamedText(r.body()).strip(), "client " + i);
      ok++;
    }
    pool.shutdown();
    assertTrue(ok >= 5, "running + queued requests are served: " + ok);
  }
}

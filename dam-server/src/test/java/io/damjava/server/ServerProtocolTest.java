package io.damjava.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import org.junit.jupiter.api.Test;

class ServerProtocolTest extends ServerTestBase {

  @Test
  void rawClientGetsTheReferenceNonStreamingShape() throws Exception {
    start(ServerConfig.defaults("DAM-3B", false), 0);
    HttpResponse<String> r =
        post("/chat/completions", fixture("raw_image.json", rgbaDataUrl(20, 10, 37)));
    assertEquals(200, r.statusCode(), r.body());
    JsonNode root = M.readTree(r.body());
    assertEquals("chat.completion", root.get("object").asText());
    assertTrue(
        root.get("created").isFloatingPointNumber(), "created is a float, as the reference's");
    assertEquals("describe_anything_model", root.get("model").asText());
    JsonNode msg = root.get("choices").get(0).get("message");
    assertEquals("assistant", msg.get("role").asText());
    // Per-request sampling is honoured (the reference ignores it): top_p 0.5 from the request.
    assertEquals(
        "image area 37 t 0.2 p 0.5 q Describe the masked region in detail.",
        msg.get("content").asText());
    assertFalse(root.get("choices").get(0).has("finish_reason"), "reference shape has none");
  }

  @Test
  void requestWithoutSamplingFieldsGetsTheOfficialServersDefaults() throws Exception {
    // dam_server.py: --temperature 0.2 --top_p 0.9 --max_new_tokens 512 --num_beams 1, and HF
    // generate's top_k 50 (DAM-3B's generation_config.json sets none).
    start(ServerConfig.defaults("DAM-3B", false), 0);
    String body =
        fixture("raw_image.json", rgbaDataUrl(20, 10, 37))
            .replace("\"max_tokens\": 512,", "")
            .replace("\"temperature\": 0.2,", "")
            .replace("\"top_p\": 0.5,", "");
    assertFalse(body.contains("top_p") || body.contains("temperature"), body);
    HttpResponse<String> r = post("/chat/completions", body);
    assertEquals(200, r.statusCode(), r.body());
    io.damjava.api.GenerationOptions o = dam.lastOptions.get();
    assertEquals(0.2, o.temperature());
    assertEquals(0.9, o.topP());
    // no top_k: the engine applies the model's generation_config value, as transformers does
    assertEquals(io.damjava.api.GenerationOptions.MODEL_TOP_K, o.topK());
    assertEquals(512, o.maxNewTokens());
    assertEquals(
        "image area 37 t 0.2 p 0.9 q Describe the masked region in detail.",
        M.readTree(r.body()).get("choices").get(0).get("message").get("content").asText());
  }

  @Test
  void sdkClientStreamsListFormDeltasChunkByChunk() throws Exception {
    start(ServerConfig.defaults("DAM-3B", false), 0);
    HttpResponse<String> r =
        post("/chat/completions", fixture("sdk_image.json", rgbaDataUrl(16, 16, 5)));
    assertEquals(200, r.statusCode());
    assertEquals("text/event-stream", r.headers().firstValue("Content-Type").orElse(""));
    List<JsonNode> ev = events(r.body());
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < ev.size() - 1; i++) {
      JsonNode c = ev.get(i);
      assertEquals("chat.completion.chunk", c.get("object").asText());
      JsonNode parts = c.get("choices").get(0).get("delta").get("content");
      assertTrue(parts.isArray(), "delta.content is a list of parts");
      assertEquals("text", parts.get(0).get("type").asText());
      assertTrue(c.get("choices").get(0).get("finish_reason").isNull());
      text.append(parts.get(0).get("text").asText());
    }
    assertEquals("stop", ev.get(ev.size() - 1).get("choices").get(0).get("finish_reason").asText());
    assertEquals(
        "image area 5 t 0.2 p 0.5 q Describe the masked region in detail.", text.toString());
  }

  @Test
  void videoClientSendsEightFramesToTheJointModel() throws Exception {
    start(ServerConfig.defaults("DAM-3B-Video", true), 0);
    String[] frames = new String[8];
    for (int i = 0; i < 8; i++) {
      frames[i] = rgbaDataUrl(12, 12, i + 1);
    }
    HttpResponse<String> r = post("/chat/completions", fixture("sdk_video.json", frames));
    assertEquals(200, r.statusCode(), r.body());
    StringBuilder text = new StringBuilder();
    List<JsonNode> ev = events(r.body());
    for (JsonNode c : ev.subList(0, ev.size() - 1)) {
      text.append(c.get("choices").get(0).get("delta").get("content").get(0).get("text").asText());
    }
    assertTrue(
        text.toString()
            .startsWith("video area 1 area 2 area 3 area 4 area 5 area 6 area 7 area 8 "),
        text.toString());
    assertTrue(
        text.toString()
            .endsWith(
                "q Given the video in the form of a sequence of frames above,"
                    + " describe the object in the masked region in the video in detail."),
        text.toString());
  }

  @Test
  void v1PathUsesTheStandardOpenAiShapes() throws Exception {
    start(ServerConfig.defaults("DAM-3B", false), 0);
    String body =
        fixture("raw_image.json", rgbaDataUrl(8, 8, 3))
            .replace("\"max_tokens\": 512", "\"max_tokens\": 4");
    JsonNode full = M.readTree(post("/v1/chat/completions", body).body());
    JsonNode choice = full.get("choices").get(0);
    assertEquals(0, choice.get("index").asInt());
    assertEquals("length", choice.get("finish_reason").asText());
    assertEquals("image area 3 t", choice.get("message").get("content").asText());
    assertEquals(4, full.get("usage").get("completion_tokens").asInt());
    assertEquals(11, full.get("usage").get("total_tokens").asInt());

    List<JsonNode> ev =
        events(
            post("/v1/chat/completions", fixture("sdk_image.json", rgbaDataUrl(8, 8, 3))).body());
    assertEquals("assistant", ev.get(0).get("choices").get(0).get("delta").get("role").asText());
    StringBuilder text = new StringBuilder();
    for (JsonNode c : ev.subList(1, ev.size() - 1)) {
      JsonNode content = c.get("choices").get(0).get("delta").get("content");
      assertTrue(content.isTextual(), "string deltas on /v1");
      text.append(content.asText());
    }
    JsonNode last = ev.get(ev.size() - 1);
    assertEquals("stop", last.get("choices").get(0).get("finish_reason").asText());
    assertFalse(last.has("usage"), "usage only when stream_options.include_usage asks for it");
    assertTrue(text.toString().startsWith("image area 3"), text.toString());

    // With include_usage, as OpenAI: the finish chunk, then one with choices [] and the usage.
    String withUsage =
        fixture("sdk_image.json", rgbaDataUrl(8, 8, 3))
            .replace(
                "\"stream\": true",
                "\"stream\": true, \"stream_options\": {\"include_usage\": true}");
    List<JsonNode> ev2 = events(post("/v1/chat/completions", withUsage).body());
    JsonNode finish = ev2.get(ev2.size() - 2);
    assertEquals("stop", finish.get("choices").get(0).get("finish_reason").asText());
    JsonNode usage = ev2.get(ev2.size() - 1);
    assertEquals(0, usage.get("choices").size(), usage.toString());
    assertTrue(usage.get("usage").get("completion_tokens").asInt() > 0, usage.toString());
    assertEquals(
        usage.get("usage").get("prompt_tokens").asInt()
            + usage.get("usage").get("completion_tokens").asInt(),
        usage.get("usage").get("total_tokens").asInt());
  }

  @Test
  void modelsHealthAndApiKey() throws Exception {
    start(ServerConfig.defaults("DAM-3B", false).withApiKey("s3cret"), 0);
    HttpResponse<String> health =
        CLIENT.send(
            HttpRequest.newBuilder(uri("/health")).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, health.statusCode(), "health needs no key");
    HttpResponse<String> noKey =
        CLIENT.send(
            HttpRequest.newBuilder(uri("/v1/models")).build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals(401, noKey.statusCode());
    assertEquals("invalid_api_key", M.readTree(noKey.body()).get("error").get("type").asText());
    HttpResponse<String> ok =
        CLIENT.send(
            HttpRequest.newBuilder(uri("/v1/models"))
                .header("Authorization", "Bearer s3cret")
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals("DAM-3B", M.readTree(ok.body()).get("data").get(0).get("id").asText());
  }
}

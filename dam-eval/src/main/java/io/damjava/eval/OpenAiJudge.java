package io.damjava.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;

/**
 * A judge behind any OpenAI-compatible chat endpoint ({@code POST {baseUrl}/chat/completions}),
 * called with the official settings: one user message, temperature 0, max_tokens 300, top_p 1, no
 * frequency or presence penalty.
 */
public final class OpenAiJudge implements Judge {
  private final ObjectMapper json = new ObjectMapper();
  private final HttpClient http;
  private final URI endpoint;
  private final String model;
  private final String apiKey;
  private final Duration timeout;

  /**
   * @param baseUrl e.g. {@code http://localhost:9000/v1}
   * @param model the judge model's name as the server knows it
   * @param apiKey sent as a bearer token; null sends none
   */
  public OpenAiJudge(String baseUrl, String model, String apiKey, Duration timeout) {
    String base = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
    try {
      this.endpoint = URI.create(base + "/chat/completions");
    } catch (IllegalArgumentException e) {
      throw new io.damjava.api.InvalidInputException(
          "judge URL " + baseUrl + ": " + e.getMessage());
    }
    this.model = model;
    this.apiKey = apiKey;
    this.timeout = timeout;
    this.http = HttpClient.newBuilder().connectTimeout(timeout).build();
  }

  /** The judge model's name. */
  public String model() {
    return model;
  }

  @Override
  public String ask(String prompt) {
    ObjectNode body = json.createObjectNode();
    body.put("model", model);
    ObjectNode msg = body.putArray("messages").addObject();
    msg.put("role", "user");
    msg.put("content", prompt);
    body.put("temperature", 0.0);
    body.put("max_tokens", 300);
    body.put("top_p", 1);
    body.put("frequency_penalty", 0);
    body.put("presence_penalty", 0);
    HttpRequest.Builder req =
        HttpRequest.newBuilder(endpoint)
            .timeout(timeout)
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body.toString()));
    if (apiKey != null) {
      req.header("Authorization", "Bearer " + apiKey);
    }
    HttpResponse<String> resp;
    try {
      resp = http.send(req.build(), HttpResponse.BodyHandlers.ofString());
    } catch (HttpTimeoutException e) {
      throw new JudgeException(
          "the judge at "
              + endpoint
              + " did not answer within "
              + timeout.toSeconds()
              + " s (raise --judge-timeout, or check the server)",
          e);
    } catch (IOException e) {
      throw new JudgeException("cannot reach the judge at " + endpoint + ": " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new JudgeException("interrupted while waiting for the judge", e);
    }
    if (resp.statusCode() != 200) {
      throw new JudgeException(
          "the judge at "
              + endpoint
              + " answered HTTP "
              + resp.statusCode()
              + ": "
              + abbreviate(resp.body()));
    }
    try {
      JsonNode content = json.readTree(resp.body()).path("choices").path(0).path("message");
      if (!content.path("content").isTextual()) {
        throw new JudgeException(
            "the judge's reply has no choices[0].message.content: " + abbreviate(resp.body()));
      }
      return content.get("content").asText();
    } catch (IOException e) {
      throw new JudgeException("the judge's reply is not JSON: " + abbreviate(resp.body()), e);
    }
  }

  private static String abbreviate(String s) {
    return s.length() > 300 ? s.substring(0, 300) + "..." : s;
  }
}

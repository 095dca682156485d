package io.damjava.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The judge client against a chat endpoint served on loopback. */
class OpenAiJudgeTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private HttpServer server;
  private final AtomicReference<JsonNode> request = new AtomicReference<>();
  private final AtomicReference<String> auth = new AtomicReference<>();
  private final AtomicReference<String> reply = new AtomicReference<>();
  private final AtomicReference<Integer> status = new AtomicReference<>(200);

  @BeforeEach
  void start() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext(
        "/v1/chat/completions",
        ex -> {
          request.set(JSON.readTree(ex.getRequestBody()));
          auth.set(ex.getRequestHeaders().getFirst("Authorization"));
          byte[] b = reply.get().getBytes(StandardCharsets.UTF_8);
          ex.sendResponseHeaders(status.get(), b.length);
          try (OutputStream o = ex.getResponseBody()) {
            o.write(b);
          }
        });
    server.start();
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  private OpenAiJudge judge(String key) {
    return new OpenAiJudge(
        "http://127.0.0.1:" + server.getAddress().getPort() + "/v1/",
        "judge-x",
        key,
        Duration.ofSeconds(5));
  }

  @Test
  void sendsTheOfficialSettingsAndReadsTheReply() {
    reply.set("{\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":\" B. red\"}}]}");
    assertEquals(" B. red", judge("sk-1").ask("the prompt"));
    JsonNode r = request.get();
    assertEquals("judge-x", r.get("model").asText());
    assertEquals("user", r.get("messages").get(0).get("role").asText());
    assertEquals("the prompt", r.get("messages").get(0).get("content").asText());
    assertEquals(0.0, r.get("temperature").asDouble());
    assertEquals(300, r.get("max_tokens").asInt());
    assertEquals(1.0, r.get("top_p").asDouble());
    assertEquals(0, r.get("frequency_penalty").asInt());
    assertEquals(0, r.get("presence_penalty").asInt());
    assertEquals("Bearer sk-1", auth.get());
    judge(null).ask("again");
    assertEquals(null, auth.get());
  }

  @Test
  void httpErrorsAndNonChatRepliesAreJudgeExceptions() {
    status.set(500);
    reply.set("overloaded");
    var e = assertThrows(JudgeException.class, () -> judge(null).ask("p"));
    assertTrue(e.getMessage().contains("HTTP 500: overloaded"), e.getMessage());
    status.set(200);
    reply.set("<html>not json</html>");
    e = assertThrows(JudgeException.class, () -> judge(null).ask("p"));
    assertTrue(e.getMessage().contains("not JSON"), e.getMessage());
    reply.set("{\"choices\":[]}");
    e = assertThrows(JudgeException.class, () -> judge(null).ask("p"));
    assertTrue(e.getMessage().contains("no choices[0].message.content"), e.getMessage());
  }

  @Test
  void anUnreachableJudgeIsAJudgeException() {
    int port = server.getAddress().getPort();
    server.stop(0);
    var j = new OpenAiJudge("http://127.0.0.1:" + port + "/v1", "m", null, Duration.ofSeconds(2));
    var e = assertThrows(JudgeException.class, () -> j.ask("p"));
    assertTrue(e.getMessage().contains("cannot reach the judge"), e.getMessage());
  }
}

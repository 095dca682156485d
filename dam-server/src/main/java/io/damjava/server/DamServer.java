package io.damjava.server;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.damjava.api.DamException;
import io.damjava.api.DescribeAnything;
import io.damjava.api.InvalidInputException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An OpenAI-compatible HTTP server over a {@link DescribeAnything}: {@code POST /chat/completions}
 * in the reference server's shape, {@code POST /v1/chat/completions} in the standard OpenAI shape,
 * {@code GET /v1/models}, {@code GET /health}, {@code POST /v1/segment} and the interactive page at
 * {@code /}. See docs/server.md.
 *
 * <pre>{@code
 * try (DamServer server = DamServer.start(dam, ServerConfig.defaults("DAM-3B", false))) {
 *   server.awaitShutdown();
 * }
 * }</pre>
 */
public final class DamServer implements AutoCloseable {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private final HttpServer http;
  private final ExecutorService executor;
  private final ChatHandler chat;
  private final SegmentHandler segment;
  private final ServerConfig config;

  private DamServer(
      HttpServer http,
      ExecutorService executor,
      ChatHandler chat,
      DescribeAnything dam,
      ServerConfig config) {
    this.http = http;
    this.executor = executor;
    this.chat = chat;
    this.segment = new SegmentHandler(dam, config, MAPPER);
    this.config = config;
  }

  /** Binds and starts serving; the model stays owned by the caller. */
  public static DamServer start(DescribeAnything dam, ServerConfig config) throws IOException {
    HttpServer http = HttpServer.create(new InetSocketAddress(config.host(), config.port()), 128);
    AtomicInteger n = new AtomicInteger();
    ThreadPoolExecutor executor =
        new ThreadPoolExecutor(
            2,
            256,
            30,
            TimeUnit.SECONDS,
            new SynchronousQueue<>(),
            r -> {
              Thread t = new Thread(r, "dam-http-" + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            },
            new ThreadPoolExecutor.CallerRunsPolicy());
    http.setExecutor(executor);
    ChatHandler chat = new ChatHandler(dam, config, MAPPER);
    DamServer server = new DamServer(http, executor, chat, dam, config);
    http.createContext("/", server::route);
    http.start();
    return server;
  }

  /** The bound port (useful with port 0). */
  public int port() {
    return http.getAddress().getPort();
  }

  /** Generations running or waiting right now. */
  public int inFlight() {
    return chat.inFlight();
  }

  /** Blocks until the JVM is interrupted. */
  public void awaitShutdown() throws InterruptedException {
    new java.util.concurrent.CountDownLatch(1).await();
  }

  @Override
  public void close() {
    http.stop(0);
    executor.shutdownNow();
  }

  private void route(HttpExchange ex) throws IOException {
    try (ex) {
      try {
        String path = ex.getRequestURI().getPath();
        String method = ex.getRequestMethod();
        if (path.equals("/health")) {
          requireMethod(method, "GET");
          sendJson(ex, 200, MAPPER.createObjectNode().put("status", "ok"));
          return;
        }
        if (StaticPages.handles(path)) {
          StaticPages.serve(ex, path);
          return;
        }
        authorize(ex);
        switch (path) {
          case "/v1/models" -> {
            requireMethod(method, "GET");
            ObjectNode root = MAPPER.createObjectNode().put("object", "list");
            root.putArray("data")
                .addObject()
                .put("id", config.modelName())
                .put("object", "model")
                .put("created", 0)
                .put("owned_by", "nvidia");
            sendJson(ex, 200, root);
          }
          case "/chat/completions", "/v1/chat/completions" -> {
            requireMethod(method, "POST");
            chat.handle(ex, readBody(ex), path.startsWith("/v1/"));
          }
          case "/v1/segment" -> {
            requireMethod(method, "POST");
            segment.handle(ex, readBody(ex));
          }
          default -> throw new ApiError(404, "not_found", "no such endpoint: " + path);
        }
      } catch (ApiError e) {
        sendError(ex, e.status, e.type, e.getMessage());
      } catch (InvalidInputException e) {
        sendError(ex, 400, "invalid_request_error", e.getMessage());
      } catch (DamException e) {
        sendError(ex, 500, "server_error", e.getMessage());
      } catch (IOException e) {
        // The client went away; nothing to answer.
      } catch (RuntimeException e) {
        sendError(ex, 500, "server_error", "internal error (" + e.getClass().getSimpleName() + ")");
      }
    }
  }

  private static void requireMethod(String method, String expected) {
    if (!method.equals(expected)) {
      throw new ApiError(405, "invalid_request_error", "use " + expected);
    }
  }

  private void authorize(HttpExchange ex) {
    if (config.apiKey().isEmpty()) {
      return;
    }
    String h = ex.getRequestHeaders().getFirst("Authorization");
    byte[] given = (h == null ? "" : h).getBytes(StandardCharsets.UTF_8);
    byte[] expected = ("Bearer " + config.apiKey().get()).getBytes(StandardCharsets.UTF_8);
    if (!MessageDigest.isEqual(given, expected)) {
      throw new ApiError(401, "invalid_api_key", "missing or wrong API key");
    }
  }

  private byte[] readBody(HttpExchange ex) throws IOException {
    String len = ex.getRequestHeaders().getFirst("Content-Length");
    if (len != null) {
      try {
        // Far too large: refuse without reading (the client may see the connection reset).
        // Slightly too large: read up to the limit below so the 413 reaches the client.
        if (Long.parseLong(len.trim()) > config.maxBodyBytes() + (64 << 10)) {
          throw tooLarge();
        }
      } catch (NumberFormatException e) {
        throw ApiError.badRequest("bad Content-Length");
      }
    }
    InputStream in = ex.getRequestBody();
    byte[] body = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, config.maxBodyBytes() + 1));
    if (body.length > config.maxBodyBytes()) {
      throw tooLarge();
    }
    return body;
  }

  private ApiError tooLarge() {
    return new ApiError(
        413,
        "invalid_request_error",
        "request body is larger than " + config.maxBodyBytes() + " bytes");
  }

  static void sendJson(HttpExchange ex, int status, Object body) throws IOException {
    byte[] b = MAPPER.writeValueAsBytes(body);
    ex.getResponseHeaders().set("Content-Type", "application/json");
    ex.sendResponseHeaders(status, b.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(b);
    }
  }

  static void sendError(HttpExchange ex, int status, String type, String message) {
    try {
      ObjectNode root = MAPPER.createObjectNode();
      root.putObject("error")
          .put("message", message)
          .put("type", type)
          .putNull("param")
          .put("code", type);
      if (status == 503) {
        ex.getResponseHeaders().set("Retry-After", "1");
      }
      sendJson(ex, status, root);
    } catch (IOException | RuntimeException ignored) {
      // Headers already sent or client gone: nothing more can be said.
    }
  }
}

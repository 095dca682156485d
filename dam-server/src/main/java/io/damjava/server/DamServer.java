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
import java.util.concurrent.Semaphore;
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

  /** Beyond this many unread bytes (or seconds), a refused body is cut off instead of drained. */
  private static final long DRAIN_MAX_BYTES = 1L << 30;

  private static final String NODELAY = "sun.net.httpserver.nodelay";

  private static final long DRAIN_MAX_NANOS = TimeUnit.SECONDS.toNanos(30);

  private final HttpServer http;
  private final ExecutorService executor;
  private final ChatHandler chat;
  private final SegmentHandler segment;
  private final ServerConfig config;
  private final long startedAt = System.currentTimeMillis() / 1000;

  /**
   * Chat requests holding a body in memory (reading, decoding, waiting or generating): bounded so
   * that heap use is bounded, whatever the number of connections.
   */
  private final Semaphore bodies;

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
    this.bodies = new Semaphore(config.maxConcurrent() + config.queueSize());
  }

  /** Binds and starts serving; the model stays owned by the caller. */
  public static DamServer start(DescribeAnything dam, ServerConfig config) throws IOException {
    // Without TCP_NODELAY every fixed-length answer (headers, then body) waits out the client's
    // delayed ACK: 40 ms per request on Linux. The JDK reads this once, when its server first
    // loads.
    if (System.getProperty(NODELAY) == null) {
      System.setProperty(NODELAY, "true");
    }
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
          drain(ex);
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
                .put("created", startedAt)
                .put("owned_by", "nvidia");
            drain(ex);
            sendJson(ex, 200, root);
          }
          case "/chat/completions", "/v1/chat/completions" -> {
            requireMethod(method, "POST");
            if (!bodies.tryAcquire()) {
              throw new ApiError(503, "server_busy", "the server is busy: retry shortly");
            }
            try {
              chat.handle(ex, readBody(ex), path.startsWith("/v1/"));
            } finally {
              bodies.release();
            }
          }
          case "/v1/segment" -> {
            requireMethod(method, "POST");
            segment.handle(ex, readBody(ex));
          }
          default -> throw new ApiError(404, "not_found", "no such endpoint: " + path);
        }
      } catch (ApiError e) {
        drainThenError(ex, e.status, e.type, e.getMessage());
      } catch (InvalidInputException e) {
        drainThenError(ex, 400, "invalid_request_error", e.getMessage());
      } catch (DamException e) {
        drainThenError(ex, 500, "server_error", e.getMessage());
      } catch (IOException e) {
        // The client went away; nothing to answer.
      } catch (RuntimeException e) {
        drainThenError(
            ex, 500, "server_error", "internal error (" + e.getClass().getSimpleName() + ")");
      }
    }
  }

  private static void drainThenError(HttpExchange ex, int status, String type, String message) {
    drain(ex);
    sendError(ex, status, type, message);
  }

  /**
   * Reads and drops what is left of the request body before an answer is sent. The JDK server
   * closes a connection whose request body is unread when the response ends, and the kernel then
   * sends a reset that destroys the answer (a 413 for a 100 MB body never arrived); draining lets
   * the client read it. Bounded in bytes and time: past that, the connection is cut.
   */
  private static void drain(HttpExchange ex) {
    long deadline = System.nanoTime() + DRAIN_MAX_NANOS;
    byte[] buf = new byte[64 << 10];
    long total = 0;
    try {
      InputStream in = ex.getRequestBody();
      for (int r; (r = in.read(buf)) >= 0; ) {
        total += r;
        if (total > DRAIN_MAX_BYTES || System.nanoTime() > deadline) {
          return;
        }
      }
    } catch (IOException | RuntimeException ignored) {
      // The client went away: nothing left to protect.
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
        // Refused without keeping it: route() drains (reads and drops) it before the 413.
        if (Long.parseLong(len.trim()) > config.maxBodyBytes()) {
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

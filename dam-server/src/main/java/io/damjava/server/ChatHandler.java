package io.damjava.server;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import io.damjava.api.Cancellation;
import io.damjava.api.Caption;
import io.damjava.api.DescribeAnything;
import io.damjava.api.DescribeRequest;
import io.damjava.api.FrameSource;
import io.damjava.api.Mask;
import io.damjava.api.Region;
import io.damjava.api.StopReason;
import io.damjava.api.VideoRegion;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Runs chat completions with admission control: at most {@code maxConcurrent} generations run and
 * {@code queueSize} wait; the rest get 503 with Retry-After. Each running generation calls the
 * engine on its own HTTP thread: the engine batches concurrent calls (they share decode steps) and
 * hands every call its own tokens on that thread, so each SSE stream is written by the thread of
 * its request alone and a slow client slows only itself. A client that disconnects while streaming
 * cancels its generation at the next token; so does the request timeout.
 */
final class ChatHandler {
  /** After the request timeout, how long a blocked write may go on before it is interrupted. */
  private static final long WRITE_GRACE_MS = 1000;

  private final DescribeAnything dam;
  private final ServerConfig config;
  private final ObjectMapper mapper;
  private final Semaphore admitted;
  private final Semaphore running;
  private final ScheduledExecutorService timer;

  ChatHandler(DescribeAnything dam, ServerConfig config, ObjectMapper mapper) {
    this.dam = dam;
    this.config = config;
    this.mapper = mapper;
    this.admitted = new Semaphore(config.maxConcurrent() + config.queueSize());
    this.running = new Semaphore(config.maxConcurrent(), true);
    this.timer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "dam-request-timeout");
              t.setDaemon(true);
              return t;
            });
  }

  int inFlight() {
    return config.maxConcurrent() + config.queueSize() - admitted.availablePermits();
  }

  void handle(HttpExchange ex, byte[] body, boolean openAiShape) throws IOException {
    ChatRequest req = ChatRequest.parse(mapper, body, config);
    if (!admitted.tryAcquire()) {
      throw new ApiError(503, "server_busy", "the server is busy: retry shortly");
    }
    try {
      if (!running.tryAcquire(config.requestTimeout().toMillis(), TimeUnit.MILLISECONDS)) {
        throw new ApiError(503, "server_busy", "timed out waiting for a free generation slot");
      }
      try {
        generate(ex, req, openAiShape);
      } finally {
        running.release();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ApiError(503, "server_busy", "interrupted");
    } finally {
      admitted.release();
    }
  }

  private void generate(HttpExchange ex, ChatRequest req, boolean openAiShape) throws IOException {
    Cancellation cancel = new Cancellation();
    Thread worker = Thread.currentThread();
    AtomicBoolean finished = new AtomicBoolean();
    ScheduledFuture<?> timeout =
        timer.schedule(
            () -> {
              cancel.cancel();
              // A client that stopped reading leaves this thread blocked in a write, where the
              // cancellation is never seen: interrupting closes the connection's channel.
              timer.schedule(
                  () -> {
                    synchronized (finished) {
                      if (!finished.get()) {
                        worker.interrupt();
                      }
                    }
                  },
                  WRITE_GRACE_MS,
                  TimeUnit.MILLISECONDS);
            },
            config.requestTimeout().toMillis(),
            TimeUnit.MILLISECONDS);
    try {
      DescribeRequest request = describeRequest(req).cancellation(cancel);
      String id = (openAiShape ? "chatcmpl-" : "") + UUID.randomUUID().toString().replace("-", "");
      if (!req.stream()) {
        Caption c = dam.describe(request);
        DamServer.sendJson(
            ex, 200, openAiShape ? openAiCompletion(id, req, c) : referenceCompletion(id, req, c));
        return;
      }
      ex.getResponseHeaders().set("Content-Type", "text/event-stream");
      ex.getResponseHeaders().set("Cache-Control", "no-cache");
      ex.sendResponseHeaders(200, 0);
      OutputStream out = ex.getResponseBody();
      SseWriter sse = new SseWriter(out, cancel);
      long created = System.currentTimeMillis() / 1000;
      if (openAiShape) {
        sse.send(json(openAiChunk(id, req, created)));
      }
      Caption c;
      try {
        c =
            dam.describe(
                request.listener(
                    delta ->
                        sse.send(
                            json(
                                openAiShape
                                    ? openAiDelta(id, req, created, delta)
                                    : referenceDelta(id, req, created, delta)))));
      } catch (RuntimeException e) {
        if (!sse.broken()) {
          ObjectNode err = mapper.createObjectNode();
          err.putObject("error")
              .put("message", String.valueOf(e.getMessage()))
              .put("type", "server_error");
          sse.send(json(err));
          sse.done();
        }
        return;
      }
      if (sse.broken()) {
        return;
      }
      if (openAiShape) {
        ObjectNode last = openAiChunk(id, req, created);
        ObjectNode choice = (ObjectNode) last.get("choices").get(0);
        choice.putObject("delta");
        choice.put("finish_reason", finishReason(c));
        sse.send(json(last));
        if (req.includeUsage()) {
          ObjectNode usage = openAiChunk(id, req, created);
          usage.putArray("choices");
          usage.set("usage", usage(c));
          sse.send(json(usage));
        }
      } else {
        ObjectNode last = mapper.createObjectNode();
        last.putArray("choices").addObject().put("finish_reason", "stop");
        sse.send(json(last));
      }
      sse.done();
    } finally {
      timeout.cancel(false);
      synchronized (finished) {
        finished.set(true);
      }
      Thread.interrupted(); // a late interrupt must not reach the pool's next task
    }
  }

  private static DescribeRequest describeRequest(ChatRequest req) {
    if (req.regionFrame() >= 0) {
      return DescribeRequest.video(
              new VideoRegion(
                  FrameSource.of(req.frames()), req.regionFrame(), req.regions().get(0)))
          .options(req.options());
    }
    if (req.frames().size() == 1) {
      return DescribeRequest.of(req.frames().get(0), req.regions().get(0)).options(req.options());
    }
    List<Mask> masks = req.regions().stream().map(r -> ((Region.MaskRegion) r).mask()).toList();
    return DescribeRequest.video(req.frames(), masks).options(req.options());
  }

  private String json(Object o) {
    try {
      return mapper.writeValueAsString(o);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String finishReason(Caption c) {
    return c.stopReason() == StopReason.MAX_TOKENS ? "length" : "stop";
  }

  private ObjectNode referenceCompletion(String id, ChatRequest req, Caption c) {
    ObjectNode root = mapper.createObjectNode();
    root.put("id", id)
        .put("object", "chat.completion")
        .put("created", System.currentTimeMillis() / 1000.0);
    root.put("model", req.model());
    root.putArray("choices")
        .addObject()
        .putObject("message")
        .put("role", "assistant")
        .put("content", c.text());
    return root;
  }

  private ObjectNode openAiCompletion(String id, ChatRequest req, Caption c) {
    ObjectNode root = mapper.createObjectNode();
    root.put("id", id)
        .put("object", "chat.completion")
        .put("created", System.currentTimeMillis() / 1000);
    root.put("model", req.model());
    ObjectNode choice = root.putArray("choices").addObject();
    choice.put("index", 0);
    choice.putObject("message").put("role", "assistant").put("content", c.text());
    choice.put("finish_reason", finishReason(c));
    root.set("usage", usage(c));
    return root;
  }

  private ObjectNode usage(Caption c) {
    ObjectNode u = mapper.createObjectNode();
    u.put("prompt_tokens", c.promptTokens());
    u.put("completion_tokens", c.tokenCount());
    u.put("total_tokens", c.promptTokens() + c.tokenCount());
    return u;
  }

  private ObjectNode referenceDelta(String id, ChatRequest req, long created, String text) {
    ObjectNode root = mapper.createObjectNode();
    root.put("id", id)
        .put("object", "chat.completion.chunk")
        .put("created", created)
        .put("model", req.model());
    ObjectNode choice = root.putArray("choices").addObject();
    choice.putObject("delta").putArray("content").addObject().put("type", "text").put("text", text);
    choice.putNull("finish_reason");
    return root;
  }

  private ObjectNode openAiChunk(String id, ChatRequest req, long created) {
    ObjectNode root = mapper.createObjectNode();
    root.put("id", id)
        .put("object", "chat.completion.chunk")
        .put("created", created)
        .put("model", req.model());
    ObjectNode choice = root.putArray("choices").addObject();
    choice.put("index", 0);
    choice.putObject("delta").put("role", "assistant").put("content", "");
    choice.putNull("finish_reason");
    return root;
  }

  private ObjectNode openAiDelta(String id, ChatRequest req, long created, String text) {
    ObjectNode root = openAiChunk(id, req, created);
    ObjectNode choice = (ObjectNode) root.get("choices").get(0);
    choice.putObject("delta").put("content", text);
    return root;
  }

  /** Writes SSE events; the first failed write marks the stream broken and cancels generation. */
  static final class SseWriter {
    private final OutputStream out;
    private final Cancellation cancel;
    private boolean broken;

    SseWriter(OutputStream out, Cancellation cancel) {
      this.out = out;
      this.cancel = cancel;
    }

    void send(String json) {
      write("data: " + json + "\n\n");
    }

    void done() {
      write("data: [DONE]\n\n");
    }

    boolean broken() {
      return broken;
    }

    private void write(String s) {
      if (broken) {
        return;
      }
      try {
        out.write(s.getBytes(StandardCharsets.UTF_8));
        out.flush();
      } catch (IOException e) {
        broken = true;
        cancel.cancel();
      }
    }
  }
}

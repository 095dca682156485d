package io.damjava.server;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * Settings of the OpenAI-compatible server. Safe defaults: loopback only, up to {@value
 * #DEFAULT_MAX_BATCH} generations at once (decoded together), a short queue, 32 MB bodies, no
 * remote image fetching, no API key.
 *
 * @param host address to bind; {@code 127.0.0.1} by default
 * @param port TCP port; 0 picks a free one
 * @param modelName the model id clients send (besides {@code describe_anything_model})
 * @param jointVariant the bundle is the image+video joint checkpoint (accepts 1 or 8 images)
 * @param maxBodyBytes largest request body
 * @param maxImagePixels largest image (width x height) accepted
 * @param requestTimeout a generation still running after this is cancelled
 * @param maxConcurrent the batch limit: generations running at once. Each does its own vision work,
 *     then joins the engine's continuous batch at the next decode step (one decoder run per step
 *     for all of them; see docs/server.md), so the engine's {@code maxBatch} should be at least
 *     this
 * @param queueSize requests waiting for a slot; more get 503 with Retry-After
 * @param apiKey when present, requests need {@code Authorization: Bearer <key>}
 * @param allowRemoteImages fetch http(s) image URLs (off: only data URLs)
 * @param temperature default when a request sends none (the reference server's 0.2)
 * @param topP default when a request sends none (the reference server's 0.9)
 * @param maxTokens default when a request sends none (512)
 */
public record ServerConfig(
    String host,
    int port,
    String modelName,
    boolean jointVariant,
    long maxBodyBytes,
    long maxImagePixels,
    Duration requestTimeout,
    int maxConcurrent,
    int queueSize,
    Optional<String> apiKey,
    boolean allowRemoteImages,
    double temperature,
    double topP,
    int maxTokens) {
  /** The default batch limit ({@link #maxConcurrent}). */
  public static final int DEFAULT_MAX_BATCH = 8;

  public ServerConfig {
    Objects.requireNonNull(host, "host");
    Objects.requireNonNull(modelName, "modelName");
    Objects.requireNonNull(requestTimeout, "requestTimeout");
    Objects.requireNonNull(apiKey, "apiKey");
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port must be 0..65535, got " + port);
    }
    if (maxConcurrent < 1 || queueSize < 0) {
      throw new IllegalArgumentException("maxConcurrent must be >= 1 and queueSize >= 0");
    }
    if (maxBodyBytes < 1024 || maxImagePixels < 1) {
      throw new IllegalArgumentException("maxBodyBytes and maxImagePixels are too small");
    }
  }

  /** Defaults for a model id. */
  public static ServerConfig defaults(String modelName, boolean jointVariant) {
    Builder b = new Builder();
    b.modelName = modelName;
    b.jointVariant = jointVariant;
    return b.build();
  }

  public ServerConfig withPort(int p) {
    Builder b = toBuilder();
    b.port = p;
    return b.build();
  }

  public ServerConfig withHost(String h) {
    Builder b = toBuilder();
    b.host = h;
    return b.build();
  }

  /**
   * The batch limit (generations at once, decoded together), requests waiting for a place in the
   * batch, and the per-request timeout.
   */
  public ServerConfig withLimits(int concurrent, int queue, Duration timeout) {
    Builder b = toBuilder();
    b.maxConcurrent = concurrent;
    b.queueSize = queue;
    b.requestTimeout = timeout;
    return b.build();
  }

  public ServerConfig withApiKey(String key) {
    Builder b = toBuilder();
    b.apiKey = Optional.of(key);
    return b.build();
  }

  public ServerConfig withMaxBodyBytes(long max) {
    Builder b = toBuilder();
    b.maxBodyBytes = max;
    return b.build();
  }

  /** The largest image (width x height), checked on the declared size before decoding. */
  public ServerConfig withMaxImagePixels(long max) {
    Builder b = toBuilder();
    b.maxImagePixels = max;
    return b.build();
  }

  public ServerConfig withRemoteImages(boolean allow) {
    Builder b = toBuilder();
    b.allowRemoteImages = allow;
    return b.build();
  }

  private Builder toBuilder() {
    Builder b = new Builder();
    b.host = host;
    b.port = port;
    b.modelName = modelName;
    b.jointVariant = jointVariant;
    b.maxBodyBytes = maxBodyBytes;
    b.maxImagePixels = maxImagePixels;
    b.requestTimeout = requestTimeout;
    b.maxConcurrent = maxConcurrent;
    b.queueSize = queueSize;
    b.apiKey = apiKey;
    b.allowRemoteImages = allowRemoteImages;
    b.temperature = temperature;
    b.topP = topP;
    b.maxTokens = maxTokens;
    return b;
  }

  /** The defaults, changed field by field by the withers above. */
  private static final class Builder {
    String host = "127.0.0.1";
    int port = 8000;
    String modelName;
    boolean jointVariant;
    long maxBodyBytes = 32L << 20;
    long maxImagePixels = 50_000_000L;
    Duration requestTimeout = Duration.ofMinutes(5);
    int maxConcurrent = DEFAULT_MAX_BATCH;
    int queueSize = 8;
    Optional<String> apiKey = Optional.empty();
    boolean allowRemoteImages;
    double temperature = 0.2;
    double topP = 0.9;
    int maxTokens = 512;

    ServerConfig build() {
      return new ServerConfig(
          host,
          port,
          modelName,
          jointVariant,
          maxBodyBytes,
          maxImagePixels,
          requestTimeout,
          maxConcurrent,
          queueSize,
          apiKey,
          allowRemoteImages,
          temperature,
          topP,
          maxTokens);
    }
  }
}

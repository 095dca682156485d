package io.damjava.api.spi;

import io.damjava.api.Device;
import io.damjava.api.GenerationOptions;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * What the builder collected for an engine.
 *
 * @param model the bundle directory
 * @param segmenter a SAM or SAM 2.1 bundle directory, if any
 * @param device where to run
 * @param cpuFallback run on CPU when the device cannot be used
 * @param threads intra-op threads, 0 = runtime default
 * @param defaultOptions options for calls that pass none
 * @param maxBatch sequences of concurrent calls that may decode together (continuous batching); 1
 *     makes every call decode alone
 */
public record EngineConfig(
    Path model,
    Optional<Path> segmenter,
    Device device,
    boolean cpuFallback,
    int threads,
    GenerationOptions defaultOptions,
    int maxBatch) {
  /** The default of {@link #maxBatch}. */
  public static final int DEFAULT_MAX_BATCH = 8;

  public EngineConfig {
    Objects.requireNonNull(model, "model");
    Objects.requireNonNull(segmenter, "segmenter");
    Objects.requireNonNull(device, "device");
    Objects.requireNonNull(defaultOptions, "defaultOptions");
    if (maxBatch < 1) {
      throw new IllegalArgumentException("maxBatch must be >= 1, got " + maxBatch);
    }
  }

  /** A config with the default batch limit. */
  public EngineConfig(
      Path model,
      Optional<Path> segmenter,
      Device device,
      boolean cpuFallback,
      int threads,
      GenerationOptions defaultOptions) {
    this(model, segmenter, device, cpuFallback, threads, defaultOptions, DEFAULT_MAX_BATCH);
  }
}

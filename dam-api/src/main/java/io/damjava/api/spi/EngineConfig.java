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
 */
public record EngineConfig(
    Path model,
    Optional<Path> segmenter,
    Device device,
    boolean cpuFallback,
    int threads,
    GenerationOptions defaultOptions) {
  public EngineConfig {
    Objects.requireNonNull(model, "model");
    Objects.requireNonNull(segmenter, "segmenter");
    Objects.requireNonNull(device, "device");
    Objects.requireNonNull(defaultOptions, "defaultOptions");
  }
}

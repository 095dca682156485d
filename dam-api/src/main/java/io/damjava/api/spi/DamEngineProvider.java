package io.damjava.api.spi;

import io.damjava.api.DescribeAnything;

/**
 * Service-provider interface between the API and an engine. An engine registers its implementation
 * in {@code META-INF/services/io.damjava.api.spi.DamEngineProvider}; {@link
 * DescribeAnything.Builder#build()} finds it. Applications never call this directly.
 */
public interface DamEngineProvider {
  /** A short unique name, e.g. {@code onnxruntime}. */
  String name();

  /** Loads a model; failures throw {@link io.damjava.api.ModelLoadException} subtypes. */
  DescribeAnything create(EngineConfig config);
}

package io.damjava.onnx;

import io.damjava.api.DescribeAnything;
import io.damjava.api.spi.DamEngineProvider;
import io.damjava.api.spi.EngineConfig;

/**
 * Registers the ONNX Runtime engine with {@code DescribeAnything.builder()} through {@link
 * java.util.ServiceLoader}. Applications never use this class directly.
 */
public final class OnnxEngineProvider implements DamEngineProvider {
  /** The engine name for {@code builder().engine(name)}. */
  public static final String NAME = "onnxruntime";

  /** For {@link java.util.ServiceLoader}. */
  public OnnxEngineProvider() {}

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public DescribeAnything create(EngineConfig config) {
    return OnnxDescribeAnything.load(config, TextTokenizers::load);
  }
}

package io.damjava.onnx;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The tiny-image checkpoint converted by dam-convert, committed under {@code
 * resources/converted/<name>}: {@code contrib} (fp32, growing KV cache), {@code shared} ({@code
 * --kv shared}), {@code standard} ({@code --style standard}), {@code int8}, {@code int4}.
 * dam-convert's ConvertedTestBundlesTest fails when they are stale and says how to regenerate them
 * (docs/engine.md, Tests).
 */
final class ConvertedBundles {
  static final Path DIR = Path.of("src/test/resources/converted");

  private ConvertedBundles() {}

  /** The bundle directory of one configuration. */
  static Path dir(String name) {
    Path d = DIR.resolve(name);
    if (!Files.isRegularFile(d.resolve("dam-bundle.json"))) {
      throw new IllegalStateException(
          d.toAbsolutePath() + " holds no bundle (see dam-convert's ConvertedTestBundlesTest)");
    }
    return d;
  }
}

package io.damjava.onnx.bundle;

import java.nio.file.Path;
import java.util.Optional;

/**
 * Where the engine keeps what it derives from bundles on this machine: the checksums it has
 * verified ({@code verified/}, see {@link VerifiedDigests}).
 *
 * <p>The folder is {@code -Ddam.cache.dir=DIR}, else {@code $DAM_HOME}, else {@code
 * ~/.cache/dam-java} (the CLI's model cache root). {@code -Ddam.cache.dir=off} (or {@code
 * DAM_CACHE=off}) turns it off: every load hashes every file. Everything in it can be deleted at
 * any time; it is remade on the next load.
 */
public final class LocalCache {
  private LocalCache() {}

  /** The cache root, or empty when caching is off. */
  public static Optional<Path> root() {
    String p = System.getProperty("dam.cache.dir");
    if ("off".equals(p) || "off".equals(System.getenv("DAM_CACHE"))) {
      return Optional.empty();
    }
    if (p != null && !p.isBlank()) {
      return Optional.of(Path.of(p));
    }
    String home = System.getenv("DAM_HOME");
    if (home != null && !home.isBlank()) {
      return Optional.of(Path.of(home));
    }
    return Optional.of(Path.of(System.getProperty("user.home"), ".cache", "dam-java"));
  }
}

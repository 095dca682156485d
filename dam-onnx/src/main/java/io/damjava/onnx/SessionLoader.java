package io.damjava.onnx;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.damjava.api.ModelLoadException;
import io.damjava.onnx.bundle.BundleManifest;
import io.damjava.onnx.bundle.LocalCache;
import io.damjava.onnx.bundle.VerifiedDigests;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Creates the sessions of a bundle, choosing per graph how its weights reach memory. Creating a
 * session is dominated by pre-packing (ONNX Runtime copies each constant weight into its kernel's
 * layout): about 3 s per fp32 vision graph and 9 s for an int4 DAM-3B decoder on 2 cores.
 *
 * <ul>
 *   <li>{@link Weights#MAPPED}: no pre-packing. The weights stay in the memory-mapped external data
 *       file, so the session costs no heap, starts in milliseconds, and two graphs that reference
 *       the same data file (the two vision graphs) share its pages. Used for the vision graphs,
 *       whose large matrix products lose little without packed weights.
 *   <li>{@link Weights#CACHED}: pre-packed once, then reused. The first load writes ONNX Runtime's
 *       optimized graph with its pre-packed weights into {@link LocalCache}{@code /sessions/<key>};
 *       later loads map that file. The key covers the graph's and its data file's SHA-256, the ONNX
 *       Runtime version and the CPU's feature flags (the packed layout depends on them). Used for
 *       the decoder on the CPU; anything that fails while writing the cache falls back to a normal
 *       session.
 *   <li>{@link Weights#PREPACKED}: ONNX Runtime's default.
 * </ul>
 */
final class SessionLoader {
  /** How one graph's weights are loaded. */
  enum Weights {
    MAPPED,
    CACHED,
    PREPACKED
  }

  private static final String FORMAT = "dam-session-cache/1";
  private final OrtRuntime.Setup rt;
  private final Consumer<OrtSession.SessionOptions> customize;
  private final Optional<Path> cacheRoot;

  /**
   * @param customize applied to every session's options (profiling in benchmarks), may be a no-op
   */
  SessionLoader(OrtRuntime.Setup rt, Consumer<OrtSession.SessionOptions> customize) {
    this(rt, customize, LocalCache.root().map(r -> r.resolve("sessions")));
  }

  SessionLoader(
      OrtRuntime.Setup rt, Consumer<OrtSession.SessionOptions> customize, Optional<Path> root) {
    this.rt = rt;
    this.customize = customize;
    this.cacheRoot = rt.cuda() ? Optional.empty() : root;
  }

  OrtRuntime.Setup runtime() {
    return rt;
  }

  OrtSession open(
      Path dir,
      String role,
      BundleManifest.GraphSpec spec,
      Weights weights,
      List<BundleManifest.FileEntry> files) {
    Path file = dir.resolve(spec.file());
    try {
      if (weights == Weights.CACHED && cacheRoot.isPresent()) {
        Optional<String> key = key(spec, files);
        if (key.isPresent()) {
          OrtSession s = cached(file, cacheRoot.get().resolve(key.get()), spec.file());
          if (s != null) {
            return s;
          }
        }
      }
      try (OrtSession.SessionOptions o = rt.fresh()) {
        customize.accept(o);
        if (weights == Weights.MAPPED && !rt.cuda()) {
          o.addConfigEntry("session.disable_prepacking", "1");
        }
        return rt.env().createSession(file.toString(), o);
      }
    } catch (OrtException e) {
      throw new ModelLoadException(
          "cannot load graph " + role + " (" + spec.file() + "): " + e.getMessage(), e);
    }
  }

  /** A session from the cache, made and stored first when missing; null if the cache fails. */
  private OrtSession cached(Path source, Path entry, String name) throws OrtException {
    Path graph = entry.resolve(name);
    Path data = entry.resolve(name + ".data");
    Path done = entry.resolve("complete");
    if (Files.isRegularFile(done) && intact(done, graph, data)) {
      try (OrtSession.SessionOptions o = rt.fresh()) {
        customize.accept(o);
        o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.NO_OPT);
        return rt.env().createSession(graph.toString(), o);
      }
    }
    Path tmp = null;
    try {
      Files.createDirectories(entry.getParent());
      tmp = Files.createTempDirectory(entry.getParent(), ".making-");
      OrtSession s;
      try (OrtSession.SessionOptions o = rt.fresh()) {
        customize.accept(o);
        o.setOptimizedModelFilePath(tmp.resolve(name).toString());
        o.addConfigEntry("session.optimized_model_external_initializers_file_name", name + ".data");
        o.addConfigEntry("session.optimized_model_external_initializers_min_size_in_bytes", "1024");
        o.addConfigEntry("session.save_external_prepacked_constant_initializers", "1");
        s = rt.env().createSession(source.toString(), o);
      }
      try {
        if (!Files.isRegularFile(tmp.resolve(name + ".data"))) {
          return s; // nothing was large enough to externalise: not worth caching
        }
        deleteTree(entry);
        Files.move(tmp, entry);
        tmp = null;
        Files.writeString(
            done,
            FORMAT
                + "\n"
                + VerifiedDigests.sha256(graph)
                + "\n"
                + VerifiedDigests.sha256(data)
                + "\n",
            StandardCharsets.UTF_8);
      } catch (IOException e) {
        // the session works; only the cache could not be kept
      }
      return s;
    } catch (IOException e) {
      return null;
    } finally {
      if (tmp != null) {
        deleteTree(tmp);
      }
    }
  }

  /**
   * The cache entry's files are those it recorded (a memo lookup, not a re-read, when unchanged).
   */
  private static boolean intact(Path done, Path graph, Path data) {
    try {
      List<String> lines = Files.readAllLines(done, StandardCharsets.UTF_8);
      return lines.size() == 3
          && lines.get(0).equals(FORMAT)
          && lines.get(1).equals(VerifiedDigests.sha256(graph))
          && lines.get(2).equals(VerifiedDigests.sha256(data));
    } catch (IOException e) {
      return false;
    }
  }

  private Optional<String> key(
      BundleManifest.GraphSpec spec, List<BundleManifest.FileEntry> files) {
    StringBuilder k = new StringBuilder(FORMAT).append('\n');
    boolean haveData = false;
    for (BundleManifest.FileEntry f : files) {
      if (f.path().equals(spec.file())) {
        k.append(f.path()).append(' ').append(f.sha256()).append('\n');
      } else if (f.path().startsWith(spec.file() + ".data")) {
        k.append(f.path()).append(' ').append(f.sha256()).append('\n');
        haveData = true;
      }
    }
    if (!haveData) {
      return Optional.empty();
    }
    k.append("ort ").append(rt.env().getVersion()).append('\n');
    k.append("cpu ").append(cpuFlags()).append('\n');
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      String h = HexFormat.of().formatHex(md.digest(k.toString().getBytes(StandardCharsets.UTF_8)));
      return Optional.of(h.substring(0, 32));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK always has SHA-256", e);
    }
  }

  /** The kernel's view of the CPU's features (x86 "flags", Arm "Features"), else the arch. */
  static String cpuFlags() {
    try (Stream<String> lines = Files.lines(Path.of("/proc/cpuinfo"))) {
      Optional<String> f =
          lines.filter(l -> l.startsWith("flags") || l.startsWith("Features")).findFirst();
      if (f.isPresent()) {
        return f.get().substring(f.get().indexOf(':') + 1).trim();
      }
    } catch (IOException | RuntimeException e) {
      // no /proc: fall through
    }
    return System.getProperty("os.arch") + " " + System.getProperty("os.name");
  }

  private static void deleteTree(Path p) {
    if (!Files.exists(p)) {
      return;
    }
    try (Stream<Path> s = Files.walk(p)) {
      for (Path x : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(x);
      }
    } catch (IOException e) {
      // leftovers of a failed cache write are harmless
    }
  }
}

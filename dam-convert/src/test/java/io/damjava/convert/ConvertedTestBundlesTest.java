package io.damjava.convert;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.damjava.onnx.bundle.BundleManifest.KvCache;
import io.damjava.onnx.bundle.BundleManifest.Precision;
import io.damjava.onnx.bundle.BundleManifest.Style;
import io.damjava.onnx.bundle.FileDigest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Keeps the converted bundles that dam-onnx's decoder tests load ({@code
 * dam-onnx/src/test/resources/converted/<name>}: they cannot convert, since dam-onnx cannot depend
 * on dam-convert) equal to what the converter writes today. Each is the tiny-image checkpoint
 * converted with one configuration of {@link #options}, and must equal a fresh conversion (kept in
 * {@code dam-convert/target/converted-test-bundles/<name>}) file for file, byte for byte: the
 * converter is byte-deterministic ({@link BundleOutputTest}), so nothing in a bundle, the manifest
 * included, legitimately varies.
 *
 * <p>When the converter's output changes on purpose, regenerate them with one command (from the
 * repository root) and commit the result:
 *
 * <pre>
 * DAM_REGENERATE_TEST_BUNDLES=1 mvn -B -o -q -pl dam-convert -am test \
 *     -Dtest=ConvertedTestBundlesTest -Dsurefire.failIfNoSpecifiedTests=false
 * </pre>
 *
 * <p>An environment variable because a {@code -D} property on the mvn command line does not reach
 * this module's tests.
 */
class ConvertedTestBundlesTest {
  static final String REGENERATE =
      "DAM_REGENERATE_TEST_BUNDLES=1 mvn -B -o -q -pl dam-convert -am test"
          + " -Dtest=ConvertedTestBundlesTest -Dsurefire.failIfNoSpecifiedTests=false";
  static final Path COMMITTED =
      Path.of("..", "dam-onnx", "src", "test", "resources", "converted")
          .toAbsolutePath()
          .normalize();
  static final Path FRESH = Path.of("target", "converted-test-bundles").toAbsolutePath();

  /** The configurations, by directory name. */
  static ConvertOptions options(String name, Path out) {
    ConvertOptions o = ConvertOptions.of(Goldens.checkpoint("tiny-image"), out);
    return switch (name) {
      case "contrib" -> o;
      case "shared" -> o.withKvCache(KvCache.SHARED);
      case "standard" -> o.withStyle(Style.STANDARD);
      case "int8" -> o.withPrecision(Precision.INT8);
      case "int4" -> o.withPrecision(Precision.INT4);
      default -> throw new IllegalArgumentException(name);
    };
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"contrib", "shared", "standard", "int8", "int4"})
  void committedBundleEqualsAFreshConversion(String name) throws IOException {
    Path fresh = FRESH.resolve(name);
    delete(fresh);
    Converter.run(options(name, fresh));
    Path committed = COMMITTED.resolve(name);
    if ("1".equals(System.getenv("DAM_REGENERATE_TEST_BUNDLES"))) {
      delete(committed);
      Files.createDirectories(committed);
      for (String f : names(fresh)) {
        Files.copy(fresh.resolve(f), committed.resolve(f));
      }
      System.out.println("regenerated " + committed);
    }
    List<String> differences = differences(committed, fresh);
    assertTrue(
        differences.isEmpty(),
        () ->
            "dam-onnx/src/test/resources/converted/"
                + name
                + " is stale: it differs from a fresh conversion ("
                + fresh
                + "):\n  "
                + String.join("\n  ", differences)
                + "\nIf the converter's output changed on purpose, regenerate the committed"
                + " bundles (from the repository root) and commit them:\n  "
                + REGENERATE);
  }

  private static List<String> differences(Path committed, Path fresh) throws IOException {
    List<String> out = new ArrayList<>();
    TreeSet<String> all = new TreeSet<>(names(committed));
    all.addAll(names(fresh));
    for (String f : all) {
      Path a = committed.resolve(f);
      Path b = fresh.resolve(f);
      if (!Files.exists(a)) {
        out.add(f + ": not committed");
      } else if (!Files.exists(b)) {
        out.add(f + ": committed, no longer written");
      } else if (!Arrays.equals(Files.readAllBytes(a), Files.readAllBytes(b))) {
        out.add(
            f
                + ": committed "
                + Files.size(a)
                + " B sha256 "
                + FileDigest.sha256(a)
                + ", fresh "
                + Files.size(b)
                + " B sha256 "
                + FileDigest.sha256(b));
      }
    }
    return out;
  }

  private static List<String> names(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  private static void delete(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}

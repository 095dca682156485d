package io.damjava.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** The repository's reference fixtures, and the tiny bundles converted once per test JVM. */
final class Fixtures {
  static final Path REPO = findRepo();
  static final Path REF = REPO.resolve("tools/reference");
  static final Path INPUTS = REF.resolve("goldens/inputs");
  static final Path CHELSEA = REF.resolve("fixtures/images/chelsea.png");
  static final Path LEFT_EYE = INPUTS.resolve("mask_left_eye.png");
  static final Path RIGHT_EYE = INPUTS.resolve("mask_right_eye.png");

  private static Path tinyImage;
  private static Path tinyJoint;
  private static Path sam2Tiny;

  private Fixtures() {}

  record Result(int code, String out, String err) {}

  static Result run(String... args) {
    return run(Map.of("DAM_PROGRESS", "lines"), args);
  }

  static Result run(Map<String, String> env, String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    Map<String, String> e = new HashMap<>(System.getenv());
    e.put("DAM_HOME", tmp().resolve("dam-home-unused").toString());
    e.putAll(env);
    int code = DamCli.run(args, new PrintWriter(out, true), new PrintWriter(err, true), e);
    return new Result(code, out.toString(), err.toString());
  }

  static Path tmp() {
    return Path.of(System.getProperty("java.io.tmpdir"));
  }

  /** tools/reference/fixtures/tiny-image converted by {@code dam convert} (once per JVM). */
  static synchronized Path tinyImage() {
    if (tinyImage == null) {
      tinyImage = convert("tiny-image");
    }
    return tinyImage;
  }

  /** tools/reference/fixtures/tiny-joint converted by {@code dam convert} (once per JVM). */
  static synchronized Path tinyJoint() {
    if (tinyJoint == null) {
      tinyJoint = convert("tiny-joint");
    }
    return tinyJoint;
  }

  /** tools/reference/fixtures/sam2-tiny converted by {@code dam convert} (once per JVM). */
  static synchronized Path sam2Tiny() {
    if (sam2Tiny == null) {
      sam2Tiny = convert("sam2-tiny");
    }
    return sam2Tiny;
  }

  private static Path convert(String name) {
    try {
      Path out = Files.createTempDirectory("cli-bundles").resolve(name);
      Result r =
          run(
              "convert",
              "--checkpoint",
              REF.resolve("fixtures").resolve(name).toString(),
              "--out",
              out.toString());
      assertEquals(0, r.code(), r.err());
      assertEquals(out.toAbsolutePath().normalize().toString(), r.out().strip());
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static JsonNode golden(String name) {
    try {
      for (JsonNode c :
          new ObjectMapper().readTree(REF.resolve("goldens/index.json").toFile()).get("cases")) {
        if (c.get("name").asText().equals(name)) {
          return c;
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    throw new AssertionError("no golden case " + name);
  }

  static int[] tokens(JsonNode node) {
    int[] t = new int[node.size()];
    for (int i = 0; i < t.length; i++) {
      t[i] = node.get(i).asInt();
    }
    return t;
  }

  private static Path findRepo() {
    Path p = Path.of("").toAbsolutePath();
    while (p != null && !Files.isDirectory(p.resolve("tools/reference/goldens"))) {
      p = p.getParent();
    }
    if (p == null) {
      throw new IllegalStateException("run the tests inside the repository");
    }
    return p;
  }

  /**
   * Encodes numbered frame images ({@code pattern}, ffmpeg's {@code %d} syntax) into the video
   * {@code out} with {@code codec}; fails the test when ffmpeg does.
   */
  static Path encode(Path ffmpeg, Path pattern, int fps, String codec, Path out)
      throws IOException, InterruptedException {
    Process p =
        new ProcessBuilder(
                ffmpeg.toString(),
                "-nostdin",
                "-loglevel",
                "error",
                "-framerate",
                Integer.toString(fps),
                "-i",
                pattern.toString(),
                "-c:v",
                codec,
                out.toString())
            .redirectErrorStream(true)
            .start();
    String log =
        new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    assertEquals(0, p.waitFor(), log);
    return out;
  }
}

package io.damjava.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code ./dam} launcher as a subprocess, run by Maven after {@code package} (the surefire
 * execution {@code launcher-it} in dam-cli/pom.xml) so the shaded jar exists. DAM_SKIP_BUILD=1
 * keeps Maven from being started inside Maven; the build-on-first-use path is tested on a copy of
 * the launcher with a stand-in {@code mvn}.
 */
class LauncherIT {
  private static final Path LAUNCHER = Fixtures.REPO.resolve("dam");
  private static final Path JAR =
      Path.of(
          System.getProperty(
              "dam.jar", Fixtures.REPO.resolve("dam-cli/target/dam.jar").toString()));

  record Proc(int code, String out, String err) {}

  @BeforeAll
  static void needsTheJar() {
    assumeTrue(
        Files.isRegularFile(JAR),
        "skipped: " + JAR + " is missing; run `mvn -pl dam-cli verify` (package builds it)");
  }

  static Proc exec(Path cwd, Map<String, String> env, String... args)
      throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder(args).directory(cwd.toFile());
    pb.environment().put("DAM_SKIP_BUILD", "1");
    pb.environment().putAll(env);
    Path out = Files.createTempFile("launcher", ".out");
    Path err = Files.createTempFile("launcher", ".err");
    pb.redirectOutput(out.toFile()).redirectError(err.toFile());
    Process p = pb.start();
    p.getOutputStream().close();
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("timed out: " + List.of(args));
    }
    return new Proc(
        p.exitValue(),
        Files.readString(out, StandardCharsets.UTF_8),
        Files.readString(err, StandardCharsets.UTF_8));
  }

  /** The README's offline commands, verbatim apart from the output folder. */
  @Test
  void readmeTinyBundleCommandsRunFromTheRepositoryAndFromElsewhere(@TempDir Path dir)
      throws Exception {
    Path bundle = dir.resolve("tiny-dam");
    Proc convert =
        exec(
            Fixtures.REPO,
            Map.of(),
            "./dam",
            "convert",
            "--checkpoint",
            "tools/reference/fixtures/tiny-image",
            "--out",
            bundle.toString());
    assertEquals(0, convert.code(), convert.err());
    assertTrue(convert.err().contains("dam: converted"), convert.err());
    Proc describe =
        exec(
            Fixtures.REPO,
            Map.of(),
            "./dam",
            "describe",
            "--model",
            bundle.toString(),
            "--image",
            "tools/reference/fixtures/images/chelsea.png",
            "--mask",
            "tools/reference/goldens/inputs/mask_left_eye.png");
    assertEquals(0, describe.code(), describe.err());
    assertFalse(describe.out().isBlank());

    // From another directory, absolute paths, greedy: the golden tokens.
    Proc json =
        exec(
            dir,
            Map.of(),
            LAUNCHER.toString(),
            "describe",
            "--model",
            bundle.toString(),
            "--image",
            Fixtures.CHELSEA.toString(),
            "--mask",
            Fixtures.LEFT_EYE.toString(),
            "--temperature",
            "0",
            "--max-new-tokens",
            "32",
            "--json");
    assertEquals(0, json.code(), json.err());
    JsonNode c = new ObjectMapper().readTree(json.out());
    JsonNode g = Fixtures.golden("chelsea_left_eye");
    assertArrayEquals(Fixtures.tokens(g.get("tokens")), Fixtures.tokens(c.get("tokenIds")));
    assertEquals(g.get("text").asText().strip(), c.get("text").asText());
  }

  /** The video-from-one-frame path of docs/cli.md through the launcher, on a frame folder. */
  @Test
  void videoFromOneAnnotatedFrameThroughTheLauncher(@TempDir Path dir) throws Exception {
    Path sam2 = dir.resolve("sam2");
    Path joint = dir.resolve("tiny-joint");
    for (String[] c :
        new String[][] {
          {"tools/reference/fixtures/sam2-tiny", sam2.toString()},
          {"tools/reference/fixtures/tiny-joint", joint.toString()}
        }) {
      Proc convert =
          exec(Fixtures.REPO, Map.of(), "./dam", "convert", "--checkpoint", c[0], "--out", c[1]);
      assertEquals(0, convert.code(), convert.err());
    }
    Path overlay = dir.resolve("overlay");
    Proc describe =
        exec(
            Fixtures.REPO,
            Map.of(),
            "./dam",
            "describe",
            "--model",
            joint.toString(),
            "--video",
            "tools/reference/sam2/frames",
            "--frame",
            "3",
            "--box",
            "47,54,79,86",
            "--segmenter",
            sam2.toString(),
            "--max-new-tokens",
            "8",
            "--output-image",
            overlay.toString());
    assertEquals(0, describe.code(), describe.err());
    assertFalse(describe.out().isBlank());
    for (int f : new int[] {0, 1, 3, 5, 7, 9, 11, 13}) {
      assertTrue(Files.isRegularFile(overlay.resolve(String.format("frame_%06d.png", f))));
    }
  }

  @Test
  void exitCodesReachTheShell(@TempDir Path dir) throws Exception {
    Proc usage = exec(dir, Map.of(), LAUNCHER.toString(), "describe", "--bogus");
    assertEquals(DamCli.USAGE, usage.code(), usage.err());
    Proc bad =
        exec(
            dir,
            Map.of(),
            LAUNCHER.toString(),
            "describe",
            "--model",
            "m",
            "--image",
            "missing.jpg",
            "--mask",
            "m.png");
    assertEquals(DamCli.BAD_INPUT, bad.code(), bad.err());
    assertTrue(bad.err().startsWith("dam: image file not found"), bad.err());
    assertFalse(bad.err().contains("\tat "), bad.err());
  }

  @Test
  void aHubIdOfflineSaysHowToConvertALocalCheckpoint(@TempDir Path dir) throws Exception {
    Proc r =
        exec(
            dir,
            Map.of(
                "DAM_HOME", dir.resolve("home").toString(),
                "HF_HOME", dir.resolve("hf").toString(),
                "HF_ENDPOINT", "http://127.0.0.1:9"),
            LAUNCHER.toString(),
            "describe",
            "--model",
            "nvidia/DAM-3B",
            "--image",
            Fixtures.CHELSEA.toString(),
            "--mask",
            Fixtures.LEFT_EYE.toString());
    assertEquals(DamCli.MODEL, r.code(), r.err());
    assertTrue(r.err().contains("downloading and converting it once"), r.err());
    assertTrue(r.err().contains("dam convert --checkpoint"), r.err());
    assertFalse(Files.exists(dir.resolve("home/models/nvidia/DAM-3B")), "no half bundle");
  }

  /**
   * A copy of the launcher in a stand-in repository, with a stand-in {@code mvn}: it builds when
   * the jar is missing or a source is newer, not otherwise, and prints Maven's log when the build
   * fails.
   */
  @Test
  void launcherBuildsOnFirstUseAndWhenSourcesChangeAndShowsAFailedBuildsLog(@TempDir Path dir)
      throws Exception {
    Path root = Files.createDirectories(dir.resolve("repo"));
    Files.copy(LAUNCHER, root.resolve("dam"));
    Path src = Files.createDirectories(root.resolve("dam-cli/src/main/java"));
    Files.writeString(src.resolve("A.java"), "class A {}");
    Files.setLastModifiedTime(src.resolve("A.java"), FileTime.from(Instant.now().minusSeconds(60)));
    Path bin = Files.createDirectories(dir.resolve("bin"));
    Path count = dir.resolve("builds");
    Path mvn = bin.resolve("mvn");
    Files.writeString(
        mvn,
        String.join(
            "\n",
            "#!/bin/sh",
            "echo build >> '" + count + "'",
            "if [ -n \"$FAKE_MVN_FAIL\" ]; then echo '[ERROR] stand-in compile error'; exit 1; fi",
            "mkdir -p dam-cli/target && cp '" + JAR + "' dam-cli/target/dam.jar",
            ""));
    Files.setPosixFilePermissions(mvn, PosixFilePermissions.fromString("rwxr-xr-x"));
    String path = bin + ":" + System.getenv("PATH");
    Path elsewhere = Files.createDirectories(dir.resolve("elsewhere"));
    String dam = root.resolve("dam").toString();

    Proc failed =
        exec(
            elsewhere,
            Map.of("PATH", path, "DAM_SKIP_BUILD", "", "FAKE_MVN_FAIL", "1"),
            "bash",
            dam,
            "--version");
    assertEquals(1, failed.code(), failed.err());
    assertTrue(failed.err().contains("[ERROR] stand-in compile error"), failed.err());
    assertTrue(failed.err().contains("build failed"), failed.err());

    Map<String, String> env = Map.of("PATH", path, "DAM_SKIP_BUILD", "");
    Proc first = exec(elsewhere, env, "bash", dam, "--version");
    assertEquals(0, first.code(), first.err());
    assertTrue(first.out().startsWith("dam "), first.out());
    assertTrue(first.err().contains("building the command line"), first.err());
    assertEquals(2, builds(count));

    Proc second = exec(elsewhere, env, "bash", dam, "--version");
    assertEquals(0, second.code(), second.err());
    assertEquals(2, builds(count), "up to date: no build");

    Files.setLastModifiedTime(src.resolve("A.java"), FileTime.from(Instant.now().plusSeconds(60)));
    Proc changed = exec(elsewhere, env, "bash", dam, "--version");
    assertEquals(0, changed.code(), changed.err());
    assertEquals(3, builds(count), "a newer source rebuilds");
  }

  private static int builds(Path count) throws IOException {
    return new ArrayList<>(Files.readAllLines(count)).size();
  }
}

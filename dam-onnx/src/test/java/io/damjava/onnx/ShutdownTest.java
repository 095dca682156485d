package io.damjava.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGTERM while a graph runs: the JVM must exit with 143 (128 + SIGTERM), not die in ONNX Runtime's
 * static destructors with SIGSEGV (134) and an hs_err file, as it did 2 times in 3 before {@link
 * NativeCalls}. A child JVM describes in a loop on the toy bundle and is killed at varying moments
 * of its loop.
 */
class ShutdownTest {
  @TempDir Path dir;

  @Test
  void sigtermDuringInferenceExitsCleanly() throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    for (int run = 0; run < 4; run++) {
      Path work = Files.createDirectories(dir.resolve("run" + run));
      Process p =
          new ProcessBuilder(
                  java,
                  "-Xmx256m",
                  "-Djava.io.tmpdir=" + work,
                  "-XX:ErrorFile=" + work.resolve("hs_err_%p.log"),
                  "-cp",
                  System.getProperty("java.class.path"),
                  ShutdownChild.class.getName(),
                  EngineTest.TOY.toAbsolutePath().toString())
              .directory(work.toFile())
              .redirectErrorStream(true)
              .start();
      try (BufferedReader out =
          new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        assertEquals("ready", out.readLine(), "the child did not start describing");
        Thread.sleep(200L + 150L * run); // kill at a different point of the loop each time
        p.toHandle().destroy(); // SIGTERM; Process.destroy would also close our end of its output
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the child did not exit after SIGTERM");
        StringBuilder rest = new StringBuilder();
        for (String l; (l = out.readLine()) != null; ) {
          rest.append(l).append('\n');
        }
        List<Path> crashes;
        try (Stream<Path> s = Files.list(work)) {
          crashes = s.filter(f -> f.getFileName().toString().startsWith("hs_err")).toList();
        }
        if (!crashes.isEmpty()) {
          List<String> log = Files.readAllLines(crashes.get(0), StandardCharsets.ISO_8859_1);
          fail(
              "the JVM crashed on SIGTERM:\n"
                  + rest
                  + String.join("\n", log.subList(0, Math.min(60, log.size()))));
        }
        assertEquals(143, p.exitValue(), "exit status after SIGTERM; output:\n" + rest);
      } finally {
        p.destroyForcibly();
      }
    }
  }
}

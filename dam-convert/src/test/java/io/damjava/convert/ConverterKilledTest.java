package io.damjava.convert;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.damjava.api.InvalidBundleException;
import io.damjava.onnx.bundle.ManifestIo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A converter killed (SIGKILL) while writing leaves nothing that loads, and a rerun succeeds. */
class ConverterKilledTest {
  @TempDir Path tmp;

  @Test
  void killedMidWriteLeavesNoBundleAndARerunWorks() throws Exception {
    Path ckpt = Goldens.checkpoint("tiny-image");
    Path out = tmp.resolve("out");
    Path partial = tmp.resolve(".out.converting");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process p =
        new ProcessBuilder(
                java,
                "-cp",
                System.getProperty("java.class.path"),
                Converter.class.getName(),
                "--checkpoint",
                ckpt.toString(),
                "--out",
                out.toString())
            .redirectErrorStream(true)
            .redirectOutput(tmp.resolve("log").toFile())
            .start();
    long t0 = System.nanoTime();
    // Kill as soon as the first graph file has bytes on disk.
    while (p.isAlive() && !hasAFileWithBytes(partial) && System.nanoTime() - t0 < 120e9) {
      Thread.sleep(2);
    }
    boolean killedAlive = p.isAlive();
    p.destroyForcibly();
    assertTrue(p.waitFor(30, TimeUnit.SECONDS));
    Assumptions.assumeTrue(killedAlive, "the conversion finished before it could be killed");

    assertTrue(Files.isDirectory(partial), "the partial output is in the temporary folder");
    assertFalse(Files.exists(out), "no bundle folder until the conversion completes");
    InvalidBundleException e =
        assertThrows(InvalidBundleException.class, () -> ManifestIo.read(out));
    assertTrue(e.getMessage().contains("not a DAM bundle"), e.getMessage());

    Converter.run(ConvertOptions.of(ckpt, out));
    assertTrue(Files.isRegularFile(out.resolve("dam-bundle.json")));
    assertFalse(Files.exists(partial), "the rerun removed the stale temporary folder");
    ManifestIo.read(out).files().forEach(f -> assertTrue(Files.exists(out.resolve(f.path()))));
  }

  private static boolean hasAFileWithBytes(Path dir) {
    if (!Files.isDirectory(dir)) {
      return false;
    }
    try (Stream<Path> s = Files.list(dir)) {
      List<Path> l = s.toList();
      for (Path f : l) {
        if (Files.isRegularFile(f) && Files.size(f) > 0) {
          return true;
        }
      }
    } catch (java.io.IOException e) {
      return false;
    }
    return false;
  }
}

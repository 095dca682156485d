package io.damjava.bench.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The CI fuzz run: a fixed seed, at least 10,000 distinct inputs over every parser, zero untyped
 * failures; and every saved regression input still handled. The long run is {@code ./dam bench
 * fuzz} (docs/RELIABILITY.md).
 */
class FuzzTest {
  private static final Path REPO = Path.of("..").toAbsolutePath().normalize();

  @Test
  void tenThousandMutatedInputsGiveOnlyTypedErrors() throws Exception {
    Fuzz.Report r = Fuzz.run(REPO, 12_000, 21L, Path.of("target/fuzz-failures"));
    System.out.print(r.summary());
    assertEquals(List.of(), r.failures(), "failing inputs are in target/fuzz-failures");
    assertTrue(r.distinct() >= 10_000, "only " + r.distinct() + " distinct inputs");
    r.perTarget()
        .forEach(
            (name, s) -> {
              assertTrue(s.inputs >= 500, name + " got only " + s.inputs + " inputs");
              assertTrue(s.typed > 0, name + ": no input was refused, so nothing was exercised");
              assertTrue(s.accepted > 0, name + ": not even the seeds were accepted");
            });
  }

  @Test
  void savedRegressionInputsAreHandled() throws Exception {
    Path dir = Path.of("src/test/resources/fuzz-regressions");
    assertTrue(Files.isDirectory(dir));
    assertEquals(List.of(), Fuzz.replay(REPO, dir));
  }

  @Test
  void equalSeedsGiveEqualRuns() throws Exception {
    Fuzz.Report a = Fuzz.run(REPO, 300, 5L, null);
    Fuzz.Report b = Fuzz.run(REPO, 300, 5L, null);
    assertEquals(a.distinct(), b.distinct());
    a.perTarget()
        .forEach((k, v) -> assertEquals(v.typed, b.perTarget().get(k).typed, k + " refusals"));
  }
}

package io.damjava.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The short soak of CI: describe calls and mixed server traffic on the tiny bundle, with every
 * answer checked against its own request. RSS is reported, not asserted here: a few hundred calls
 * do not get past warm-up; the full soak is {@code ./dam bench soak} (docs/RELIABILITY.md).
 */
class SoakShortTest {
  @Test
  void noLostOrMixedAnswersAndHealthAlwaysAnswers() throws Exception {
    Path repo = Path.of("..").toAbsolutePath().normalize();
    System.setProperty(
        "dam.bench.models", Path.of("target/smoke-models").toAbsolutePath().toString());
    Path bundle = BenchModels.bundle(repo.resolve("tools/reference/fixtures/tiny-image"), "fp32");
    Soak.Report r = Soak.run(bundle, repo, 60, 60);
    System.out.print(r.summary());
    assertEquals(List.of(), r.problems());
    assertEquals(0, r.mismatched(), "answers mixed up between requests");
    assertEquals(0, r.healthFailures(), "health did not answer within 2 s");
    assertTrue(r.good() > 0 && r.bad() > 0 && r.cancelled() > 0, r.summary());
  }
}

package io.damjava.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * Runs every JMH benchmark once, in-process, on bundles converted from the tiny fixture checkpoint,
 * so none of them rots. Nothing about timing is asserted.
 */
class BenchmarkSmokeTest {
  @Test
  void everyBenchmarkRunsOnce() throws Exception {
    Path tiny = Path.of("../tools/reference/fixtures/tiny-image").toAbsolutePath().normalize();
    System.setProperty(
        "dam.bench.models", Path.of("target/smoke-models").toAbsolutePath().toString());
    System.setProperty("dam.bench.checkpoint", tiny.toString());
    System.setProperty("dam.tokenizer", tiny.resolve("llm/tokenizer.model").toString());
    Options o =
        new OptionsBuilder()
            .include("io\\.damjava\\.bench\\..*")
            .forks(0)
            .warmupIterations(0)
            .measurementIterations(1)
            .measurementTime(TimeValue.milliseconds(50))
            .param("impl", "dam-java")
            .shouldFailOnError(true)
            .build();
    Collection<RunResult> results = new Runner(o).run();
    Set<String> ran = new TreeSet<>();
    List<String> labels = new ArrayList<>();
    for (RunResult r : results) {
      String b = r.getParams().getBenchmark();
      ran.add(b.substring(b.lastIndexOf('.', b.lastIndexOf('.') - 1) + 1));
      labels.add(r.getParams().toString());
      assertFalse(Double.isNaN(r.getPrimaryResult().getScore()), r.getParams().toString());
    }
    assertEquals(
        new TreeSet<>(
            List.of(
                "BatchedDecodeBenchmark.step",
                "DecodeBenchmark.step",
                "ModelBenchmark.prefill",
                "ModelBenchmark.vision",
                "PreprocessBenchmark.region",
                "RegionsBenchmark.describe",
                "SamplingBenchmark.sample",
                "TokenizerBenchmark.encode",
                "TokenizerBenchmark.fullDecode",
                "TokenizerBenchmark.streamDecode")),
        ran,
        labels.toString());
    // 3 precisions x (vision, prefill, 2 contexts, 3 batches, 2 region modes) + 2 sizes
    // + 2 samplers + 3 tokenizer
    assertEquals(3 * 9 + 2 + 2 + 3, results.size(), labels.toString());
  }
}

package io.damjava.bench;

import ai.onnxruntime.OrtSession;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Model stages on a {@code bench} bundle (real DAM-3B widths, {@code dam.bench.layers} layers):
 *
 * <ul>
 *   <li>{@code vision}: one region, context pass + focal pass + projector ({@code
 *       VisionEncoder.encode}).
 *   <li>{@code prefill}: the default DAM prompt with its 196 image rows spliced in (the decoder's
 *       prefill; logits of the last position only).
 * </ul>
 *
 * Decode steps are in {@link DecodeBenchmark}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xmx6g"})
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 4, time = 2)
public class ModelBenchmark {
  @Benchmark
  public float[] vision(EngineState s) {
    return s.engine.vision(List.of(s.region));
  }

  @Benchmark
  public float prefill(EngineState s) {
    try (OrtSession.Result r = s.engine.prefill(s.promptEmbeds.rewind(), s.promptLength)) {
      return s.engine.logits(r)[0];
    }
  }
}

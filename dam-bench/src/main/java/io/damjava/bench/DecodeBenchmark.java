package io.damjava.bench;

import ai.onnxruntime.OrtSession;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One decode step (embedTokens + decoder with the KV cache) at a fixed context: the cache of a
 * {@code context}-position prefill (random embeddings) is the past of every invocation, so each
 * step reads exactly {@code context} cached positions. Includes copying the 32,000 logits out.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xmx6g"})
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 4, time = 2)
public class DecodeBenchmark {
  @Param({"256", "1024"})
  public int context;

  private OrtSession.Result past;

  @Setup(Level.Trial)
  public void setUp(EngineState s) {
    past = s.engine.prefill(s.engine.randomEmbeds(context, 5), context);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    past.close();
  }

  @Benchmark
  public float[] step(EngineState s) {
    try (OrtSession.Result r = s.engine.step(past, context, 100)) {
      return s.engine.logits(r);
    }
  }
}

package io.damjava.bench;

import io.damjava.api.GenerationOptions;
import io.damjava.onnx.EngineStages;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.function.ToIntFunction;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * One sampling step over a 32,000-logit vector: {@code greedy} (argmax) or {@code default} (DAM's
 * defaults: temperature 0.2, top-k 50, top-p 0.5, SplitMix64 draw), the engine's {@code Samplers}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xmx1g"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class SamplingBenchmark {
  static final int VOCAB = 32_000;

  @Param({"greedy", "default"})
  public String sampler;

  private float[] logits;
  private ToIntFunction<float[]> s;

  @Setup(Level.Trial)
  public void setUp() {
    Random r = new Random(3);
    logits = new float[VOCAB];
    for (int i = 0; i < VOCAB; i++) {
      logits[i] = (float) (r.nextGaussian() * 3);
    }
    GenerationOptions o = GenerationOptions.defaults();
    if (sampler.equals("greedy")) {
      o = o.withTemperature(0);
    }
    s = EngineStages.sampler(o, 42);
  }

  @Benchmark
  public int sample() {
    return s.applyAsInt(logits);
  }
}

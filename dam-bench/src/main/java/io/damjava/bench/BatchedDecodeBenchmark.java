package io.damjava.bench;

import io.damjava.onnx.BatchedStep;
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
 * One decode step of {@code batch} sequences together ({@link BatchedStep}: embedTokens over (B,1),
 * one decoder run over a (B, kvHeads, context, headDim) past, every row's logits read and argmaxed)
 * at the prompt length of an image call. One op is one step for all B rows: ms per generated token
 * is the score divided by B. Weights are read once per step whatever B is, so on a memory-bound
 * decode the per-token cost falls with B.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xmx6g"})
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 4, time = 2)
public class BatchedDecodeBenchmark {
  @Param({"1", "4", "8"})
  public int batch;

  @Param({"304"})
  public int context;

  private BatchedStep step;

  @Setup(Level.Trial)
  public void setUp(EngineState s) {
    step = new BatchedStep(s.engine, batch, context, 11);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    step.close();
  }

  @Benchmark
  public int step() {
    return step.step();
  }
}

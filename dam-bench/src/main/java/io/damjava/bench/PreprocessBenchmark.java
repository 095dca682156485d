package io.damjava.bench;

import io.damjava.api.DamImage;
import io.damjava.api.Mask;
import io.damjava.onnx.EngineStages;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * Preprocessing of one region, pure Java: full image and focal crop, each Pillow-bicubic resized to
 * 384x384 with its mask plane ({@code Preprocessor.region}). No model needed.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xmx2g"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class PreprocessBenchmark {
  @Param({"640x480", "4000x3000"})
  public String size;

  private DamImage image;
  private Mask mask;

  @Setup(Level.Trial)
  public void setUp() {
    String[] wh = size.split("x");
    int w = Integer.parseInt(wh[0]);
    int h = Integer.parseInt(wh[1]);
    image = Synthetic.image(w, h);
    mask = Synthetic.mask(w, h);
  }

  @Benchmark
  public Object region() {
    return EngineStages.preprocess(image, mask);
  }
}

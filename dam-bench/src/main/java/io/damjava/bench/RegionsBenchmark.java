package io.damjava.bench;

import io.damjava.api.Caption;
import io.damjava.api.DamImage;
import io.damjava.api.GenerationOptions;
import io.damjava.api.Mask;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The whole pipeline for {@code regions} regions of one 640x480 image, greedy, {@code tokens} new
 * tokens at most: {@code batched} is one call (one vision run over all regions, one batched prefill
 * and decode), {@code sequential} is one call per region, as before batched decoding. The captions
 * per minute of the two modes is the ratio the issue asks for.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xmx6g"})
@Warmup(iterations = 1)
@Measurement(iterations = 3)
public class RegionsBenchmark {
  @Param({"batched", "sequential"})
  public String mode;

  @Param({"4"})
  public int regions;

  @Param({"32"})
  public int tokens;

  @Benchmark
  public int describe(EngineState s) {
    DamImage image = Synthetic.image(640, 480);
    List<Mask> masks = Collections.nCopies(regions, Synthetic.mask(640, 480));
    GenerationOptions o = GenerationOptions.builder().temperature(0).maxNewTokens(tokens).build();
    List<Caption> out = new ArrayList<>();
    if (mode.equals("batched")) {
      out.addAll(s.engine.describe(image, masks, o));
    } else {
      for (Mask m : masks) {
        out.addAll(s.engine.describe(image, List.of(m), o));
      }
    }
    int n = 0;
    for (Caption c : out) {
      n += c.tokenCount();
    }
    return n;
  }
}

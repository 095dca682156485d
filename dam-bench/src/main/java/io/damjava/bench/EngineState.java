package io.damjava.bench;

import io.damjava.onnx.EngineStages;
import java.nio.FloatBuffer;
import java.util.List;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * A loaded bundle ({@link BenchModels#bundle}) at a precision and intra-op thread count, with one
 * preprocessed 640x480 region (focal pass needed) and its spliced default prompt.
 */
@State(Scope.Benchmark)
public class EngineState {
  @Param({"fp32", "int8", "int4"})
  public String precision;

  @Param({"2"})
  public int threads;

  EngineStages engine;
  Object region;
  int[] promptIds;
  int promptLength;
  FloatBuffer promptEmbeds;

  @Setup(Level.Trial)
  public void setUp() {
    engine = EngineStages.open(BenchModels.bundle(precision), threads);
    region = engine.region(Synthetic.image(640, 480), Synthetic.mask(640, 480));
    if (!EngineStages.needsFocalPass(region)) {
      throw new IllegalStateException("the benchmark region should need the focal pass");
    }
    promptIds = engine.defaultPromptIds();
    promptLength = engine.splicedLength(promptIds);
    promptEmbeds = engine.splice(promptIds, engine.vision(List.of(region)));
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    engine.close();
  }
}

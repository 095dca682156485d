package io.damjava.onnx.sam2;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.IntFunction;

/**
 * A loaded SAM 2.1 bundle: its four sessions, opened once and shared by every predictor made from
 * it (ONNX Runtime sessions are thread-safe; each {@link Sam2VideoPredictor} keeps its own memory
 * bank, so one predictor per call or per thread). {@link #close()} frees the sessions once.
 */
public final class Sam2Model implements AutoCloseable {
  private final Sam2Bundle bundle;
  private final Sam2Graphs graphs;
  private final AtomicBoolean closed = new AtomicBoolean();

  private Sam2Model(Sam2Bundle bundle, Sam2Graphs graphs) {
    this.bundle = bundle;
    this.graphs = graphs;
  }

  /**
   * Reads and verifies the bundle in {@code dir}, then opens its graphs.
   *
   * @param options session options (not closed here; the CPU arena and memory patterns are turned
   *     off on them)
   * @throws io.damjava.api.InvalidBundleException for a bad manifest or a corrupt file
   * @throws io.damjava.api.ModelLoadException if a graph cannot be opened
   */
  public static Sam2Model load(Path dir, OrtEnvironment env, OrtSession.SessionOptions options) {
    Sam2Bundle b = Sam2Bundle.read(dir);
    try {
      // Memory attention's inputs grow frame by frame (1..7 memories, 1..16 pointers) and its
      // attention scores are ~0.5 GB at 1024: an arena would keep a block per size seen.
      options.setCPUArenaAllocator(false);
      options.setMemoryPatternOptimization(false);
    } catch (ai.onnxruntime.OrtException e) {
      throw new io.damjava.api.ModelLoadException("cannot configure the SAM 2.1 sessions: " + e, e);
    }
    return new Sam2Model(b, new Sam2Graphs(dir, env, options, b.params()));
  }

  /** The bundle's sizes and host tensors. */
  public Sam2VideoParams params() {
    return bundle.params();
  }

  /**
   * A predictor for one object over a video of {@code numFrames} frames; {@code pixels} gives frame
   * i's [3][S][S] pixel values (see {@link io.damjava.onnx.Sam2Pixels}). Closing it leaves this
   * model's sessions open.
   */
  public Sam2VideoPredictor predictor(int numFrames, IntFunction<float[]> pixels) {
    if (closed.get()) {
      throw new IllegalStateException("the SAM 2.1 segmenter is closed");
    }
    return new Sam2VideoPredictor(
        graphs, false, bundle.params(), bundle.settings(), numFrames, pixels);
  }

  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      graphs.close();
    }
  }
}

package io.damjava.onnx;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.damjava.api.ModelLoadException;
import io.damjava.onnx.bundle.BundleManifest;
import java.nio.file.Path;
import java.util.function.Consumer;

/**
 * Creates the sessions of a bundle, choosing per graph how its weights reach memory. Creating a
 * session is dominated by pre-packing (ONNX Runtime copies each constant weight into its kernel's
 * layout): on 2 cores about 3 s per fp32 vision graph of DAM-3B and 8 s for its int4 decoder.
 *
 * <ul>
 *   <li>{@link Weights#MAPPED}: no pre-packing. The weights stay in the memory-mapped external data
 *       file, so the session costs no heap, starts in milliseconds, and two graphs that reference
 *       the same data file (the two vision graphs) share its pages. Used for the vision graphs,
 *       whose large matrix products lose nothing measurable without packed weights.
 *   <li>{@link Weights#PREPACKED}: ONNX Runtime's default, for the decoder: MatMulNBits without its
 *       packed weights runs a hundred times slower at one token per step.
 * </ul>
 *
 * A cache of pre-packed decoders (ONNX Runtime's optimized model with {@code
 * session.save_external_prepacked_constant_initializers}) was measured and dropped: it loads the
 * int4 decoder in 2.3 s instead of 8.8 s, but ONNX Runtime 1.29 computes wrong logits from the
 * reloaded MatMulNBits weights (greedy output all {@code <unk>} on the tiny bundle).
 */
final class SessionLoader {
  /** How one graph's weights are loaded. */
  enum Weights {
    MAPPED,
    PREPACKED
  }

  private final OrtRuntime.Setup rt;
  private final Consumer<OrtSession.SessionOptions> customize;

  /**
   * @param customize applied to every session's options (profiling in benchmarks), may be a no-op
   */
  SessionLoader(OrtRuntime.Setup rt, Consumer<OrtSession.SessionOptions> customize) {
    this.rt = rt;
    this.customize = customize;
  }

  OrtRuntime.Setup runtime() {
    return rt;
  }

  OrtSession open(Path dir, String role, BundleManifest.GraphSpec spec, Weights weights) {
    Path file = dir.resolve(spec.file());
    try (OrtSession.SessionOptions o = rt.fresh()) {
      customize.accept(o);
      if (weights == Weights.MAPPED && !rt.cuda()) {
        o.addConfigEntry("session.disable_prepacking", "1");
      }
      return NativeCalls.call(() -> rt.env().createSession(file.toString(), o));
    } catch (OrtException e) {
      throw new ModelLoadException(
          "cannot load graph " + role + " (" + spec.file() + "): " + e.getMessage(), e);
    }
  }
}

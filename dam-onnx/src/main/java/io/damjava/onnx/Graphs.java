package io.damjava.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxTensorLike;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.damjava.api.InferenceException;
import io.damjava.onnx.bundle.BundleManifest;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The five sessions of a bundle, created once and shared by every call (ORT sessions are safe for
 * concurrent {@code run}). Owns the sessions; {@link #close()} closes them in reverse order.
 */
final class Graphs implements AutoCloseable {
  final OrtEnvironment env;
  final BundleManifest.Graphs specs;
  final OrtSession visionContext; // (B,4,S,S) -> (B,N,Hv)
  final OrtSession visionFocal; // (B,4,S,S), (B,N,Hv) -> (B,N,Hv)
  final OrtSession projector; // (B,N,Hv) -> (B,I,H)
  final OrtSession embedTokens; // (1,T) int64 -> (1,T,H)
  final OrtSession decoder; // (1,T,H), mask, positions, past -> (1,1,V), present

  /**
   * The session for one sequence's prefill: the bundle's prefill graph, else the decoder (also on
   * CUDA, where its DynamicQuantizeMatMul layers have no kernel). Only single-row runs use it
   * ({@link ContinuousBatcher}, {@link DecodeSteps}, and {@link Decoder} row by row through {@link
   * RowPrefill}): its int8 layers quantize a run's activations with one scale, so rows prefilled
   * together would depend on each other.
   */
  final OrtSession prefill;

  private final List<OrtSession> all;

  /**
   * Opens the five sessions (six with a prefill graph): the vision graphs, the projector and the
   * prefill graph on their mapped weights, the decoder pre-packed (see {@link SessionLoader}).
   */
  Graphs(Path dir, BundleManifest m, SessionLoader loader) {
    this.env = loader.runtime().env();
    this.specs = m.graphs();
    List<OrtSession> made = new ArrayList<>();
    try {
      visionContext = add(made, loader.open(dir, "visionContext", specs.visionContext(), VISION));
      visionFocal = add(made, loader.open(dir, "visionFocal", specs.visionFocal(), VISION));
      projector = add(made, loader.open(dir, "projector", specs.projector(), VISION));
      embedTokens = add(made, loader.open(dir, "embedTokens", specs.embedTokens(), VISION));
      decoder = add(made, loader.open(dir, "decoder", specs.decoder(), DECODER));
      // on mapped weights, as the vision graphs: no 2.6 GB heap copy, for a full-depth prefill of
      // 2.90 s against 2.40 s pre-packed (docs/conversion.md)
      prefill =
          specs.prefill() == null || loader.runtime().cuda()
              ? decoder
              : add(made, loader.open(dir, "prefill", specs.prefill(), VISION));
    } catch (RuntimeException e) {
      closeAll(made);
      throw e;
    }
    this.all = List.copyOf(made);
  }

  /** How the vision graphs' weights load: -Ddam.vision.weights=mapped|prepacked (a diagnostic). */
  private static final SessionLoader.Weights VISION =
      SessionLoader.Weights.valueOf(
          System.getProperty("dam.vision.weights", "mapped").toUpperCase(java.util.Locale.ROOT));

  /** How the decoder's weights load: -Ddam.decoder.weights=prepacked|mapped (a diagnostic). */
  private static final SessionLoader.Weights DECODER =
      SessionLoader.Weights.valueOf(
          System.getProperty("dam.decoder.weights", "prepacked")
              .toUpperCase(java.util.Locale.ROOT));

  private static OrtSession add(List<OrtSession> made, OrtSession s) {
    made.add(s);
    return s;
  }

  /** Runs a session, wrapping runtime failures with the stage and graph. */
  static OrtSession.Result run(
      OrtSession s, String graph, Map<String, ? extends OnnxTensorLike> inputs) {
    try {
      return NativeCalls.run(o -> s.run(inputs, o));
    } catch (OrtException e) {
      throw new InferenceException("graph " + graph + " failed: " + e.getMessage(), e);
    }
  }

  /**
   * Runs a session computing {@code requested} outputs into new tensors and the {@code pinned}
   * outputs into the given tensors (which must have the computed shape exactly).
   */
  static OrtSession.Result run(
      OrtSession s,
      String graph,
      Map<String, ? extends OnnxTensorLike> inputs,
      Set<String> requested,
      Map<String, ? extends OnnxValue> pinned) {
    try {
      return NativeCalls.run(o -> s.run(inputs, requested, pinned, o));
    } catch (OrtException e) {
      throw new InferenceException("graph " + graph + " failed: " + e.getMessage(), e);
    }
  }

  /** The output tensor of a role. */
  static OnnxTensor output(OrtSession.Result r, String name, String graph) {
    return (OnnxTensor)
        r.get(name)
            .orElseThrow(() -> new InferenceException("graph " + graph + " has no output " + name));
  }

  @Override
  public void close() {
    closeAll(all);
  }

  private static void closeAll(List<OrtSession> sessions) {
    for (int i = sessions.size() - 1; i >= 0; i--) {
      try {
        sessions.get(i).close();
      } catch (OrtException e) {
        // closing a session only fails if it was already closed
      }
    }
  }
}

package io.damjava.convert;

import io.damjava.convert.OnnxBuilder.A;
import java.util.ArrayList;
import java.util.List;

/**
 * A residual stream whose "add then normalise" steps become one fused contrib node ({@code
 * SkipLayerNormalization} / {@code SkipSimplifiedLayerNormalization}) in the contrib style, or Add
 * plus a normalisation in the standard style.
 */
final class Residual {
  private final OnnxBuilder b;
  private final boolean contrib;
  private final boolean rms;
  private final float eps;
  private String stream;
  private String pending;

  /**
   * @param rms RMSNorm (Llama) instead of LayerNorm (SigLIP)
   */
  Residual(OnnxBuilder b, String start, boolean contrib, boolean rms, float eps) {
    this.b = b;
    this.stream = start;
    this.contrib = contrib;
    this.rms = rms;
    this.eps = eps;
  }

  /** Adds a branch output to the stream (lazily, so the next norm can fuse the add). */
  void add(String delta) {
    if (pending != null) {
      stream = b.add(stream, pending);
    }
    pending = delta;
  }

  /** Normalises the current stream (after pending adds) with gamma (and beta for LayerNorm). */
  String norm(String gamma, String beta) {
    if (pending == null) {
      return plainNorm(stream, gamma, beta);
    }
    if (contrib) {
      List<String> in = new ArrayList<>(List.of(pending, stream, gamma));
      if (!rms) {
        in.add(beta);
      }
      String[] out =
          b.node(
              OnnxBuilder.MS,
              rms ? "SkipSimplifiedLayerNormalization" : "SkipLayerNormalization",
              4,
              in,
              A.f("epsilon", eps));
      stream = out[3];
      pending = null;
      return out[0];
    }
    stream = b.add(stream, pending);
    pending = null;
    return plainNorm(stream, gamma, beta);
  }

  /** The stream with every pending add applied. */
  String value() {
    if (pending != null) {
      stream = b.add(stream, pending);
      pending = null;
    }
    return stream;
  }

  /** Replaces the stream (e.g. after slicing the last position). */
  void map(java.util.function.UnaryOperator<String> f) {
    stream = f.apply(stream);
    if (pending != null) {
      pending = f.apply(pending);
    }
  }

  private String plainNorm(String x, String gamma, String beta) {
    if (rms) {
      if (contrib) {
        return b.op(
            "SimplifiedLayerNormalization",
            List.of(x, gamma),
            A.i("axis", -1),
            A.f("epsilon", eps),
            A.i("stash_type", 1));
      }
      String sq = b.mul(x, x);
      String mean = b.op("ReduceMean", List.of(sq), A.ints("axes", -1), A.i("keepdims", 1));
      String rstd = b.op("Reciprocal", List.of(b.op("Sqrt", List.of(b.add(mean, b.scalar(eps))))));
      return b.mul(gamma, b.mul(x, rstd));
    }
    return b.op(
        "LayerNormalization", List.of(x, gamma, beta), A.i("axis", -1), A.f("epsilon", eps));
  }
}

package io.damjava.convert;

import io.damjava.convert.OnnxBuilder.A;
import java.util.ArrayList;
import java.util.List;

/**
 * A residual stream whose "add then normalise" steps become one fused contrib node ({@code
 * SkipLayerNormalization} / {@code SkipSimplifiedLayerNormalization}) in the contrib style, or Add
 * plus a normalisation in the standard style.
 *
 * <p>When the builder computes in float16 the stream stays float16 (as in the reference's fp16
 * run). Contrib norms take float16 input and a float16 gamma (ONNX Runtime's kernels accumulate the
 * statistics in float32); the standard style casts the normalised input to float32, normalises with
 * the float32 gamma and casts the result back.
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
      List<String> in = new ArrayList<>(List.of(pending, stream, b.toAct(gamma)));
      if (!rms) {
        in.add(b.toAct(beta));
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
    if (contrib) {
      if (rms) {
        return b.op(
            "SimplifiedLayerNormalization",
            List.of(x, b.toAct(gamma)),
            A.i("axis", -1),
            A.f("epsilon", eps),
            A.i("stash_type", 1));
      }
      return b.op(
          "LayerNormalization",
          List.of(x, b.toAct(gamma), b.toAct(beta)),
          A.i("axis", -1),
          A.f("epsilon", eps));
    }
    String x32 = b.toF32(x);
    if (rms) {
      String sq = b.mul(x32, x32);
      String mean = b.op("ReduceMean", List.of(sq), A.ints("axes", -1), A.i("keepdims", 1));
      String rstd = b.op("Reciprocal", List.of(b.op("Sqrt", List.of(b.add(mean, b.scalar(eps))))));
      return b.toAct(b.mul(gamma, b.mul(x32, rstd)));
    }
    return b.toAct(
        b.op(
            "LayerNormalization", List.of(x32, gamma, beta), A.i("axis", -1), A.f("epsilon", eps)));
  }
}

package io.damjava.convert.sam2;

import io.damjava.convert.OnnxBuilder;
import io.damjava.convert.OnnxBuilder.A;
import io.damjava.convert.TensorSet;
import java.io.IOException;
import java.util.List;

/** ONNX building blocks shared by the SAM 2.1 graphs, reading HF tensor names from a TensorSet. */
final class Sam2Ops {
  private Sam2Ops() {}

  /** x @ W^T + b for HF {@code [out, in]} weights. */
  static String linear(OnnxBuilder b, TensorSet t, String x, String name, int out, int in)
      throws IOException {
    float[] w = t.get(name + ".weight", out, in);
    float[] wt = new float[w.length];
    for (int r = 0; r < out; r++) {
      for (int col = 0; col < in; col++) {
        wt[col * out + r] = w[r * in + col];
      }
    }
    String y = b.matmul(x, b.weightF32(name + ".weight", wt, in, out));
    return b.add(y, b.weightF32(name + ".bias", t.get(name + ".bias", out), out));
  }

  /** LayerNorm over the last axis. */
  static String layerNorm(OnnxBuilder b, TensorSet t, String x, String name, int n, float eps)
      throws IOException {
    return b.op(
        "LayerNormalization",
        List.of(
            x,
            b.weightF32(name + ".weight", t.get(name + ".weight", n), n),
            b.weightF32(name + ".bias", t.get(name + ".bias", n), n)),
        A.i("axis", -1),
        A.f("epsilon", eps));
  }

  /** LayerNorm over the channels of an NCHW tensor (HF's channels_first LayerNorm). */
  static String layerNorm2d(OnnxBuilder b, TensorSet t, String x, String name, int c, float eps)
      throws IOException {
    String y = layerNorm(b, t, b.transpose(x, 0, 2, 3, 1), name, c, eps);
    return b.transpose(y, 0, 3, 1, 2);
  }

  /** Conv2d with bias from HF {@code [out, in / groups, k, k]} weights. */
  static String conv(
      OnnxBuilder b,
      TensorSet t,
      String x,
      String name,
      int out,
      int in,
      int k,
      int stride,
      int pad,
      int groups)
      throws IOException {
    String w =
        b.weightF32(
            name + ".weight",
            t.get(name + ".weight", out, in / groups, k, k),
            out,
            in / groups,
            k,
            k);
    String bias = b.weightF32(name + ".bias", t.get(name + ".bias", out), out);
    return b.op(
        "Conv",
        List.of(x, w, bias),
        A.ints("kernel_shape", k, k),
        A.ints("strides", stride, stride),
        A.ints("pads", pad, pad, pad, pad),
        A.i("group", groups));
  }

  /** Exact (erf) GELU: 0.5 x (1 + erf(x / sqrt 2)). */
  static String gelu(OnnxBuilder b, String x) {
    String erf = b.op("Erf", List.of(b.mul(x, b.scalar((float) (1 / Math.sqrt(2))))));
    return b.mul(b.mul(x, b.scalar(0.5f)), b.add(erf, b.scalar(1f)));
  }
}

package io.damjava.convert.sam2;

import io.damjava.convert.OnnxBuilder;
import io.damjava.convert.OnnxBuilder.A;
import io.damjava.convert.TensorSet;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * The SAM 2.1 memory-attention graph: current-frame features attend to the memory bank.
 *
 * <p>Inputs (batch 1): {@code vision_feat} and {@code vision_pos} [1, HW, C] (the lowest-resolution
 * FPN level and its sine encoding); {@code memory} and {@code memory_pos} [1, S, memDim] (the
 * selected spatial memories, S a multiple of HW, with the temporal encoding already added by the
 * host); {@code pointers} [1, P * C / memDim, memDim] (object pointers split into memDim chunks);
 * {@code pointer_sine} [1, P, C] (their 1-D sine temporal encoding, projected here by {@code
 * temporal_positional_encoding_projection_layer}). Output: {@code conditioned} [1, HW, C].
 *
 * <p>Each layer: x += SelfAttn(LN1(x)) with axial RoPE on queries and keys; x += CrossAttn(LN2(x),
 * memory + pos, memory) with RoPE on the queries and on the spatial keys (the table tiled once per
 * memory frame) but not on the pointer tokens; x += Linear2(ReLU(Linear1(LN3(x)))). The input is
 * feat + 0.1 pos, the output passes a final LayerNorm. The pairwise RoPE rotation is a MatMul with
 * a constant ±1 permutation matrix, which is exact.
 */
public final class MemoryAttentionGraph {
  private MemoryAttentionGraph() {}

  /** Graph input and output names. */
  public static final String FEAT = "vision_feat";

  public static final String POS = "vision_pos";
  public static final String MEMORY = "memory";
  public static final String MEMORY_POS = "memory_pos";
  public static final String POINTERS = "pointers";
  public static final String POINTER_SINE = "pointer_sine";
  public static final String OUT = "conditioned";

  /** Writes {@code out} (and its .data file) from the checkpoint in {@code t}. */
  public static void write(Sam2Config cfg, TensorSet t, Path out) throws IOException {
    try (OnnxBuilder b = new OnnxBuilder(out, false)) {
      build(b, cfg, t);
      b.save();
    }
  }

  static void build(OnnxBuilder b, Sam2Config cfg, TensorSet t) throws IOException {
    int c = cfg.hidden();
    int m = cfg.memDim();
    int d = cfg.internal();
    long hw = (long) cfg.ropeW() * cfg.ropeH();
    String feat = b.input(FEAT, OnnxBuilder.FLOAT, 1L, hw, (long) c);
    String pos = b.input(POS, OnnxBuilder.FLOAT, 1L, hw, (long) c);
    String mem = b.input(MEMORY, OnnxBuilder.FLOAT, 1L, "spatial", (long) m);
    String memPos = b.input(MEMORY_POS, OnnxBuilder.FLOAT, 1L, "spatial", (long) m);
    String ptr = b.input(POINTERS, OnnxBuilder.FLOAT, 1L, "pointer_tokens", (long) m);
    String sine = b.input(POINTER_SINE, OnnxBuilder.FLOAT, 1L, "pointers", (long) c);

    String tp = "temporal_positional_encoding_projection_layer";
    String ptrPos = Sam2Ops.linear(b, t, sine, tp, m, c);
    int split = cfg.pointerSplit();
    if (split > 1) {
      ptrPos = b.op("Unsqueeze", List.of(ptrPos, b.ints(2)));
      ptrPos = b.op("Tile", List.of(ptrPos, b.ints(1, 1, split, 1)));
      ptrPos = b.reshape(ptrPos, 0, -1, m);
    }
    String keys = b.op("Concat", List.of(mem, ptr), A.i("axis", 1));
    String keysPos = b.op("Concat", List.of(memPos, ptrPos), A.i("axis", 1));
    String keysWithPos = b.add(keys, keysPos);

    float[][] table = ropeTable(d, cfg.ropeW(), cfg.ropeH(), cfg.ropeTheta());
    String cos = b.weightF32("rope.cos", table[0], hw, d);
    String sin = b.weightF32("rope.sin", table[1], hw, d);
    String rot = b.weightF32("rope.rotate_pairs", rotation(d), d, d);
    // key tables: the spatial table tiled per memory frame, then identity rows for pointer tokens
    String frames =
        b.op(
            "Div",
            List.of(b.op("Gather", List.of(b.op("Shape", List.of(mem)), b.ints(1))), b.ints(hw)));
    String tiled = b.op("Concat", List.of(frames, b.ints(1)), A.i("axis", 0));
    String ptrRows = b.op("Gather", List.of(b.op("Shape", List.of(ptr)), b.ints(1)));
    String ptrShape = b.op("Concat", List.of(ptrRows, b.ints(d)), A.i("axis", 0));
    String ones = constantOfShape(b, ptrShape, 1f);
    String zeros = constantOfShape(b, ptrShape, 0f);
    String cosK = b.op("Concat", List.of(b.op("Tile", List.of(cos, tiled)), ones), A.i("axis", 0));
    String sinK = b.op("Concat", List.of(b.op("Tile", List.of(sin, tiled)), zeros), A.i("axis", 0));

    String x = b.add(feat, b.mul(pos, b.scalar(0.1f)));
    for (int l = 0; l < cfg.memLayers(); l++) {
      String p = "memory_attention.layers." + l + ".";
      String h = Sam2Ops.layerNorm(b, t, x, p + "layer_norm1", c, 1e-5f);
      String q = rope(b, Sam2Ops.linear(b, t, h, p + "self_attn.q_proj", d, c), cos, sin, rot);
      String k = rope(b, Sam2Ops.linear(b, t, h, p + "self_attn.k_proj", d, c), cos, sin, rot);
      String v = Sam2Ops.linear(b, t, h, p + "self_attn.v_proj", d, c);
      x = b.add(x, Sam2Ops.linear(b, t, attend(b, q, k, v, d), p + "self_attn.o_proj", c, d));

      h = Sam2Ops.layerNorm(b, t, x, p + "layer_norm2", c, 1e-5f);
      q = rope(b, Sam2Ops.linear(b, t, h, p + "cross_attn_image.q_proj", d, c), cos, sin, rot);
      k =
          rope(
              b,
              Sam2Ops.linear(b, t, keysWithPos, p + "cross_attn_image.k_proj", d, m),
              cosK,
              sinK,
              rot);
      v = Sam2Ops.linear(b, t, keys, p + "cross_attn_image.v_proj", d, m);
      x =
          b.add(
              x, Sam2Ops.linear(b, t, attend(b, q, k, v, d), p + "cross_attn_image.o_proj", c, d));

      h = Sam2Ops.layerNorm(b, t, x, p + "layer_norm3", c, 1e-5f);
      int ff = cfg.memFeedForward();
      h = b.op("Relu", List.of(Sam2Ops.linear(b, t, h, p + "linear1", ff, c)));
      x = b.add(x, Sam2Ops.linear(b, t, h, p + "linear2", c, ff));
    }
    x = Sam2Ops.layerNorm(b, t, x, "memory_attention.layer_norm", c, 1e-5f);
    b.output(x, OUT, OnnxBuilder.FLOAT, 1L, hw, (long) c);
  }

  static String constantOfShape(OnnxBuilder b, String shape, float v) {
    String one = b.op("ConstantOfShape", List.of(shape));
    // ConstantOfShape defaults to float 0; scale to v
    return v == 0f ? one : b.add(one, b.scalar(v));
  }

  static String attend(OnnxBuilder b, String q, String k, String v, int d) {
    String s = b.matmul(q, b.transpose(k, 0, 2, 1));
    s = b.mul(s, b.scalar((float) StrictMath.pow(d, -0.5)));
    return b.matmul(b.op("Softmax", List.of(s), A.i("axis", -1)), v);
  }

  static String rope(OnnxBuilder b, String x, String cos, String sin, String rot) {
    return b.add(b.mul(x, cos), b.mul(b.matmul(x, rot), sin));
  }

  /**
   * Axial RoPE table [HW][dim] (cos, sin): frequencies theta^-(4j/dim) for j < dim/4; x positions
   * (index mod W) for the first dim/4 pairs, y positions (index div W) for the rest; each value
   * duplicated for the two members of a pair. Computed in float32 like torch.
   */
  static float[][] ropeTable(int dim, int w, int h, double theta) {
    int q = dim / 4;
    float[] freqs = new float[q];
    for (int j = 0; j < q; j++) {
      float e = (float) (4 * j) / (float) dim;
      freqs[j] = (float) (1.0 / (float) StrictMath.pow(theta, e));
    }
    float[] cos = new float[w * h * dim];
    float[] sin = new float[w * h * dim];
    for (int i = 0; i < w * h; i++) {
      float px = i % w;
      float py = i / w;
      for (int j = 0; j < 2 * q; j++) {
        float a = j < q ? px * freqs[j] : py * freqs[j - q];
        float cv = (float) StrictMath.cos(a);
        float sv = (float) StrictMath.sin(a);
        cos[i * dim + 2 * j] = cv;
        cos[i * dim + 2 * j + 1] = cv;
        sin[i * dim + 2 * j] = sv;
        sin[i * dim + 2 * j + 1] = sv;
      }
    }
    return new float[][] {cos, sin};
  }

  /** R with (x R)[2i] = -x[2i+1], (x R)[2i+1] = x[2i]. */
  static float[] rotation(int d) {
    float[] r = new float[d * d];
    for (int i = 0; i < d / 2; i++) {
      r[(2 * i + 1) * d + 2 * i] = -1f;
      r[(2 * i) * d + 2 * i + 1] = 1f;
    }
    return r;
  }
}

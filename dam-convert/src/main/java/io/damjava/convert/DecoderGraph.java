package io.damjava.convert;

import io.damjava.convert.OnnxBuilder.A;
import java.io.IOException;
import java.util.List;

/**
 * The Llama decoder: {@code inputs_embeds}, {@code attention_mask}, {@code position_ids}, {@code
 * past_key_values.%d.key/value} to last-position {@code logits} and {@code present.%d.key/value}.
 */
final class DecoderGraph {
  static final String EMBEDS = "inputs_embeds";
  static final String MASK = "attention_mask";
  static final String POS = "position_ids";
  static final String PAST_KEY = "past_key_values.%d.key";
  static final String PAST_VALUE = "past_key_values.%d.value";
  static final String LOGITS = "logits";
  static final String PRESENT_KEY = "present.%d.key";
  static final String PRESENT_VALUE = "present.%d.value";

  private DecoderGraph() {}

  /** Rotary tables {cos, sin}, {@code [maxPos, width]} with width headDim/2 or headDim (HF cat). */
  static float[][] rope(int maxPos, int headDim, double theta, boolean full) {
    int half = headDim / 2;
    float[] inv = new float[half];
    for (int i = 0; i < half; i++) {
      float e = (float) (2 * i) / (float) headDim;
      inv[i] = 1.0f / (float) StrictMath.pow(theta, e);
    }
    int w = full ? headDim : half;
    float[] cos = new float[maxPos * w];
    float[] sin = new float[maxPos * w];
    for (int p = 0; p < maxPos; p++) {
      for (int i = 0; i < w; i++) {
        float f = (float) p * inv[i % half];
        cos[p * w + i] = (float) StrictMath.cos(f);
        sin[p * w + i] = (float) StrictMath.sin(f);
      }
    }
    return new float[][] {cos, sin};
  }

  static void build(
      OnnxBuilder b,
      TensorSet t,
      CheckpointConfigs.Llm c,
      boolean contrib,
      boolean sharedKv,
      Linears.Mode mode,
      Linears.Mode headMode,
      Linears.NBits nbits,
      Progress progress)
      throws IOException {
    int h = c.hidden();
    int nh = c.heads();
    int kvh = c.kvHeads();
    int hd = c.headDim();
    int inter = c.intermediate();
    float eps = (float) c.rmsEps();
    Linears lin = new Linears(b, mode, nbits);
    if (sharedKv && !contrib) {
      throw new IllegalArgumentException("a shared KV cache needs the contrib style");
    }
    // Shared KV: past and present are one fixed-capacity buffer (GroupQueryAttention writes the
    // new rows in place), so both carry the same length; otherwise present is P+T long.
    String presentLen = sharedKv ? "kv_capacity" : "total_sequence";
    String pastLen = sharedKv ? "kv_capacity" : "past_sequence";

    // Graph I/O stays float32 except the KV cache, which is in the activation type (the
    // manifest's kvDtype): casting embeds in and logits out is cheap, casting the cache is not.
    int actType = b.act();
    String x = b.toAct(b.input(EMBEDS, OnnxBuilder.FLOAT, "batch", "sequence", (long) h));
    String mask = b.input(MASK, OnnxBuilder.INT64, "batch", "total_sequence");
    String pos = b.input(POS, OnnxBuilder.INT64, "batch", "sequence");
    String[] pastK = new String[c.layers()];
    String[] pastV = new String[c.layers()];
    for (int l = 0; l < c.layers(); l++) {
      pastK[l] =
          b.input(String.format(PAST_KEY, l), actType, "batch", (long) kvh, pastLen, (long) hd);
      pastV[l] =
          b.input(String.format(PAST_VALUE, l), actType, "batch", (long) kvh, pastLen, (long) hd);
    }

    // Shared pieces.
    String cos;
    String sin;
    String keep = null;
    String seqlens = null;
    String totalLen = null;
    float[][] tables = rope(c.maxPositions(), hd, c.ropeTheta(), !contrib);
    int w = contrib ? hd / 2 : hd;
    // float32 tables; in float16 compute the rows are rounded to float16 (as HF casts cos/sin to
    // the activation dtype) after the lookup (standard) or once, constant-folded (contrib).
    cos = b.weightF32("rotary.cos", tables[0], c.maxPositions(), w);
    sin = b.weightF32("rotary.sin", tables[1], c.maxPositions(), w);
    if (contrib) {
      cos = b.toAct(cos);
      sin = b.toAct(sin);
    }
    String total =
        b.op("Gather", List.of(b.op("Shape", List.of(mask)), b.constI64(new long[0], 1)));
    if (contrib) {
      String sum = b.op("ReduceSum", List.of(mask, b.ints(1)), A.i("keepdims", 0));
      seqlens =
          b.op("Cast", List.of(b.op("Sub", List.of(sum, b.ints(1)))), A.i("to", OnnxBuilder.INT32));
      totalLen = b.op("Cast", List.of(total), A.i("to", OnnxBuilder.INT32));
    } else {
      String seq = b.op("Gather", List.of(b.op("Shape", List.of(x)), b.constI64(new long[0], 1)));
      String past = b.op("Sub", List.of(total, seq));
      String zero = b.constI64(new long[0], 0);
      String one = b.constI64(new long[0], 1);
      String rows = b.add(b.op("Range", List.of(zero, seq, one)), past);
      rows = b.op("Unsqueeze", List.of(rows, b.ints(1)));
      String cols = b.op("Range", List.of(zero, total, one));
      String causal = b.op("LessOrEqual", List.of(cols, rows));
      String pad = b.op("Cast", List.of(mask), A.i("to", OnnxBuilder.BOOL));
      pad = b.op("Unsqueeze", List.of(pad, b.ints(1, 2)));
      keep = b.op("And", List.of(causal, pad));
      // Rotary rows for these positions, [B, 1, T, hd].
      cos = b.toAct(b.op("Unsqueeze", List.of(b.op("Gather", List.of(cos, pos)), b.ints(1))));
      sin = b.toAct(b.op("Unsqueeze", List.of(b.op("Gather", List.of(sin, pos)), b.ints(1))));
    }

    Residual res = new Residual(b, x, contrib, true, eps);
    String[] presentK = new String[c.layers()];
    String[] presentV = new String[c.layers()];
    for (int l = 0; l < c.layers(); l++) {
      String p = "model.layers." + l + ".";
      progress.step("decoder layer " + l + "/" + c.layers());
      for (String proj : List.of("q_proj", "k_proj", "v_proj", "o_proj")) {
        if (t.has(p + "self_attn." + proj + ".bias")) {
          throw new CheckpointException(
              t.dir()
                  + ": tensor '"
                  + p
                  + "self_attn."
                  + proj
                  + ".bias': attention bias is not supported");
        }
      }
      String n1 =
          res.norm(
              b.weightF32(p + "input_layernorm.weight", t.get(p + "input_layernorm.weight", h), h),
              null);
      float[] wq = t.get(p + "self_attn.q_proj.weight", (long) nh * hd, h);
      float[] wk = t.get(p + "self_attn.k_proj.weight", (long) kvh * hd, h);
      float[] wv = t.get(p + "self_attn.v_proj.weight", (long) kvh * hd, h);
      String attn;
      if (contrib) {
        float[] qkv = new float[wq.length + wk.length + wv.length];
        System.arraycopy(wq, 0, qkv, 0, wq.length);
        System.arraycopy(wk, 0, qkv, wq.length, wk.length);
        System.arraycopy(wv, 0, qkv, wq.length + wk.length, wv.length);
        String packed = lin.apply(n1, p + "self_attn.qkv_proj", qkv, (nh + 2 * kvh) * hd, h, null);
        String[] out =
            b.node(
                OnnxBuilder.MS,
                "GroupQueryAttention",
                3,
                List.of(packed, "", "", pastK[l], pastV[l], seqlens, totalLen, cos, sin),
                A.i("num_heads", nh),
                A.i("kv_num_heads", kvh),
                A.i("do_rotary", 1),
                A.i("rotary_interleaved", 0),
                A.f("scale", (float) (1.0 / Math.sqrt(hd))));
        attn = out[0];
        presentK[l] = out[1];
        presentV[l] = out[2];
      } else {
        String q = heads(b, lin.apply(n1, p + "self_attn.q_proj", wq, nh * hd, h, null), nh, hd);
        String k = heads(b, lin.apply(n1, p + "self_attn.k_proj", wk, kvh * hd, h, null), kvh, hd);
        String v = heads(b, lin.apply(n1, p + "self_attn.v_proj", wv, kvh * hd, h, null), kvh, hd);
        q = rotate(b, q, cos, sin, hd);
        k = rotate(b, k, cos, sin, hd);
        presentK[l] = b.op("Concat", List.of(pastK[l], k), A.i("axis", 2));
        presentV[l] = b.op("Concat", List.of(pastV[l], v), A.i("axis", 2));
        String kk = repeatKv(b, presentK[l], nh, kvh, hd);
        String vv = repeatKv(b, presentV[l], nh, kvh, hd);
        // Scale, mask and softmax in float32 (float16 compute casts the scores up and back).
        String scores = b.toF32(b.matmul(q, b.transpose(kk, 0, 1, 3, 2)));
        scores = b.mul(scores, b.scalar((float) (1.0 / Math.sqrt(hd))));
        scores = b.op("Where", List.of(keep, scores, b.scalar(-Float.MAX_VALUE)));
        String probs = b.toAct(b.op("Softmax", List.of(scores), A.i("axis", -1)));
        String ctx = b.matmul(probs, vv);
        attn = b.reshape(b.transpose(ctx, 0, 2, 1, 3), 0, 0, (long) nh * hd);
      }
      float[] wo = t.get(p + "self_attn.o_proj.weight", h, (long) nh * hd);
      res.add(lin.apply(attn, p + "self_attn.o_proj", wo, h, nh * hd, null));
      String n2 =
          res.norm(
              b.weightF32(
                  p + "post_attention_layernorm.weight",
                  t.get(p + "post_attention_layernorm.weight", h),
                  h),
              null);
      String gate =
          lin.apply(
              n2, p + "mlp.gate_proj", t.get(p + "mlp.gate_proj.weight", inter, h), inter, h, null);
      String up =
          lin.apply(
              n2, p + "mlp.up_proj", t.get(p + "mlp.up_proj.weight", inter, h), inter, h, null);
      String act = b.mul(b.mul(gate, b.op("Sigmoid", List.of(gate))), up);
      res.add(
          lin.apply(
              act,
              p + "mlp.down_proj",
              t.get(p + "mlp.down_proj.weight", h, inter),
              h,
              inter,
              null));
    }
    // Last position only, then the final norm and the head.
    String starts = b.ints(-1);
    String ends = b.ints(Long.MAX_VALUE);
    String axes = b.ints(1);
    res.map(v -> b.op("Slice", List.of(v, starts, ends, axes)));
    String normed =
        res.norm(b.weightF32("model.norm.weight", t.get("model.norm.weight", h), h), null);
    String headName = c.tieEmbeddings() ? "model.embed_tokens.weight" : "lm_head.weight";
    float[] head = t.get(headName, c.vocab(), h);
    String logits =
        new Linears(b, headMode, nbits.atDefaultBlock())
            .apply(
                normed,
                headMode == Linears.Mode.FLOAT ? "lm_head.weight" : "lm_head",
                head,
                c.vocab(),
                h,
                null);
    b.output(b.toF32(logits), LOGITS, OnnxBuilder.FLOAT, "batch", 1L, (long) c.vocab());
    for (int l = 0; l < c.layers(); l++) {
      b.output(
          presentK[l],
          String.format(PRESENT_KEY, l),
          actType,
          "batch",
          (long) kvh,
          presentLen,
          (long) hd);
      b.output(
          presentV[l],
          String.format(PRESENT_VALUE, l),
          actType,
          "batch",
          (long) kvh,
          presentLen,
          (long) hd);
    }
  }

  /** [B,T,n*hd] to [B,n,T,hd]. */
  private static String heads(OnnxBuilder b, String x, int n, int hd) {
    return b.transpose(b.reshape(x, 0, 0, n, hd), 0, 2, 1, 3);
  }

  /** HF rotate-half rotary: x*cos + cat(-x2, x1)*sin. */
  private static String rotate(OnnxBuilder b, String x, String cos, String sin, int hd) {
    String[] halves = b.node("", "Split", 2, List.of(x, b.ints(hd / 2, hd / 2)), A.i("axis", -1));
    String neg = b.op("Neg", List.of(halves[1]));
    String rot = b.op("Concat", List.of(neg, halves[0]), A.i("axis", -1));
    return b.add(b.mul(x, cos), b.mul(rot, sin));
  }

  /** [B,kvh,S,hd] to [B,nh,S,hd] by repeating each kv head nh/kvh times. */
  private static String repeatKv(OnnxBuilder b, String x, int nh, int kvh, int hd) {
    if (nh == kvh) {
      return x;
    }
    int rep = nh / kvh;
    String u = b.op("Unsqueeze", List.of(x, b.ints(2)));
    String shape = b.op("Shape", List.of(u));
    // [B, kvh, 1, S, hd] -> [B, kvh, rep, S, hd]
    String target = b.op("Mul", List.of(shape, b.ints(1, 1, rep, 1, 1)));
    String e = b.op("Expand", List.of(u, target));
    return b.reshape(e, 0, nh, -1, hd);
  }
}

package io.damjava.convert;

import io.damjava.convert.OnnxBuilder.A;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/** The SigLIP vision graphs, the projector and the token embedding. */
final class VisionGraphs {
  static final String PIXELS = "pixel_values";
  static final String CONTEXT = "context_features";
  static final String FOCAL = "focal_features";
  static final String FEATURES = "image_features";
  static final String IMAGE_EMBEDS = "image_embeds";
  static final String IDS = "input_ids";
  static final String EMBEDS = "inputs_embeds";

  private VisionGraphs() {}

  /**
   * vision_context (focal=false) or vision_focal (focal=true): patch embedding with the mask conv,
   * then {@code blocks} SigLIP blocks, each followed by its cross-attention adapter when focal.
   */
  static void vision(
      OnnxBuilder b,
      TensorSet vt,
      CheckpointConfigs.Vision vc,
      TensorSet ct,
      CheckpointConfigs.Context cc,
      int blocks,
      boolean focal,
      boolean contrib,
      Linears.Mode mode,
      Linears.NBits nbits,
      Progress progress)
      throws IOException {
    int hv = vc.hidden();
    int p = vc.patchSize();
    int s = vc.imageSize();
    int g = s / p;
    int tokens = g * g;
    String e = "vision_model.embeddings.";
    // I/O is float32 in every precision; a float16-compute graph casts at its edges.
    String x = b.toAct(b.input(PIXELS, OnnxBuilder.FLOAT, "batch", 4L, (long) s, (long) s));
    String context =
        focal
            ? b.toAct(b.input(CONTEXT, OnnxBuilder.FLOAT, "batch", (long) tokens, (long) hv))
            : null;

    // RGB conv on channels 0-2 plus mask conv on channel 3 == one conv over 4 channels.
    float[] wr = vt.get(e + "patch_embedding.weight", hv, 3, p, p);
    float[] br = vt.get(e + "patch_embedding.bias", hv);
    float[] wm = vt.get(e + "mask_patch_embedding.weight", hv, 1, p, p);
    float[] bm = vt.get(e + "mask_patch_embedding.bias", hv);
    int pp = p * p;
    float[] w4 = new float[hv * 4 * pp];
    float[] b4 = new float[hv];
    for (int o = 0; o < hv; o++) {
      System.arraycopy(wr, o * 3 * pp, w4, o * 4 * pp, 3 * pp);
      System.arraycopy(wm, o * pp, w4, o * 4 * pp + 3 * pp, pp);
      b4[o] = br[o] + bm[o];
    }
    String conv =
        b.op(
            "Conv",
            List.of(
                x,
                b.weight(e + "patch_embedding4.weight", w4, hv, 4, p, p),
                b.weight(e + "patch_embedding4.bias", b4, hv)),
            A.ints("kernel_shape", p, p),
            A.ints("strides", p, p));
    String h = b.transpose(b.reshape(conv, 0, hv, -1), 0, 2, 1);
    h =
        b.add(
            h,
            b.weight(
                e + "position_embedding.weight",
                vt.get(e + "position_embedding.weight", tokens, hv),
                tokens,
                hv));

    Linears lin = new Linears(b, mode, nbits);
    float eps = (float) vc.lnEps();
    Residual res = new Residual(b, h, contrib, false, eps);
    for (int l = 0; l < blocks; l++) {
      progress.step((focal ? "vision_focal" : "vision_context") + " block " + l + "/" + blocks);
      String q = "vision_model.encoder.layers." + l + ".";
      String n =
          res.norm(
              vec(b, vt, q + "layer_norm1.weight", hv), vec(b, vt, q + "layer_norm1.bias", hv));
      res.add(attention(b, lin, vt, q + "self_attn.", n, n, hv, vc.heads(), "out_proj", contrib));
      n =
          res.norm(
              vec(b, vt, q + "layer_norm2.weight", hv), vec(b, vt, q + "layer_norm2.bias", hv));
      res.add(mlp(b, lin, vt, q + "mlp.", n, hv, vc.intermediate(), vc.act(), contrib));
      if (focal) {
        String a = "context_provider_module.layers." + l + ".";
        float eps2 = (float) cc.lnEps();
        if (eps2 != eps) {
          throw new CheckpointException(
              "context_provider/config.json: layer_norm_eps "
                  + eps2
                  + " differs from the vision tower's "
                  + eps);
        }
        n =
            res.norm(
                vec(b, ct, a + "layer_norm1.weight", hv), vec(b, ct, a + "layer_norm1.bias", hv));
        String att =
            attention(
                b, lin, ct, a + "cross_attn.", n, context, hv, cc.heads(), "out_proj", contrib);
        res.add(gate(b, ct, cc, a + "attn_factor", att));
        n =
            res.norm(
                vec(b, ct, a + "layer_norm2.weight", hv), vec(b, ct, a + "layer_norm2.bias", hv));
        String m = mlp(b, lin, ct, a + "mlp.", n, hv, cc.intermediate(), cc.act(), contrib);
        res.add(gate(b, ct, cc, a + "mlp_factor", m));
      }
    }
    b.output(
        b.toF32(res.value()),
        focal ? FOCAL : CONTEXT,
        OnnxBuilder.FLOAT,
        "batch",
        (long) tokens,
        (long) hv);
  }

  private static String gate(
      OnnxBuilder b, TensorSet t, CheckpointConfigs.Context cc, String name, String x) {
    if (!t.has(name) && !cc.zeroInitOutput()) {
      return x; // the reference uses a plain 1.0
    }
    float f = t.get(name, 1)[0];
    return b.mul(x, b.actScalar(f));
  }

  private static String vec(OnnxBuilder b, TensorSet t, String name, int n) throws IOException {
    return b.weightF32(name, t.get(name, n), n);
  }

  private static String attention(
      OnnxBuilder b,
      Linears lin,
      TensorSet t,
      String p,
      String xq,
      String xkv,
      int d,
      int heads,
      String outName,
      boolean contrib)
      throws IOException {
    String q =
        lin.apply(
            xq, p + "q_proj", t.get(p + "q_proj.weight", d, d), d, d, t.get(p + "q_proj.bias", d));
    String k =
        lin.apply(
            xkv, p + "k_proj", t.get(p + "k_proj.weight", d, d), d, d, t.get(p + "k_proj.bias", d));
    String v =
        lin.apply(
            xkv, p + "v_proj", t.get(p + "v_proj.weight", d, d), d, d, t.get(p + "v_proj.bias", d));
    int hd = d / heads;
    float scale = (float) StrictMath.pow(hd, -0.5);
    String ctx;
    if (contrib) {
      ctx =
          b.ms(
              "MultiHeadAttention", List.of(q, k, v), A.i("num_heads", heads), A.f("scale", scale));
    } else {
      String qh = b.transpose(b.reshape(q, 0, 0, heads, hd), 0, 2, 1, 3);
      String kt = b.transpose(b.reshape(k, 0, 0, heads, hd), 0, 2, 3, 1);
      String vh = b.transpose(b.reshape(v, 0, 0, heads, hd), 0, 2, 1, 3);
      // Scale and softmax in float32 (float16 compute casts the scores up and back).
      String scores = b.mul(b.toF32(b.matmul(qh, kt)), b.scalar(scale));
      String probs = b.toAct(b.op("Softmax", List.of(scores), A.i("axis", -1)));
      ctx = b.reshape(b.transpose(b.matmul(probs, vh), 0, 2, 1, 3), 0, 0, d);
    }
    return lin.apply(
        ctx,
        p + outName,
        t.get(p + outName + ".weight", d, d),
        d,
        d,
        t.get(p + outName + ".bias", d));
  }

  private static String mlp(
      OnnxBuilder b,
      Linears lin,
      TensorSet t,
      String p,
      String x,
      int d,
      int inter,
      String act,
      boolean contrib)
      throws IOException {
    String h =
        lin.apply(
            x,
            p + "fc1",
            t.get(p + "fc1.weight", inter, d),
            inter,
            d,
            t.get(p + "fc1.bias", inter));
    h = activation(b, h, act, contrib, t.dir() + ": " + p + "fc1");
    return lin.apply(
        h, p + "fc2", t.get(p + "fc2.weight", d, inter), d, inter, t.get(p + "fc2.bias", d));
  }

  static String activation(OnnxBuilder b, String x, String act, boolean contrib, String where) {
    switch (act) {
      case "gelu_pytorch_tanh", "gelu_new", "gelu_fast" -> {
        if (contrib) {
          return b.ms("FastGelu", List.of(x));
        }
        // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
        String x3 = b.mul(b.mul(x, x), x);
        // In float16, x^3 overflows to +-inf past |x| ~ 40, where tanh is already +-1: same result.
        String inner =
            b.mul(
                b.add(x, b.mul(x3, b.actScalar(0.044715f))),
                b.actScalar((float) Math.sqrt(2 / Math.PI)));
        String t = b.op("Tanh", List.of(inner));
        return b.mul(b.mul(x, b.actScalar(0.5f)), b.add(t, b.actScalar(1f)));
      }
      case "gelu" -> {
        if (contrib) {
          return b.ms("Gelu", List.of(x));
        }
        String erf = b.op("Erf", List.of(b.mul(x, b.actScalar((float) (1 / Math.sqrt(2))))));
        return b.mul(b.mul(x, b.actScalar(0.5f)), b.add(erf, b.actScalar(1f)));
      }
      default -> throw new CheckpointException(where + ": unsupported activation " + act);
    }
  }

  /**
   * The mlp_downsample projector: 27x27 grid, zero pad to even, 2x2 merge (channel order (2i,2j),
   * (2i,2j+1), (2i+1,2j), (2i+1,2j+1); token order column-pair-major), LayerNorm, Linear, GELU,
   * Linear.
   */
  static void projector(OnnxBuilder b, TensorSet t, int grid, int hv, int h, boolean contrib)
      throws IOException {
    String x =
        b.toAct(b.input(FEATURES, OnnxBuilder.FLOAT, "batch", (long) grid * grid, (long) hv));
    int gp = grid + (grid % 2);
    String y = b.reshape(x, 0, grid, grid, hv);
    if (gp != grid) {
      y = b.op("Pad", List.of(y, b.ints(0, 0, 0, 0, 0, 1, 1, 0)));
    }
    y = b.reshape(y, 0, gp, gp / 2, 2L * hv);
    y = b.transpose(y, 0, 2, 1, 3);
    y = b.reshape(y, 0, (long) (gp / 2) * (gp / 2), 4L * hv);
    int c = 4 * hv;
    y =
        b.toAct(
            b.op(
                "LayerNormalization",
                List.of(
                    b.toF32(y),
                    b.weightF32("layers.1.weight", t.get("layers.1.weight", c), c),
                    b.weightF32("layers.1.bias", t.get("layers.1.bias", c), c)),
                A.i("axis", -1),
                A.f("epsilon", 1e-5f)));
    Linears lin = new Linears(b, Linears.Mode.FLOAT, Linears.NBits.DEFAULT);
    y = lin.apply(y, "layers.2", t.get("layers.2.weight", h, c), h, c, t.get("layers.2.bias", h));
    y = activation(b, y, "gelu", contrib, "mm_projector");
    y = lin.apply(y, "layers.4", t.get("layers.4.weight", h, h), h, h, t.get("layers.4.bias", h));
    b.output(
        b.toF32(y), IMAGE_EMBEDS, OnnxBuilder.FLOAT, "batch", (long) (gp / 2) * (gp / 2), (long) h);
  }

  /** Token embedding lookup; a float16 table is gathered first and widened after. */
  static void embed(OnnxBuilder b, TensorSet t, int vocab, int h, boolean fp16) throws IOException {
    String ids = b.input(IDS, OnnxBuilder.INT64, "batch", "sequence");
    float[] table = t.get("model.embed_tokens.weight", vocab, h);
    String y;
    if (fp16) {
      ByteBuffer bb = ByteBuffer.allocate(table.length * 2).order(ByteOrder.LITTLE_ENDIAN);
      for (float v : table) {
        bb.putShort(Half.fromFloat(v));
      }
      bb.flip();
      String w = b.raw("model.embed_tokens.weight", OnnxBuilder.FLOAT16, bb, vocab, h);
      b.countParameters(table.length);
      y = b.op("Cast", List.of(b.op("Gather", List.of(w, ids))), A.i("to", OnnxBuilder.FLOAT));
    } else {
      y = b.op("Gather", List.of(b.weightF32("model.embed_tokens.weight", table, vocab, h), ids));
    }
    b.output(y, EMBEDS, OnnxBuilder.FLOAT, "batch", "sequence", (long) h);
  }
}

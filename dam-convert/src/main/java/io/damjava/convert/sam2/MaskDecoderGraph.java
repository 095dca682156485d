package io.damjava.convert.sam2;

import io.damjava.convert.OnnxBuilder;
import io.damjava.convert.OnnxBuilder.A;
import io.damjava.convert.TensorSet;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The SAM 2.1 prompt encoder + mask decoder graph, with the object-pointer projection.
 *
 * <p>Inputs (batch 1): {@code image_embed} [1, HW, C] (the memory-conditioned features, or a
 * prompted frame's raw features); {@code add_no_memory} [1] (1 adds {@code no_memory_embedding}, as
 * for a frame prompted before any memory exists); {@code high_res_s0} [1, C/8, 4h, 4w] and {@code
 * high_res_s1} [1, C/4, 2h, 2w] (conv_s0 / conv_s1 of the FPN's two finer levels); {@code
 * point_coords} [1, N, 2] in image_size pixels and {@code point_labels} [1, N] int64 (1 / 0 clicks,
 * 2 / 3 box corners, -1 not-a-point; the host appends the one padding point); {@code mask_input}
 * [1, 1, 4h, 4w] and {@code has_mask_input} [1] (0 uses {@code no_mask_embed}).
 *
 * <p>Outputs: {@code masks} [1, 4, 4h, 4w] low-res logits of the four mask tokens; {@code iou} [1,
 * 4] (sigmoid); {@code object_score} [1, 1]; {@code pointers} [1, 4, C] ({@code
 * object_pointer_proj} of each mask token). The host picks the mask and pointer and handles
 * occlusion (dam-onnx Sam2MaskChoice).
 */
public final class MaskDecoderGraph {
  private MaskDecoderGraph() {}

  /** Graph input and output names. */
  public static final String IMAGE = "image_embed";

  public static final String ADD_NO_MEMORY = "add_no_memory";
  public static final String S0 = "high_res_s0";
  public static final String S1 = "high_res_s1";
  public static final String COORDS = "point_coords";
  public static final String LABELS = "point_labels";
  public static final String MASK = "mask_input";
  public static final String HAS_MASK = "has_mask_input";
  public static final String MASKS = "masks";
  public static final String IOU = "iou";
  public static final String SCORE = "object_score";
  public static final String POINTERS = "pointers";

  /** Writes {@code out} (and its .data file) from the checkpoint in {@code t}. */
  public static void write(Sam2Config cfg, TensorSet t, Path out) throws IOException {
    try (OnnxBuilder b = new OnnxBuilder(out, false)) {
      build(b, cfg, t);
      b.save();
    }
  }

  static void build(OnnxBuilder b, Sam2Config cfg, TensorSet t) throws IOException {
    int c = cfg.hidden();
    long h = cfg.ropeH();
    long w = cfg.ropeW();
    int s = cfg.imageSize();
    com.fasterxml.jackson.databind.JsonNode dc = cfg.json().path("mask_decoder_config");
    com.fasterxml.jackson.databind.JsonNode pc = cfg.json().path("prompt_encoder_config");
    int heads = dc.path("num_attention_heads").asInt(8);
    int down = dc.path("attention_downsample_rate").asInt(2);
    int mlp = dc.path("mlp_dim").asInt(2048);
    int depth = dc.path("num_hidden_layers").asInt(2);
    int iouHidden = dc.path("iou_head_hidden_dim").asInt(256);
    int iouDepth = dc.path("iou_head_depth").asInt(3);
    int maskIn = pc.path("mask_input_channels").asInt(16);
    float peEps = (float) pc.path("layer_norm_eps").asDouble(1e-6);
    int tokens = dc.path("num_multimask_outputs").asInt(3) + 1;

    String img = b.input(IMAGE, OnnxBuilder.FLOAT, 1L, h * w, (long) c);
    String addNoMem = b.input(ADD_NO_MEMORY, OnnxBuilder.FLOAT, 1L);
    String s0 = b.input(S0, OnnxBuilder.FLOAT, 1L, (long) c / 8, 4 * h, 4 * w);
    String s1 = b.input(S1, OnnxBuilder.FLOAT, 1L, (long) c / 4, 2 * h, 2 * w);
    String coords = b.input(COORDS, OnnxBuilder.FLOAT, 1L, "points", 2L);
    String labels = b.input(LABELS, OnnxBuilder.INT64, 1L, "points");
    String maskInput = b.input(MASK, OnnxBuilder.FLOAT, 1L, 1L, 4 * h, 4 * w);
    String hasMask = b.input(HAS_MASK, OnnxBuilder.FLOAT, 1L);

    float[] gauss = t.get("shared_image_embedding.positional_embedding", 2, c / 2);
    String noMem =
        b.weightF32("no_memory_embedding", t.get("no_memory_embedding", 1, 1, c), 1, 1, c);
    img = b.add(img, b.mul(noMem, addNoMem));

    // sparse prompt: random-Fourier embedding of (coords + 0.5) / S, not-a-point, point embeddings
    String g = b.weightF32("shared_image_embedding.positional_embedding", gauss, 2, c / 2);
    String u = b.mul(b.add(coords, b.scalar(0.5f)), b.scalar(1f / s));
    String proj = b.matmul(b.op("Sub", List.of(b.mul(u, b.scalar(2f)), b.scalar(1f))), g);
    proj = b.mul(proj, b.scalar((float) (2 * Math.PI)));
    String pe =
        b.op(
            "Concat",
            List.of(b.op("Sin", List.of(proj)), b.op("Cos", List.of(proj))),
            A.i("axis", -1));
    String lab3 = b.op("Unsqueeze", List.of(labels, b.ints(-1)));
    String isNap = b.op("Equal", List.of(lab3, b.constI64(new long[0], -1)));
    String nap =
        b.weightF32(
            "prompt_encoder.not_a_point_embed.weight",
            t.get("prompt_encoder.not_a_point_embed.weight", 1, c),
            1,
            c);
    pe = b.op("Where", List.of(isNap, nap, pe));
    int npe = pc.path("num_point_embeddings").asInt(4);
    String pointEmbed =
        b.weightF32(
            "prompt_encoder.point_embed.weight",
            t.get("prompt_encoder.point_embed.weight", npe, c),
            npe,
            c);
    String clamped = b.op("Max", List.of(labels, b.constI64(new long[0], 0)));
    String valid =
        b.op(
            "Cast",
            List.of(b.op("Not", List.of(b.op("Less", List.of(lab3, b.constI64(new long[0], 0)))))),
            A.i("to", OnnxBuilder.FLOAT));
    pe = b.add(pe, b.mul(b.op("Gather", List.of(pointEmbed, clamped)), valid));

    // dense prompt: mask_embed(mask_input) or no_mask_embed
    String me = "prompt_encoder.mask_embed";
    String d = Sam2Ops.conv(b, t, maskInput, me + ".conv1", maskIn / 4, 1, 2, 2, 0, 1);
    d = Sam2Ops.gelu(b, Sam2Ops.layerNorm2d(b, t, d, me + ".layer_norm1", maskIn / 4, peEps));
    d = Sam2Ops.conv(b, t, d, me + ".conv2", maskIn, maskIn / 4, 2, 2, 0, 1);
    d = Sam2Ops.gelu(b, Sam2Ops.layerNorm2d(b, t, d, me + ".layer_norm2", maskIn, peEps));
    d = Sam2Ops.conv(b, t, d, me + ".conv3", c, maskIn, 1, 1, 0, 1);
    d = b.transpose(b.reshape(d, 1, c, h * w), 0, 2, 1);
    String noMask =
        b.weightF32(
            "prompt_encoder.no_mask_embed.weight",
            t.get("prompt_encoder.no_mask_embed.weight", 1, c),
            1,
            1,
            c);
    String dense =
        b.add(b.mul(d, hasMask), b.mul(noMask, b.op("Sub", List.of(b.scalar(1f), hasMask))));

    // tokens: obj_score, iou, mask tokens, then the sparse prompt
    String md = "mask_decoder";
    String out =
        b.op(
            "Concat",
            List.of(
                b.weightF32(
                    md + ".obj_score_token.weight",
                    t.get(md + ".obj_score_token.weight", 1, c),
                    1,
                    c),
                b.weightF32(md + ".iou_token.weight", t.get(md + ".iou_token.weight", 1, c), 1, c),
                b.weightF32(
                    md + ".mask_tokens.weight",
                    t.get(md + ".mask_tokens.weight", tokens, c),
                    tokens,
                    c)),
            A.i("axis", 0));
    String tok =
        b.op("Concat", List.of(b.op("Unsqueeze", List.of(out, b.ints(0))), pe), A.i("axis", 1));

    String keys = b.add(img, dense);
    String keyPe = b.weightF32("image_pe", imagePe(gauss, c, (int) h), 1, h * w, c);
    String q = tok;
    String tr = md + ".transformer";
    int inner = c / down;
    for (int l = 0; l < depth; l++) {
      String p = tr + ".layers." + l + ".";
      if (l == 0) {
        q = attention(b, t, p + "self_attn", q, q, q, c, c, heads);
      } else {
        String qq = b.add(q, tok);
        q = b.add(q, attention(b, t, p + "self_attn", qq, qq, q, c, c, heads));
      }
      q = Sam2Ops.layerNorm(b, t, q, p + "layer_norm1", c, 1e-5f);
      String att =
          attention(
              b,
              t,
              p + "cross_attn_token_to_image",
              b.add(q, tok),
              b.add(keys, keyPe),
              keys,
              c,
              inner,
              heads);
      q = Sam2Ops.layerNorm(b, t, b.add(q, att), p + "layer_norm2", c, 1e-5f);
      String m = b.op("Relu", List.of(Sam2Ops.linear(b, t, q, p + "mlp.proj_in", mlp, c)));
      m = Sam2Ops.linear(b, t, m, p + "mlp.proj_out", c, mlp);
      q = Sam2Ops.layerNorm(b, t, b.add(q, m), p + "layer_norm3", c, 1e-5f);
      att =
          attention(
              b,
              t,
              p + "cross_attn_image_to_token",
              b.add(keys, keyPe),
              b.add(q, tok),
              q,
              c,
              inner,
              heads);
      keys = Sam2Ops.layerNorm(b, t, b.add(keys, att), p + "layer_norm4", c, 1e-5f);
    }
    String att =
        attention(
            b,
            t,
            tr + ".final_attn_token_to_image",
            b.add(q, tok),
            b.add(keys, keyPe),
            keys,
            c,
            inner,
            heads);
    q = Sam2Ops.layerNorm(b, t, b.add(q, att), tr + ".layer_norm_final_attn", c, 1e-5f);

    // upscaling with the skip features
    String src = b.reshape(b.transpose(keys, 0, 2, 1), 1, c, h, w);
    String up = b.add(convT(b, t, src, md + ".upscale_conv1", c, c / 4), s1);
    up = Sam2Ops.gelu(b, Sam2Ops.layerNorm2d(b, t, up, md + ".upscale_layer_norm", c / 4, 1e-6f));
    up = Sam2Ops.gelu(b, b.add(convT(b, t, up, md + ".upscale_conv2", c / 4, c / 8), s0));
    String upFlat = b.reshape(up, 1, c / 8, 16 * h * w);

    List<String> hyper = new ArrayList<>();
    for (int i = 0; i < tokens; i++) {
      String ti = b.op("Gather", List.of(q, b.constI64(new long[0], 2 + i)), A.i("axis", 1));
      String hi = feedForward(b, t, md + ".output_hypernetworks_mlps." + i, ti, c, c, c / 8, 3);
      hyper.add(b.op("Unsqueeze", List.of(hi, b.ints(1))));
    }
    String hyperAll = b.op("Concat", hyper, A.i("axis", 1));
    String masks = b.reshape(b.matmul(hyperAll, upFlat), 1, tokens, 4 * h, 4 * w);
    String iouTok = b.op("Gather", List.of(q, b.constI64(new long[0], 1)), A.i("axis", 1));
    String iou =
        b.op(
            "Sigmoid",
            List.of(
                feedForward(
                    b, t, md + ".iou_prediction_head", iouTok, c, iouHidden, tokens, iouDepth)));
    String scoreTok = b.op("Gather", List.of(q, b.constI64(new long[0], 0)), A.i("axis", 1));
    String score = feedForward(b, t, md + ".pred_obj_score_head", scoreTok, c, c, 1, 3);
    b.output(masks, MASKS, OnnxBuilder.FLOAT, 1L, (long) tokens, 4 * h, 4 * w);
    b.output(iou, IOU, OnnxBuilder.FLOAT, 1L, (long) tokens);
    b.output(score, SCORE, OnnxBuilder.FLOAT, 1L, 1L);
    String maskTok = b.op("Slice", List.of(q, b.ints(2), b.ints(2 + tokens), b.ints(1)));
    String ptrs = feedForward(b, t, "object_pointer_proj", maskTok, c, c, c, 3);
    b.output(ptrs, POINTERS, OnnxBuilder.FLOAT, 1L, (long) tokens, (long) c);
  }

  /** Multi-head attention with q/k/v/o projections (HF Sam2Attention). */
  static String attention(
      OnnxBuilder b,
      TensorSet t,
      String name,
      String q,
      String k,
      String v,
      int c,
      int inner,
      int heads)
      throws IOException {
    int hd = inner / heads;
    String qh =
        b.transpose(
            b.reshape(Sam2Ops.linear(b, t, q, name + ".q_proj", inner, c), 1, -1, heads, hd),
            0,
            2,
            1,
            3);
    String kh =
        b.transpose(
            b.reshape(Sam2Ops.linear(b, t, k, name + ".k_proj", inner, c), 1, -1, heads, hd),
            0,
            2,
            3,
            1);
    String vh =
        b.transpose(
            b.reshape(Sam2Ops.linear(b, t, v, name + ".v_proj", inner, c), 1, -1, heads, hd),
            0,
            2,
            1,
            3);
    String sc = b.mul(b.matmul(qh, kh), b.scalar((float) StrictMath.pow(hd, -0.5)));
    String o = b.matmul(b.op("Softmax", List.of(sc), A.i("axis", -1)), vh);
    o = b.reshape(b.transpose(o, 0, 2, 1, 3), 1, -1, inner);
    return Sam2Ops.linear(b, t, o, name + ".o_proj", c, inner);
  }

  /** HF FeedForward: proj_in, ReLU, (layers.i, ReLU)*, proj_out. */
  static String feedForward(
      OnnxBuilder b, TensorSet t, String name, String x, int in, int hidden, int out, int n)
      throws IOException {
    String y = b.op("Relu", List.of(Sam2Ops.linear(b, t, x, name + ".proj_in", hidden, in)));
    for (int i = 0; i < n - 2; i++) {
      y = b.op("Relu", List.of(Sam2Ops.linear(b, t, y, name + ".layers." + i, hidden, hidden)));
    }
    return Sam2Ops.linear(b, t, y, name + ".proj_out", out, hidden);
  }

  /** ConvTranspose2d k2 s2 with HF weights [in, out, 2, 2]. */
  static String convT(OnnxBuilder b, TensorSet t, String x, String name, int in, int out)
      throws IOException {
    String w = b.weightF32(name + ".weight", t.get(name + ".weight", in, out, 2, 2), in, out, 2, 2);
    String bias = b.weightF32(name + ".bias", t.get(name + ".bias", out), out);
    return b.op(
        "ConvTranspose",
        List.of(x, w, bias),
        A.ints("kernel_shape", 2, 2),
        A.ints("strides", 2, 2));
  }

  /**
   * The dense positional encoding of the image grid: the random-Fourier embedding of cell centres
   * ((i + 0.5) / g), as [g * g][c] tokens, computed like torch in float32.
   */
  static float[] imagePe(float[] gauss, int c, int g) {
    int half = c / 2;
    float[] out = new float[g * g * c];
    for (int y = 0; y < g; y++) {
      float vy = ((float) y + 0.5f) / g;
      for (int x = 0; x < g; x++) {
        float vx = ((float) x + 0.5f) / g;
        float ax = 2f * vx - 1f;
        float ay = 2f * vy - 1f;
        for (int k = 0; k < half; k++) {
          float p = ax * gauss[k] + ay * gauss[half + k];
          p = (float) (2 * Math.PI) * p;
          out[(y * g + x) * c + k] = (float) StrictMath.sin(p);
          out[(y * g + x) * c + half + k] = (float) StrictMath.cos(p);
        }
      }
    }
    return out;
  }
}

package io.damjava.convert.sam2;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.ByteString;
import io.damjava.convert.OnnxBuilder;
import io.damjava.convert.OnnxBuilder.A;
import io.damjava.convert.TensorSet;
import io.damjava.convert.onnx.OnnxProto.AttributeProto;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The SAM 2.1 image-encoder graph: Hiera backbone, FPN neck, and the decoder's conv_s0 / conv_s1.
 *
 * <p>Input {@code pixel_values} [1, 3, S, S]. Outputs {@code vision_feat} [1, HW, C] (the
 * lowest-resolution FPN level used, raw), {@code high_res_s0} [1, C/8, 4h, 4w] and {@code
 * high_res_s1} [1, C/4, 2h, 2w]. The level's sine position encoding is a host constant.
 *
 * <p>Hiera: 7x7 stride-4 patch conv; plus the background position embedding bicubically resized
 * (computed here in Java like torch's align_corners=False bicubic, A = -0.75) and the window
 * embedding tiled over it. Then the multi-scale blocks: pre-LN; windowed attention (zero-padded to
 * whole windows) or global attention; 2x2 max-pool query pooling at the first block of pooled
 * stages (the residual is projected and pooled too); GELU MLP. Neck: 1x1 laterals and a nearest x2
 * top-down path into fpn_top_down_levels.
 */
public final class ImageEncoderGraph {
  private ImageEncoderGraph() {}

  /** Graph input and output names. */
  public static final String PIXELS = "pixel_values";

  public static final String FEAT = "vision_feat";
  public static final String S0 = "high_res_s0";
  public static final String S1 = "high_res_s1";

  /** Writes {@code out} (and its .data file) from the checkpoint in {@code t}. */
  public static void write(Sam2Config cfg, TensorSet t, Path out) throws IOException {
    try (OnnxBuilder b = new OnnxBuilder(out, false)) {
      build(b, cfg, t);
      b.save();
    }
  }

  static int[] ints(JsonNode a) {
    int[] r = new int[a.size()];
    for (int i = 0; i < r.length; i++) {
      r[i] = a.get(i).asInt();
    }
    return r;
  }

  static void build(OnnxBuilder b, Sam2Config cfg, TensorSet t) throws IOException {
    JsonNode vc = cfg.json().path("vision_config");
    JsonNode bc = vc.path("backbone_config");
    int s = cfg.imageSize();
    int c0 = bc.path("hidden_size").asInt(96);
    int[] blocks = ints(bc.path("blocks_per_stage"));
    int[] dims = ints(bc.path("embed_dim_per_stage"));
    int[] heads = ints(bc.path("num_attention_heads_per_stage"));
    int[] windows = ints(bc.path("window_size_per_stage"));
    int[] global = ints(bc.path("global_attention_blocks"));
    int[] bg = ints(bc.path("window_positional_embedding_background_size"));
    int poolStages = bc.path("num_query_pool_stages").asInt(3);
    float mlpRatio = (float) bc.path("mlp_ratio").asDouble(4.0);
    float eps = (float) bc.path("layer_norm_eps").asDouble(1e-6);
    int k = ints(bc.path("patch_kernel_size"))[0];
    int st = ints(bc.path("patch_stride"))[0];
    int pd = ints(bc.path("patch_padding"))[0];
    String bb = "vision_encoder.backbone";

    String x = b.input(PIXELS, OnnxBuilder.FLOAT, 1L, 3L, (long) s, (long) s);
    x = Sam2Ops.conv(b, t, x, bb + ".patch_embed.projection", c0, 3, k, st, pd, 1);
    int res = s / st;
    x = b.transpose(x, 0, 2, 3, 1);
    float[] bgEmbed = t.get(bb + ".pos_embed", 1, c0, bg[0], bg[1]);
    float[] win = t.get(bb + ".pos_embed_window", 1, c0, windows[0], windows[0]);
    x =
        b.add(
            x,
            b.weightF32(
                "hiera.pos",
                positionEmbedding(bgEmbed, win, c0, bg, windows[0], res),
                1,
                res,
                res,
                c0));

    List<String> stageOuts = new ArrayList<>();
    int total = 0;
    int dim = c0;
    for (int stage = 0; stage < blocks.length; stage++) {
      for (int blk = 0; blk < blocks[stage]; blk++) {
        boolean first = stage > 0 && blk == 0;
        int dimOut = dims[stage];
        int ws = first ? windows[stage - 1] : windows[stage];
        boolean isGlobal = false;
        for (int gb : global) {
          isGlobal |= gb == total;
        }
        if (isGlobal) {
          ws = 0;
        }
        boolean pool = stage > 0 && stage <= poolStages && blk == 0;
        x =
            block(
                b,
                t,
                bb + ".blocks." + total,
                x,
                res,
                dim,
                dimOut,
                heads[stage],
                ws,
                pool,
                mlpRatio,
                eps);
        if (pool) {
          res /= 2;
        }
        dim = dimOut;
        total++;
      }
      stageOuts.add(x);
    }

    // neck
    int hidden = cfg.hidden();
    int n = stageOuts.size() - 1;
    List<Integer> topDown = new ArrayList<>();
    vc.path("fpn_top_down_levels").forEach(v -> topDown.add(v.asInt()));
    int[] chans = ints(vc.path("backbone_channel_list"));
    String prev = null;
    String[] levels = new String[n + 1];
    for (int i = n; i >= 0; i--) {
      String lat = b.transpose(stageOuts.get(i), 0, 3, 1, 2);
      lat =
          Sam2Ops.conv(
              b, t, lat, "vision_encoder.neck.convs." + (n - i), hidden, chans[n - i], 1, 1, 0, 1);
      if (!topDown.contains(i) || i == n) {
        prev = lat;
      } else {
        String up =
            b.op(
                "Resize",
                List.of(prev, "", b.constF(new long[] {4}, 1f, 1f, 2f, 2f)),
                str("mode", "nearest"),
                str("coordinate_transformation_mode", "asymmetric"),
                str("nearest_mode", "floor"));
        prev = b.add(lat, up);
      }
      levels[i] = prev;
    }
    String md = "mask_decoder";
    String s0 = Sam2Ops.conv(b, t, levels[0], md + ".conv_s0", hidden / 8, hidden, 1, 1, 0, 1);
    String s1 = Sam2Ops.conv(b, t, levels[1], md + ".conv_s1", hidden / 4, hidden, 1, 1, 0, 1);
    long hw = (long) cfg.ropeW() * cfg.ropeH();
    String feat = b.transpose(b.reshape(levels[2], 1, hidden, hw), 0, 2, 1);
    long r0 = 4L * cfg.ropeH();
    b.output(feat, FEAT, OnnxBuilder.FLOAT, 1L, hw, (long) hidden);
    b.output(s0, S0, OnnxBuilder.FLOAT, 1L, (long) hidden / 8, r0, r0);
    b.output(s1, S1, OnnxBuilder.FLOAT, 1L, (long) hidden / 4, r0 / 2, r0 / 2);
  }

  static String block(
      OnnxBuilder b,
      TensorSet t,
      String p,
      String x,
      int res,
      int dim,
      int dimOut,
      int heads,
      int ws,
      boolean pool,
      float mlpRatio,
      float eps)
      throws IOException {
    String h = Sam2Ops.layerNorm(b, t, x, p + ".layer_norm1", dim, eps);
    String residual = x;
    if (dim != dimOut) {
      residual = Sam2Ops.linear(b, t, h, p + ".proj", dimOut, dim);
      if (pool) {
        residual = maxPool(b, residual);
      }
    }
    String a;
    int outRes = pool ? res / 2 : res;
    if (ws > 0) {
      int padded = (res + ws - 1) / ws * ws;
      String y = h;
      if (padded != res) {
        y = b.op("Pad", List.of(y, b.ints(0, 0, 0, 0, 0, padded - res, padded - res, 0)));
      }
      int nw = padded / ws;
      y = b.reshape(y, 1, nw, ws, nw, ws, dim);
      y = b.transpose(y, 0, 1, 3, 2, 4, 5);
      y = b.reshape(y, (long) nw * nw, ws, ws, dim);
      int wsOut = pool ? ws / 2 : ws;
      y = attention(b, t, p + ".attn", y, nw * nw, ws, dim, dimOut, heads, pool);
      y = b.reshape(y, 1, nw, nw, wsOut, wsOut, dimOut);
      y = b.transpose(y, 0, 1, 3, 2, 4, 5);
      y = b.reshape(y, 1, (long) nw * wsOut, (long) nw * wsOut, dimOut);
      if (nw * wsOut != outRes) {
        y = b.op("Slice", List.of(y, b.ints(0, 0), b.ints(outRes, outRes), b.ints(1, 2)));
      }
      a = y;
    } else {
      a = attention(b, t, p + ".attn", h, 1, res, dim, dimOut, heads, pool);
    }
    x = b.add(residual, a);
    String m = Sam2Ops.layerNorm(b, t, x, p + ".layer_norm2", dimOut, eps);
    int hid = (int) (dimOut * mlpRatio);
    m = Sam2Ops.gelu(b, Sam2Ops.linear(b, t, m, p + ".mlp.proj_in", hid, dimOut));
    m = Sam2Ops.linear(b, t, m, p + ".mlp.proj_out", dimOut, hid);
    return b.add(x, m);
  }

  /** Multi-scale attention on [B, side, side, dim] -> [B, side', side', dimOut]. */
  static String attention(
      OnnxBuilder b,
      TensorSet t,
      String p,
      String x,
      int batch,
      int side,
      int dim,
      int dimOut,
      int heads,
      boolean pool)
      throws IOException {
    int hd = dimOut / heads;
    String qkv = Sam2Ops.linear(b, t, x, p + ".qkv", 3 * dimOut, dim);
    qkv = b.reshape(qkv, batch, (long) side * side, 3, heads, hd);
    String q = b.op("Gather", List.of(qkv, b.constI64(new long[0], 0)), A.i("axis", 2));
    String kk = b.op("Gather", List.of(qkv, b.constI64(new long[0], 1)), A.i("axis", 2));
    String v = b.op("Gather", List.of(qkv, b.constI64(new long[0], 2)), A.i("axis", 2));
    int outSide = side;
    if (pool) {
      q = maxPool(b, b.reshape(q, batch, side, side, dimOut));
      outSide = side / 2;
      q = b.reshape(q, batch, (long) outSide * outSide, heads, hd);
    }
    q = b.transpose(q, 0, 2, 1, 3);
    kk = b.transpose(kk, 0, 2, 3, 1);
    v = b.transpose(v, 0, 2, 1, 3);
    String sc = b.mul(b.matmul(q, kk), b.scalar((float) StrictMath.pow(hd, -0.5)));
    String o = b.matmul(b.op("Softmax", List.of(sc), A.i("axis", -1)), v);
    o = b.reshape(b.transpose(o, 0, 2, 1, 3), batch, outSide, outSide, dimOut);
    return Sam2Ops.linear(b, t, o, p + ".proj", dimOut, dimOut);
  }

  /** 2x2 stride-2 max pool of an NHWC tensor. */
  static String maxPool(OnnxBuilder b, String x) {
    String y = b.transpose(x, 0, 3, 1, 2);
    y = b.op("MaxPool", List.of(y), A.ints("kernel_shape", 2, 2), A.ints("strides", 2, 2));
    return b.transpose(y, 0, 2, 3, 1);
  }

  /**
   * pos_embed [1, c, bh, bw] bicubically resized to res x res, plus pos_embed_window [1, c, w, w]
   * tiled, as NHWC [res][res][c].
   */
  static float[] positionEmbedding(float[] bg, float[] win, int c, int[] bgSize, int w, int res) {
    int bh = bgSize[0];
    int bw = bgSize[1];
    float[] out = new float[res * res * c];
    float scaleY = (float) bh / res;
    float scaleX = (float) bw / res;
    for (int oy = 0; oy < res; oy++) {
      float sy = scaleY * (oy + 0.5f) - 0.5f;
      int iy = (int) Math.floor(sy);
      float ty = sy - iy;
      float[] wy = cubicWeights(ty);
      for (int ox = 0; ox < res; ox++) {
        float sx = scaleX * (ox + 0.5f) - 0.5f;
        int ix = (int) Math.floor(sx);
        float tx = sx - ix;
        float[] wx = cubicWeights(tx);
        for (int ch = 0; ch < c; ch++) {
          float acc = 0f;
          for (int a = 0; a < 4; a++) {
            int yy = Math.min(Math.max(iy - 1 + a, 0), bh - 1);
            float row = 0f;
            for (int e = 0; e < 4; e++) {
              int xx = Math.min(Math.max(ix - 1 + e, 0), bw - 1);
              row += wx[e] * bg[(ch * bh + yy) * bw + xx];
            }
            acc += wy[a] * row;
          }
          float tile = win[(ch * w + oy % w) * w + ox % w];
          out[(oy * res + ox) * c + ch] = acc + tile;
        }
      }
    }
    return out;
  }

  static float[] cubicWeights(float t) {
    float a = -0.75f;
    float x1 = t + 1f;
    float x2 = t;
    float x3 = 1f - t;
    float x4 = 2f - t;
    return new float[] {
      ((a * x1 - 5f * a) * x1 + 8f * a) * x1 - 4f * a,
      ((a + 2f) * x2 - (a + 3f)) * x2 * x2 + 1f,
      ((a + 2f) * x3 - (a + 3f)) * x3 * x3 + 1f,
      ((a * x4 - 5f * a) * x4 + 8f * a) * x4 - 4f * a
    };
  }

  private static A str(String name, String value) {
    return new A(
        AttributeProto.newBuilder()
            .setName(name)
            .setType(AttributeProto.AttributeType.STRING)
            .setS(ByteString.copyFromUtf8(value))
            .build());
  }
}

package io.damjava.convert.sam2;

import com.google.protobuf.ByteString;
import io.damjava.convert.CheckpointException;
import io.damjava.convert.OnnxBuilder;
import io.damjava.convert.OnnxBuilder.A;
import io.damjava.convert.TensorSet;
import io.damjava.convert.onnx.OnnxProto.AttributeProto;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * The SAM 2.1 memory-encoder graph: a frame's features and predicted mask become its memory.
 *
 * <p>Inputs: {@code vision_feat} [1, HW, C] (the frame's raw lowest-resolution features, without
 * the no-memory embedding); {@code mask_logits} [1, 1, h, w] at any size, bilinearly resized to
 * image_size (half-pixel, as torch's align_corners=False; the decoder's low-res logits, or the
 * full-resolution ±10 logits of a mask prompt); {@code from_prompt} [1] (1: binarise the mask, as
 * for prompted frames; 0: sigmoid, as for tracked frames); {@code object_score} [1] (<= 0 adds the
 * occlusion embedding). Output: {@code maskmem} [1, HW, memDim] in float32; the host rounds it to
 * bfloat16 when storing it, as both upstreams do. The memory's sine position encoding is a constant
 * the host computes.
 *
 * <p>Steps: mask x sigmoid_scale + sigmoid_bias; {@code mask_downsampler} (stride-2 conv, channels
 * LayerNorm, GELU) x log2(total_stride), then a 1x1 conv; add the 1x1 {@code feature_projection} of
 * the features; {@code memory_fuser} ConvNeXt blocks (depthwise 7x7, LayerNorm, Linear, GELU,
 * Linear, layer scale, residual); 1x1 {@code projection} to memDim.
 */
public final class MemoryEncoderGraph {
  private MemoryEncoderGraph() {}

  /** Graph input and output names. */
  public static final String FEAT = "vision_feat";

  public static final String MASK = "mask_logits";
  public static final String FROM_PROMPT = "from_prompt";
  public static final String SCORE = "object_score";
  public static final String OUT = "maskmem";

  /** Writes {@code out} (and its .data file) from the checkpoint in {@code t}. */
  public static void write(Sam2Config cfg, TensorSet t, Path out) throws IOException {
    try (OnnxBuilder b = new OnnxBuilder(out, false)) {
      build(b, cfg, t);
      b.save();
    }
  }

  static void build(OnnxBuilder b, Sam2Config cfg, TensorSet t) throws IOException {
    int c = cfg.intField("memory_encoder_hidden_size", 256);
    int m = cfg.memDim();
    int s = cfg.imageSize();
    long h = cfg.ropeH();
    long w = cfg.ropeW();
    if (c != cfg.hidden()) {
      throw new CheckpointException(
          "memory_encoder_hidden_size " + c + " differs from fpn_hidden_size " + cfg.hidden());
    }
    String feat = b.input(FEAT, OnnxBuilder.FLOAT, 1L, h * w, (long) c);
    String mask = b.input(MASK, OnnxBuilder.FLOAT, 1L, 1L, "mask_height", "mask_width");
    String fromPrompt = b.input(FROM_PROMPT, OnnxBuilder.FLOAT, 1L);
    String score = b.input(SCORE, OnnxBuilder.FLOAT, 1L);

    String high =
        b.op(
            "Resize",
            List.of(mask, "", "", b.ints(1, 1, s, s)),
            str("mode", "linear"),
            str("coordinate_transformation_mode", "half_pixel"));
    String hard =
        b.op(
            "Cast",
            List.of(b.op("Greater", List.of(high, b.scalar(0f)))),
            A.i("to", OnnxBuilder.FLOAT));
    String soft = b.op("Sigmoid", List.of(high));
    String one = b.scalar(1f);
    String mm = b.add(b.mul(hard, fromPrompt), b.mul(soft, b.op("Sub", List.of(one, fromPrompt))));
    mm =
        b.add(
            b.mul(mm, b.scalar(cfg.floatField("sigmoid_scale_for_mem_enc", 20f))),
            b.scalar(cfg.floatField("sigmoid_bias_for_mem_enc", -10f)));

    int k = cfg.intField("mask_downsampler_kernel_size", 3);
    int st = cfg.intField("mask_downsampler_stride", 2);
    int pd = cfg.intField("mask_downsampler_padding", 1);
    int total = cfg.intField("mask_downsampler_total_stride", 16);
    int layers = (int) Math.round(Math.log(total) / Math.log(st));
    int in = 1;
    String x = mm;
    for (int i = 0; i < layers; i++) {
      String p = "memory_encoder.mask_downsampler.layers." + i;
      int out = in * st * st;
      x = Sam2Ops.conv(b, t, x, p + ".conv", out, in, k, st, pd, 1);
      x = Sam2Ops.gelu(b, Sam2Ops.layerNorm2d(b, t, x, p + ".layer_norm", out, 1e-6f));
      in = out;
    }
    int embed = cfg.intField("mask_downsampler_embed_dim", 256);
    x = Sam2Ops.conv(b, t, x, "memory_encoder.mask_downsampler.final_conv", embed, in, 1, 1, 0, 1);

    String pix = b.reshape(b.transpose(feat, 0, 2, 1), 1, c, h, w);
    pix = Sam2Ops.conv(b, t, pix, "memory_encoder.feature_projection", c, c, 1, 1, 0, 1);
    x = b.add(pix, x);

    int fuserLayers = cfg.intField("memory_fuser_num_layers", 2);
    int inter = cfg.intField("memory_fuser_intermediate_dim", 1024);
    int fk = cfg.intField("memory_fuser_kernel_size", 7);
    int fp = cfg.intField("memory_fuser_padding", 3);
    for (int i = 0; i < fuserLayers; i++) {
      String p = "memory_encoder.memory_fuser.layers." + i;
      String y = Sam2Ops.conv(b, t, x, p + ".depthwise_conv", c, c, fk, 1, fp, c);
      y = b.transpose(Sam2Ops.layerNorm2d(b, t, y, p + ".layer_norm", c, 1e-6f), 0, 2, 3, 1);
      y = Sam2Ops.gelu(b, Sam2Ops.linear(b, t, y, p + ".pointwise_conv1", inter, c));
      y = Sam2Ops.linear(b, t, y, p + ".pointwise_conv2", c, inter);
      y = b.mul(y, b.weightF32(p + ".scale", t.get(p + ".scale", c), c));
      x = b.add(x, b.transpose(y, 0, 3, 1, 2));
    }
    x = Sam2Ops.conv(b, t, x, "memory_encoder.projection", m, c, 1, 1, 0, 1);

    String appearing =
        b.op(
            "Cast",
            List.of(b.op("Greater", List.of(score, b.scalar(0f)))),
            A.i("to", OnnxBuilder.FLOAT));
    String occl =
        b.weightF32(
            "occlusion_spatial_embedding_parameter",
            t.get("occlusion_spatial_embedding_parameter", 1, m),
            1,
            m,
            1,
            1);
    x = b.add(x, b.mul(occl, b.op("Sub", List.of(one, appearing))));
    x = b.transpose(b.reshape(x, 1, m, h * w), 0, 2, 1);
    b.output(x, OUT, OnnxBuilder.FLOAT, 1L, h * w, (long) m);
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

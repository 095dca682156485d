package io.damjava.convert;

import io.damjava.convert.OnnxBuilder.A;
import io.damjava.onnx.bundle.SamManifest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

/**
 * Tiny SAM graphs with the exact I/O names, dtypes and ranks of the two public layouts, written
 * with OnnxBuilder, for plumbing tests. They are not SAM: the encoder average-pools the pixels and
 * mixes them with a random 1x1 convolution into (1, 256, 64, 64); the decoder's low-res candidate k
 * is a diamond of radius RADII[k] (in 1024-frame pixels) around the positive clicks (or, SAM
 * layout, a box grown by BOX_GROW[k]), and its predicted IoU is {@code a_k · mean(x) / 1024 + b_k},
 * so the best candidate depends on where the prompt is: candidate 1 (radius 120) left of x = 512,
 * candidate 0 (radius 60) right of it. The SAM-layout decoder has 4 candidates whose first (the
 * single-mask token) always scores highest and must be skipped.
 *
 * <p>Public because dam-cli's tests use it through dam-convert's test jar.
 */
public final class TinySam {
  static final float[] RADII = {60, 120, 200};
  static final float[] BOX_GROW = {-16, 0, 16};

  private TinySam() {}

  /** An HF split bundle (Optimum names: vision_encoder.onnx, prompt_encoder_mask_decoder.onnx). */
  public static Path hfBundle(Path dir) throws IOException {
    Files.createDirectories(dir);
    encoder(dir.resolve("vision_encoder.onnx"), true);
    hfDecoder(dir.resolve("prompt_encoder_mask_decoder.onnx"));
    return SamBundles.write(
        dir,
        SamManifest.Layout.HF_SPLIT,
        "tiny",
        "vision_encoder.onnx",
        "prompt_encoder_mask_decoder.onnx",
        SamManifest.Processor.defaults());
  }

  /** A segment-anything layout bundle (decoder as scripts/export_onnx_model.py names it). */
  public static Path samBundle(Path dir) throws IOException {
    Files.createDirectories(dir);
    encoder(dir.resolve("encoder.onnx"), false);
    samDecoder(dir.resolve("decoder.onnx"));
    return SamBundles.write(
        dir,
        SamManifest.Layout.SAM_ONNX,
        "tiny",
        "encoder.onnx",
        "decoder.onnx",
        SamManifest.Processor.defaults());
  }

  static void encoder(Path file, boolean positional) throws IOException {
    try (OnnxBuilder b = new OnnxBuilder(file, false)) {
      String x = b.input("pixel_values", OnnxBuilder.FLOAT, 1L, 3L, 1024L, 1024L);
      String pooled =
          b.op(
              "AveragePool", List.of(x), A.ints("kernel_shape", 16, 16), A.ints("strides", 16, 16));
      Random r = new Random(7);
      float[] w = new float[256 * 3];
      for (int i = 0; i < w.length; i++) {
        w[i] = (float) r.nextGaussian();
      }
      String emb = b.op("Conv", List.of(pooled, b.weight("proj", w, 256, 3, 1, 1)));
      b.output(emb, "image_embeddings", OnnxBuilder.FLOAT, 1L, 256L, 64L, 64L);
      if (positional) {
        String pe = b.mul(b.op("Identity", List.of(emb)), b.scalar(0.5f));
        b.output(pe, "image_positional_embeddings", OnnxBuilder.FLOAT, 1L, 256L, 64L, 64L);
      }
      b.save();
    }
  }

  /** (1, 1, 1, 256, 256) or (1, 1, 256, 256) grids of low-res pixel centres in the 1024 frame. */
  private static String[] grids(OnnxBuilder b, long... dims) {
    float[] gx = new float[256 * 256];
    float[] gy = new float[256 * 256];
    for (int i = 0; i < 256; i++) {
      for (int j = 0; j < 256; j++) {
        gx[i * 256 + j] = (j + 0.5f) * 4;
        gy[i * 256 + j] = (i + 0.5f) * 4;
      }
    }
    return new String[] {b.constF(dims, gx), b.constF(dims, gy)};
  }

  private static String embTerm(OnnxBuilder b, String... embeddings) {
    String sum = null;
    for (String e : embeddings) {
      String m = b.op("ReduceMean", List.of(e), A.ints("axes", 0, 1, 2, 3), A.i("keepdims", 0));
      sum = sum == null ? m : b.add(sum, m);
    }
    return b.mul(sum, b.scalar(1e-3f));
  }

  static void hfDecoder(Path file) throws IOException {
    try (OnnxBuilder b = new OnnxBuilder(file, false)) {
      String emb = b.input("image_embeddings", OnnxBuilder.FLOAT, "batch_size", 256L, 64L, 64L);
      String pe =
          b.input("image_positional_embeddings", OnnxBuilder.FLOAT, "batch_size", 256L, 64L, 64L);
      String pts =
          b.input(
              "input_points",
              OnnxBuilder.FLOAT,
              "batch_size",
              "point_batch_size",
              "nb_points_per_image",
              2L);
      String labels =
          b.input(
              "input_labels",
              OnnxBuilder.INT64,
              "batch_size",
              "point_batch_size",
              "nb_points_per_image");
      String[] g = grids(b, 1, 1, 1, 256, 256);
      String px = b.op("Slice", List.of(pts, b.ints(0), b.ints(1), b.ints(3))); // (B,P,N,1)
      String py = b.op("Slice", List.of(pts, b.ints(1), b.ints(2), b.ints(3)));
      px = b.op("Unsqueeze", List.of(px, b.ints(4))); // (B,P,N,1,1)
      py = b.op("Unsqueeze", List.of(py, b.ints(4)));
      String dist =
          b.add(
              b.op("Abs", List.of(b.op("Sub", List.of(g[0], px)))),
              b.op("Abs", List.of(b.op("Sub", List.of(g[1], py)))));
      String labF = b.op("Cast", List.of(labels), A.i("to", OnnxBuilder.FLOAT));
      String pen = b.mul(b.op("Sub", List.of(b.scalar(1f), labF)), b.scalar(-1e4f));
      pen = b.op("Unsqueeze", List.of(pen, b.ints(3, 4))); // (B,P,N,1,1)
      String score =
          b.op(
              "ReduceMax",
              List.of(b.add(b.op("Neg", List.of(dist)), pen)),
              A.ints("axes", 2),
              A.i("keepdims", 1)); // (B,P,1,256,256)
      String logits =
          b.add(
              b.mul(b.add(score, b.constF(new long[] {1, 1, 3, 1, 1}, RADII)), b.scalar(0.1f)),
              embTerm(b, emb, pe));
      b.output(
          logits,
          "pred_masks",
          OnnxBuilder.FLOAT,
          "batch_size",
          "point_batch_size",
          3L,
          256L,
          256L);
      String mx =
          b.op("ReduceMean", List.of(px), A.ints("axes", 2, 3, 4), A.i("keepdims", 0)); // (B,P)
      mx = b.op("Unsqueeze", List.of(b.mul(mx, b.scalar(1 / 1024f)), b.ints(2)));
      String iou =
          b.add(
              b.mul(mx, b.constF(new long[] {1, 1, 3}, 1, -1, 0)),
              b.constF(new long[] {1, 1, 3}, 0, 1, 0.5f));
      b.output(iou, "iou_scores", OnnxBuilder.FLOAT, "batch_size", "point_batch_size", 3L);
      b.save();
    }
  }

  static void samDecoder(Path file) throws IOException {
    try (OnnxBuilder b = new OnnxBuilder(file, false)) {
      String emb = b.input("image_embeddings", OnnxBuilder.FLOAT, 1L, 256L, 64L, 64L);
      String pts = b.input("point_coords", OnnxBuilder.FLOAT, 1L, "num_points", 2L);
      String labels = b.input("point_labels", OnnxBuilder.FLOAT, 1L, "num_points");
      String maskIn = b.input("mask_input", OnnxBuilder.FLOAT, 1L, 1L, 256L, 256L);
      String hasMask = b.input("has_mask_input", OnnxBuilder.FLOAT, 1L);
      String size = b.input("orig_im_size", OnnxBuilder.FLOAT, 2L);
      String[] g = grids(b, 1, 1, 256, 256);
      String px =
          b.op(
              "Unsqueeze",
              List.of(
                  b.op("Slice", List.of(pts, b.ints(0), b.ints(1), b.ints(2))),
                  b.ints(3))); // (1,N,1,1)
      String py =
          b.op(
              "Unsqueeze",
              List.of(b.op("Slice", List.of(pts, b.ints(1), b.ints(2), b.ints(2))), b.ints(3)));
      String lab = b.op("Unsqueeze", List.of(labels, b.ints(2, 3))); // (1,N,1,1)
      String pos =
          b.op(
              "Cast",
              List.of(b.op("Equal", List.of(lab, b.scalar(1f)))),
              A.i("to", OnnxBuilder.FLOAT));
      String pen = b.mul(b.op("Sub", List.of(b.scalar(1f), pos)), b.scalar(-1e4f));
      String dist =
          b.add(
              b.op("Abs", List.of(b.op("Sub", List.of(g[0], px)))),
              b.op("Abs", List.of(b.op("Sub", List.of(g[1], py)))));
      String score =
          b.op(
              "ReduceMax",
              List.of(b.add(b.op("Neg", List.of(dist)), pen)),
              A.ints("axes", 1),
              A.i("keepdims", 1));
      String[] corner = new String[4];
      for (int c = 0; c < 4; c++) {
        String sel =
            b.op(
                "Cast",
                List.of(b.op("Equal", List.of(lab, b.scalar(c < 2 ? 2f : 3f)))),
                A.i("to", OnnxBuilder.FLOAT));
        corner[c] =
            b.op(
                "ReduceSum",
                List.of(b.mul(c % 2 == 0 ? px : py, sel), b.ints(1)),
                A.i("keepdims", 1));
      }
      String box =
          b.op(
              "Min",
              List.of(
                  b.op("Sub", List.of(g[0], corner[0])),
                  b.op("Sub", List.of(corner[2], g[0])),
                  b.op("Sub", List.of(g[1], corner[1])),
                  b.op("Sub", List.of(corner[3], g[1]))));
      String cand =
          b.op(
              "Max",
              List.of(
                  b.add(
                      score, b.constF(new long[] {1, 4, 1, 1}, 300, RADII[0], RADII[1], RADII[2])),
                  b.add(
                      box,
                      b.constF(
                          new long[] {1, 4, 1, 1}, 40, BOX_GROW[0], BOX_GROW[1], BOX_GROW[2]))));
      String extra =
          b.add(
              embTerm(b, emb),
              b.mul(
                  b.op(
                      "ReduceMean",
                      List.of(maskIn),
                      A.ints("axes", 0, 1, 2, 3),
                      A.i("keepdims", 0)),
                  b.op("Squeeze", List.of(hasMask))));
      String low = b.add(b.mul(cand, b.scalar(0.1f)), extra);
      b.output(low, "low_res_masks", OnnxBuilder.FLOAT, 1L, 4L, 256L, 256L);
      String sizes =
          b.op(
              "Concat",
              List.of(b.ints(1, 4), b.op("Cast", List.of(size), A.i("to", OnnxBuilder.INT64))),
              A.i("axis", 0));
      String masks =
          b.op(
              "Resize",
              List.of(low, "", "", sizes),
              new A(
                  io.damjava.convert.onnx.OnnxProto.AttributeProto.newBuilder()
                      .setName("mode")
                      .setType(
                          io.damjava.convert.onnx.OnnxProto.AttributeProto.AttributeType.STRING)
                      .setS(com.google.protobuf.ByteString.copyFromUtf8("linear"))
                      .build()));
      b.output(masks, "masks", OnnxBuilder.FLOAT, 1L, 4L, "height", "width");
      String mx =
          b.mul(
              b.op("ReduceMean", List.of(px), A.ints("axes", 0, 1, 2, 3), A.i("keepdims", 1)),
              b.scalar(1 / 1024f)); // (1,1,1,1)
      mx = b.reshape(mx, 1, 1);
      String iou =
          b.add(
              b.mul(mx, b.constF(new long[] {1, 4}, 0, 1, -1, 0)),
              b.constF(new long[] {1, 4}, 10, 0, 1, 0.5f));
      b.output(iou, "iou_predictions", OnnxBuilder.FLOAT, 1L, 4L);
      b.save();
    }
  }
}

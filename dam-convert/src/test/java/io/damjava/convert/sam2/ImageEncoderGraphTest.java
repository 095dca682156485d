package io.damjava.convert.sam2;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.damjava.convert.TensorSet;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The image-encoder graph (Hiera + FPN + conv_s0/s1) on a real frame's pixel_values against the
 * reference's features for that frame (click_f6, frame 6). The tiny config exercises windows that
 * need zero padding (6 on an 8x8 map), query pooling inside windows, a global block, and the
 * top-down path. Tolerance: 1e-4 x max(1, |v|). Both sides are float32; the bicubic position table
 * is computed in Java, and the kernels' summation order differs. Measured maxima are printed.
 */
class ImageEncoderGraphTest {
  static final Path REPO = Path.of("..").toAbsolutePath().normalize();
  static final Path CKPT = REPO.resolve("tools/reference/fixtures/sam2-tiny");
  static final Path GOLD = REPO.resolve("tools/reference/sam2/goldens");

  static float[] f32(String file) throws IOException {
    ByteBuffer b =
        ByteBuffer.wrap(Files.readAllBytes(GOLD.resolve(file))).order(ByteOrder.LITTLE_ENDIAN);
    float[] out = new float[b.remaining() / 4];
    b.asFloatBuffer().get(out);
    return out;
  }

  @Test
  void matchesTheReferenceFeatures(@TempDir Path dir) throws Exception {
    Sam2Config cfg = Sam2Config.read(CKPT);
    Path graph = dir.resolve("image_encoder.onnx");
    try (TensorSet t = TensorSet.open(CKPT)) {
      ImageEncoderGraph.write(cfg, t, graph);
    }
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    float[] pv = f32("click_f6_cond_f06_pixel_values.f32");
    Map<String, String> want =
        Map.of(
            ImageEncoderGraph.FEAT, "click_f6_cond_f06_vision_feat.f32",
            ImageEncoderGraph.S0, "click_f6_cond_f06_s0.f32",
            ImageEncoderGraph.S1, "click_f6_cond_f06_s1.f32");
    try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
      o.setIntraOpNumThreads(1);
      try (OrtSession s = env.createSession(graph.toString(), o);
          OnnxTensor in =
              OnnxTensor.createTensor(env, FloatBuffer.wrap(pv), new long[] {1, 3, 128, 128});
          OrtSession.Result r = s.run(Map.of(ImageEncoderGraph.PIXELS, in))) {
        for (var e : want.entrySet()) {
          OnnxTensor out = (OnnxTensor) r.get(e.getKey()).get();
          FloatBuffer fb = out.getFloatBuffer();
          float[] got = new float[fb.remaining()];
          fb.get(got);
          float[] ref = f32(e.getValue());
          assertEquals(ref.length, got.length, e.getKey());
          double max = 0;
          for (int i = 0; i < ref.length; i++) {
            max = Math.max(max, Math.abs(got[i] - ref[i]) / Math.max(1, Math.abs(ref[i])));
          }
          System.out.printf("image encoder %s: max rel diff %.3g%n", e.getKey(), max);
          assertTrue(max < 1e-4, e.getKey() + ": " + max);
        }
        assertArrayEquals(
            new long[] {1, 64, 64},
            ((OnnxTensor) r.get(ImageEncoderGraph.FEAT).get()).getInfo().getShape());
      }
    }
  }
}

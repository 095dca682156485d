package io.damjava.convert.sam2;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.damjava.api.InvalidBundleException;
import io.damjava.convert.CheckpointException;
import io.damjava.convert.TensorSet;
import io.damjava.onnx.sam2.Sam2Bundle;
import io.damjava.onnx.sam2.Sam2VideoPredictor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bundle round trip from the tiny checkpoint. The manifest's host tensors equal the checkpoint's,
 * and a predictor opened from the bundle tracks the click case forward as the reference does
 * (tokens and occlusions exact, scores within 1e-3). A changed byte, a missing file or a non-empty
 * output folder is a typed error.
 */
class Sam2BundlesTest {
  static final Path CKPT =
      Path.of("..").toAbsolutePath().normalize().resolve("tools/reference/fixtures/sam2-tiny");

  @Test
  void roundTripAndPredict(@TempDir Path dir) throws Exception {
    Path out = Sam2Bundles.write(CKPT, dir.resolve("b"));
    Sam2Bundle b = Sam2Bundle.read(out);
    try (TensorSet t = TensorSet.open(CKPT)) {
      assertArrayEquals(t.get("no_object_pointer", 1, 64), b.params().noObjectPointer());
      float[] tpe = t.get("memory_temporal_positional_encoding", 7, 1, 1, 32);
      for (int i = 0; i < 7; i++) {
        for (int c = 0; c < 32; c++) {
          assertEquals(tpe[i * 32 + c], b.params().memoryTemporalEncoding()[i][c]);
        }
      }
    }
    assertEquals(128, b.params().imageSize());
    assertEquals(8, b.params().featSide());
    assertEquals(7, b.settings().numMaskmem());
    JsonNode g =
        new ObjectMapper()
            .readTree(
                CKPT.getParent().getParent().resolve("sam2/goldens/sam2_goldens.json").toFile());
    JsonNode c = g.get("cases").get(0);
    assertEquals("click_f6", c.get("name").asText());
    List<float[]> px = Sam2VideoPredictorGoldenTest.loadPixels(14, 128);
    try (OrtSession.SessionOptions o = new OrtSession.SessionOptions();
        Sam2VideoPredictor p =
            Sam2VideoPredictor.open(b, OrtEnvironment.getEnvironment(), o, px.size(), px::get)) {
      JsonNode pt = c.get("points").get(0);
      p.addPrompt(
          6,
          new float[][] {{(float) pt.get(0).asDouble(), (float) pt.get(1).asDouble()}},
          new int[] {1},
          null,
          160,
          120);
      List<Sam2VideoPredictor.Frame> a = p.propagate(false);
      assertEquals(8, a.size());
      for (Sam2VideoPredictor.Frame f : a) {
        JsonNode gf = c.get("frames").get(f.frame());
        assertEquals(gf.get("chosen_token").asInt(), f.token());
        assertEquals(gf.get("object_score").asDouble() <= 0, f.occluded());
        assertEquals(gf.get("object_score").asDouble(), f.objectScore(), 1e-3);
      }
    }
  }

  @Test
  void corruptionAndMisuseAreTypedErrors(@TempDir Path dir) throws Exception {
    Path out = Sam2Bundles.write(CKPT, dir.resolve("b"));
    assertThrows(CheckpointException.class, () -> Sam2Bundles.write(CKPT, out));
    Path data = out.resolve("memory_attention.onnx.data");
    byte[] bytes = Files.readAllBytes(data);
    bytes[bytes.length / 2] ^= 1;
    Files.write(data, bytes, StandardOpenOption.TRUNCATE_EXISTING);
    InvalidBundleException e =
        assertThrows(InvalidBundleException.class, () -> Sam2Bundle.read(out));
    assertTrue(e.getMessage().contains("checksum"), e.getMessage());
    Files.delete(data);
    e = assertThrows(InvalidBundleException.class, () -> Sam2Bundle.read(out));
    assertTrue(e.getMessage().contains("missing"), e.getMessage());
    assertThrows(InvalidBundleException.class, () -> Sam2Bundle.read(dir));
  }
}

package io.damjava.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.damjava.api.DamImage;
import io.damjava.api.Mask;
import io.damjava.onnx.bundle.SamManifest;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * SamProcessor's steps against tools/reference/sam/goldens (made by make_sam_goldens.py with Pillow
 * 9.4 and torch 1.13): decoded and resized RGB, pixel_values (SHA-256 of the float32 tensor, i.e.
 * bit-exact, plus sampled values), scaled coordinates (exact doubles), the scribble's chosen pixels
 * (exact) and the post-processed masks of three synthetic low-res candidates (pixel-exact).
 */
class SamProcessingGoldenTest {
  static final Path REPO = Path.of("..").toAbsolutePath().normalize();
  static final Path GOLD = REPO.resolve("tools/reference/sam/goldens");
  static final SamProcessor PROC = new SamProcessor(SamManifest.Processor.defaults());

  static JsonNode index() throws IOException {
    return new ObjectMapper().readTree(GOLD.resolve("sam_goldens.json").toFile());
  }

  static Stream<String> cases() throws IOException {
    List<String> names = new ArrayList<>();
    index().get("cases").forEach(c -> names.add(c.get("name").asText()));
    return names.stream();
  }

  static JsonNode golden(String name) throws IOException {
    for (JsonNode c : index().get("cases")) {
      if (c.get("name").asText().equals(name)) {
        return c;
      }
    }
    throw new AssertionError(name);
  }

  static String sha(byte[] b) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  static byte[] le(float[] v) {
    ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    b.asFloatBuffer().put(v);
    return b.array();
  }

  /** make_sam_goldens.lowres_logits: integer formula, exact in both languages. */
  static float[] lowResLogits(int cx, int cy, int[] radii) {
    float[] out = new float[3 * 256 * 256];
    for (int k = 0; k < 3; k++) {
      for (long i = 0; i < 256; i++) {
        for (long j = 0; j < 256; j++) {
          long noise = ((i * 73856093L) ^ (j * 19349663L) ^ (k * 83492791L)) % 201 - 100;
          long v = (long) radii[k] * radii[k] - (i - cy) * (i - cy) - (j - cx) * (j - cx) + noise;
          out[(int) ((k * 256 + i) * 256 + j)] = (float) ((3 * v + 1) / 192.0);
        }
      }
    }
    return out;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void pixelValuesAreBitExact(String name) throws IOException {
    JsonNode c = golden(name);
    DamImage img = DamImage.read(REPO.resolve(c.get("image").asText()));
    assertEquals(c.get("decoded_rgb_sha256").asText(), sha(img.rgb()), name + ": decoded RGB");
    int[] t = PROC.targetSize(img.height(), img.width());
    assertEquals(c.get("reshaped_size").get(0).asInt(), t[0]);
    assertEquals(c.get("reshaped_size").get(1).asInt(), t[1]);
    assertEquals(c.get("resized_rgb_sha256").asText(), sha(PROC.resized(img)), name + ": resize");
    float[] pv = PROC.pixelValues(img);
    for (JsonNode s : c.get("pixel_samples")) {
      int i = s.get(0).asInt();
      assertEquals((float) s.get(1).asDouble(), pv[i], 0f, name + ": pixel_values[" + i + "]");
    }
    assertEquals(c.get("pixel_values_sha256").asText(), sha(le(pv)), name + ": pixel_values");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void coordinatesAndMasksMatch(String name) throws IOException {
    JsonNode c = golden(name);
    int h = c.get("original_size").get(0).asInt();
    int w = c.get("original_size").get(1).asInt();
    if (c.has("box")) {
      JsonNode b = c.get("box");
      double[] p0 = PROC.scale(b.get(0).asDouble(), b.get(1).asDouble(), h, w);
      double[] p1 = PROC.scale(b.get(2).asDouble(), b.get(3).asDouble(), h, w);
      assertArrayEquals(
          doubles(c.get("scaled_box")), new double[] {p0[0], p0[1], p1[0], p1[1]}, 0.0);
    } else {
      if (c.has("stroke")) {
        Mask stroke = Mask.read(GOLD.resolve(c.get("stroke").asText()));
        assertEquals(c.get("stroke_pixels").asInt(), stroke.area());
        int[][] chosen = ScribblePoints.choose(stroke);
        for (int i = 0; i < chosen.length; i++) {
          JsonNode p = c.get("points").get(i);
          assertEquals(p.get(0).asInt(), chosen[i][0], "scribble point " + i + " x");
          assertEquals(p.get(1).asInt(), chosen[i][1], "scribble point " + i + " y");
        }
        assertEquals(c.get("points").size(), chosen.length);
      }
      JsonNode pts = c.get("points");
      for (int i = 0; i < pts.size(); i++) {
        double[] s = PROC.scale(pts.get(i).get(0).asDouble(), pts.get(i).get(1).asDouble(), h, w);
        assertArrayEquals(doubles(c.get("scaled_points").get(i)), s, 0.0, "point " + i);
      }
    }
    int[] radii = new int[3];
    JsonNode r = index().get("lowres_radii");
    for (int k = 0; k < 3; k++) {
      radii[k] = r.get(k).asInt();
    }
    float[] low =
        lowResLogits(
            c.get("lowres_center").get(0).asInt(), c.get("lowres_center").get(1).asInt(), radii);
    for (int k = 0; k < 3; k++) {
      Mask got = PROC.postProcess(low, k * 256 * 256, 256, 256, h, w);
      Mask want = Mask.read(GOLD.resolve(c.get("masks").get(k).asText()));
      java.util.Set<Integer> near = new java.util.HashSet<>();
      for (JsonNode p : c.get("near_threshold").get(k)) {
        near.add(p.get(1).asInt() * w + p.get(0).asInt());
      }
      String diff = firstDiff(got, want, near);
      if (diff != null) {
        fail(name + " candidate " + k + ": " + diff);
      }
    }
  }

  @Test
  void numpyLegacyChoiceIsReproduced() {
    // np.random.seed(0); np.random.choice(10, 8, replace=False) -> [2 8 4 9 1 6 7 3]
    assertArrayEquals(
        new int[] {2, 8, 4, 9, 1, 6, 7, 3}, ScribblePoints.choiceWithoutReplacement(10, 8, 0));
    // np.random.seed(0); np.random.choice(3, 3, replace=False) -> [2 1 0]
    assertArrayEquals(new int[] {2, 1, 0}, ScribblePoints.choiceWithoutReplacement(3, 3, 0));
  }

  /** The first pixel that differs, ignoring those torch puts within 1e-5 of the threshold. */
  private static String firstDiff(Mask a, Mask b, java.util.Set<Integer> near) {
    if (a.width() != b.width() || a.height() != b.height()) {
      return "sizes differ";
    }
    for (int y = 0; y < a.height(); y++) {
      for (int x = 0; x < a.width(); x++) {
        if (a.get(x, y) != b.get(x, y) && !near.contains(y * a.width() + x)) {
          return "first difference at (" + x + ", " + y + "): java " + a.get(x, y);
        }
      }
    }
    return null;
  }

  private static double[] doubles(JsonNode a) {
    double[] d = new double[a.size()];
    for (int i = 0; i < d.length; i++) {
      d[i] = a.get(i).asDouble();
    }
    return d;
  }
}

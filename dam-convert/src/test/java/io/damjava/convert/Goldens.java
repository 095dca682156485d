package io.damjava.convert;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;

/** Reads tools/reference/goldens (see tools/reference/make_goldens.py). */
final class Goldens {
  static final Path REF = Path.of("..", "tools", "reference").toAbsolutePath().normalize();
  static final Path DIR = REF.resolve("goldens");

  private Goldens() {}

  static JsonNode index() throws IOException {
    return new ObjectMapper().readTree(DIR.resolve("index.json").toFile());
  }

  /** goldens/edges.json: the tiny-edge checkpoint's cases (GQA, padded vocab, model top-k). */
  static JsonNode edges() throws IOException {
    return new ObjectMapper().readTree(DIR.resolve("edges.json").toFile());
  }

  static List<JsonNode> cases(String checkpointSuffix) throws IOException {
    List<JsonNode> out = new ArrayList<>();
    for (JsonNode c : index().get("cases")) {
      if (c.get("checkpoint").asText().endsWith(checkpointSuffix)) {
        out.add(c);
      }
    }
    return out;
  }

  static Path checkpoint(String name) {
    return REF.resolve("fixtures").resolve(name);
  }

  static float[] f32(JsonNode tensor) throws IOException {
    byte[] b = Files.readAllBytes(DIR.resolve(tensor.get("file").asText()));
    float[] f = new float[b.length / 4];
    ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(f);
    return f;
  }

  static long[] i64(JsonNode tensor) throws IOException {
    byte[] b = Files.readAllBytes(DIR.resolve(tensor.get("file").asText()));
    long[] l = new long[b.length / 8];
    ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(l);
    return l;
  }

  static long[] shape(JsonNode tensor) {
    JsonNode s = tensor.get("shape");
    long[] out = new long[s.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = s.get(i).asLong();
    }
    return out;
  }

  /** (1,4,384,384) normalised pixels of a region: "full" or "crop". */
  static float[] pixels(JsonNode region, String which) throws IOException {
    JsonNode px = region.get("pixels");
    BufferedImage rgb =
        ImageIO.read(DIR.resolve(px.get(which + "_rgb").get("file").asText()).toFile());
    BufferedImage m =
        ImageIO.read(DIR.resolve(px.get(which + "_mask").get("file").asText()).toFile());
    int s = rgb.getWidth();
    float[] out = new float[4 * s * s];
    Raster r = rgb.getRaster();
    Raster mr = m.getRaster();
    for (int y = 0; y < s; y++) {
      for (int x = 0; x < s; x++) {
        for (int c = 0; c < 3; c++) {
          out[(c * s + y) * s + x] = norm(r.getSample(x, y, c));
        }
        out[(3 * s + y) * s + x] = norm(mr.getSample(x, y, 0));
      }
    }
    return out;
  }

  static float norm(int u8) {
    float x = (float) (u8 * 0.00392156862745098);
    return (x - 0.5f) / 0.5f;
  }

  /** max |a-b| / max |b|. */
  static double relMax(float[] a, float[] b) {
    if (a.length != b.length) {
      throw new AssertionError("length " + a.length + " vs " + b.length);
    }
    double m = 0;
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      m = Math.max(m, Math.abs(a[i] - b[i]));
      s = Math.max(s, Math.abs(b[i]));
    }
    return m / Math.max(s, 1e-30);
  }

  /** ||a-b|| / ||b||. */
  static double relRms(float[] a, float[] b) {
    double d = 0;
    double n = 0;
    for (int i = 0; i < a.length; i++) {
      d += (a[i] - b[i]) * (double) (a[i] - b[i]);
      n += b[i] * (double) b[i];
    }
    return Math.sqrt(d / Math.max(n, 1e-30));
  }
}

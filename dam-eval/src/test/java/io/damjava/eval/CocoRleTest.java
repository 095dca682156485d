package io.damjava.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.damjava.api.InvalidInputException;
import io.damjava.api.Mask;
import java.io.IOException;
import java.io.InputStream;
import org.junit.jupiter.api.Test;

/** Against masks decoded by a transcription of pycocotools' C code (tools/make_rle_fixtures.py). */
class CocoRleTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  static JsonNode cases() throws IOException {
    try (InputStream in = CocoRleTest.class.getResourceAsStream("/rle-masks.json")) {
      return JSON.readTree(in).get("cases");
    }
  }

  @Test
  void decodesAsPycocotools() throws IOException {
    int n = 0;
    for (JsonNode c : cases()) {
      int h = c.get("size").get(0).asInt();
      int w = c.get("size").get(1).asInt();
      long[] runs = new long[c.get("runs").size()];
      for (int i = 0; i < runs.length; i++) {
        runs[i] = c.get("runs").get(i).asLong();
      }
      assertArrayEquals(runs, CocoRle.counts(c.get("counts").asText()), c.get("counts").asText());
      Mask m = CocoRle.decode(c);
      assertEquals(w, m.width());
      assertEquals(h, m.height());
      for (int y = 0; y < h; y++) {
        String row = c.get("rows").get(y).asText();
        for (int x = 0; x < w; x++) {
          assertEquals(row.charAt(x) == '1', m.get(x, y), "case " + n + " at " + x + "," + y);
        }
      }
      // The uncompressed form (counts as a list) decodes to the same mask.
      var plain = JSON.createObjectNode();
      plain.set("size", c.get("size"));
      plain.set("counts", c.get("runs"));
      assertEquals(m, CocoRle.decode(plain));
      n++;
    }
    assertEquals(7, n);
  }

  @Test
  void malformedRleIsATypedError() {
    var e = assertThrows(InvalidInputException.class, () -> CocoRle.counts("01~"));
    assertTrue(e.getMessage().contains("outside the COCO alphabet"), e.getMessage());
    e = assertThrows(InvalidInputException.class, () -> CocoRle.counts("0P"));
    assertTrue(e.getMessage().contains("ends inside a run"), e.getMessage());
    e = assertThrows(InvalidInputException.class, () -> CocoRle.decode(new long[] {3, 2}, 2, 2));
    assertTrue(e.getMessage().contains("cover 5 pixels"), e.getMessage());
    assertThrows(
        InvalidInputException.class, () -> CocoRle.decode(JSON.createArrayNode().add(1.0)));
  }
}

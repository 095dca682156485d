package io.damjava.onnx.sam2;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.damjava.api.InvalidBundleException;
import io.damjava.api.InvalidInputException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The bank's selection policy against tools/reference/sam2/goldens: for every frame of every case
 * (a click, a box and a mask prompt; forward then backward), the memories and pointers the Python
 * reference attended to, with their temporal offsets, in order. Then a 300-frame run against an
 * unbounded bank, checking that the eviction never changes a selection and keeps the bank bounded.
 */
class Sam2MemoryBankGoldenTest {
  static final Path REPO = Path.of("..").toAbsolutePath().normalize();
  static final Path GOLD = REPO.resolve("tools/reference/sam2/goldens/sam2_goldens.json");
  static final Path CONFIG = REPO.resolve("tools/reference/fixtures/sam2-tiny/config.json");

  static Sam2TrackingSettings tiny() throws IOException {
    return Sam2TrackingSettings.fromHfConfig(new ObjectMapper().readTree(CONFIG.toFile()));
  }

  static Sam2MemoryBank.Entry entry(float score) {
    return new Sam2MemoryBank.Entry(new float[4], new float[4], new float[2], score);
  }

  @Test
  void settingsFromTheTinyCheckpointConfig() throws IOException {
    Sam2TrackingSettings s = tiny();
    assertEquals(new Sam2TrackingSettings(7, 16, 64, 32), s);
    assertEquals(14, s.pointersFor(14));
    assertEquals(16, s.pointersFor(300));
  }

  @Test
  void selectionsMatchTheReferenceFrameByFrame() throws IOException {
    JsonNode g = new ObjectMapper().readTree(GOLD.toFile());
    int n = g.get("num_frames").asInt();
    int checked = 0;
    for (JsonNode c : g.get("cases")) {
      String name = c.get("name").asText();
      Sam2MemoryBank bank = new Sam2MemoryBank(tiny(), n);
      int cond = c.get("frame").asInt();
      JsonNode frames = c.get("frames");
      bank.addConditioning(cond, entry((float) frames.get(cond).get("object_score").asDouble()));
      for (JsonNode fi : c.get("processing_order")) {
        int f = fi.asInt();
        JsonNode gf = frames.get(f);
        if (gf.get("conditioning").asBoolean()) {
          assertEquals(cond, f, name);
          continue;
        }
        boolean reverse = gf.get("direction").asText().equals("reverse");
        Sam2MemoryBank.Selection sel = bank.select(f, reverse);
        assertEquals(
            pairs(gf.get("memory_used")), memories(sel), name + " frame " + f + " memories");
        assertEquals(
            pairs(gf.get("pointers_used")), pointers(sel), name + " frame " + f + " pointers");
        assertEquals(Math.min(n, 16), sel.maxPointers());
        bank.addTracked(f, entry((float) gf.get("object_score").asDouble()));
        checked++;
      }
      assertEquals(n, bank.size(), name + ": a 14-frame video never leaves the windows");
    }
    assertEquals(3 * 13, checked);
  }

  @Test
  void longVideoStaysBoundedAndSelectsLikeAnUnboundedBank() throws IOException {
    Sam2TrackingSettings s = tiny();
    int n = 300;
    int cond = 150;
    Sam2MemoryBank bank = new Sam2MemoryBank(s, n);
    Unbounded ref = new Unbounded(s, n);
    bank.addConditioning(cond, entry(1f));
    ref.cond.add(cond);
    int maxSize = 0;
    int maxSpatial = 0;
    List<int[]> order = new ArrayList<>();
    for (int f = cond + 1; f < n; f++) {
      order.add(new int[] {f, 0});
    }
    for (int f = cond - 1; f >= 0; f--) {
      order.add(new int[] {f, 1});
    }
    for (int[] step : order) {
      int f = step[0];
      boolean reverse = step[1] == 1;
      Sam2MemoryBank.Selection sel = bank.select(f, reverse);
      assertEquals(ref.memories(f, reverse), memories(sel), "frame " + f);
      assertEquals(ref.pointers(f, reverse), pointers(sel), "frame " + f);
      for (Sam2MemoryBank.MemoryRef m : sel.memories()) {
        assertTrue(bank.entry(m.frame()).maskmem() != null);
      }
      bank.addTracked(f, entry(1f));
      ref.tracked.put(f, true);
      maxSize = Math.max(maxSize, bank.size());
      maxSpatial = Math.max(maxSpatial, bank.spatialSize());
    }
    // window around the frontier and around the conditioning frame, both sides: 1 + 2 * 2 * 15
    assertTrue(maxSize <= 1 + 4 * 15, "bank held " + maxSize);
    assertTrue(maxSpatial <= 1 + 4 * 6, "spatial memories held " + maxSpatial);
    assertTrue(bank.size() < 100);
  }

  @Test
  void badFramesAndSettingsAreTypedErrors() throws IOException {
    Sam2MemoryBank bank = new Sam2MemoryBank(tiny(), 14);
    assertThrows(InvalidInputException.class, () -> bank.addConditioning(14, entry(1f)));
    assertThrows(InvalidInputException.class, () -> bank.select(-1, false));
    assertThrows(IllegalStateException.class, () -> bank.select(3, false));
    assertThrows(InvalidInputException.class, () -> new Sam2MemoryBank(tiny(), 0));
    assertThrows(InvalidBundleException.class, () -> new Sam2TrackingSettings(7, 16, 64, 48));
    assertThrows(
        InvalidBundleException.class,
        () ->
            Sam2TrackingSettings.fromHfConfig(
                new ObjectMapper().readTree("{\"model_type\":\"sam\"}")));
  }

  static List<List<Integer>> pairs(JsonNode a) {
    List<List<Integer>> out = new ArrayList<>();
    a.forEach(p -> out.add(List.of(p.get(0).asInt(), p.get(1).asInt())));
    return out;
  }

  static List<List<Integer>> memories(Sam2MemoryBank.Selection s) {
    List<List<Integer>> out = new ArrayList<>();
    s.memories().forEach(m -> out.add(List.of(m.temporalOffset(), m.frame())));
    return out;
  }

  static List<List<Integer>> pointers(Sam2MemoryBank.Selection s) {
    List<List<Integer>> out = new ArrayList<>();
    s.pointers().forEach(p -> out.add(List.of(p.temporalDistance(), p.frame())));
    return out;
  }

  /** The reference's selection over a bank that keeps every frame (sam2_ref.select_memory). */
  static final class Unbounded {
    final Sam2TrackingSettings s;
    final int n;
    final List<Integer> cond = new ArrayList<>();
    final Map<Integer, Boolean> tracked = new TreeMap<>();

    Unbounded(Sam2TrackingSettings s, int n) {
      this.s = s;
      this.n = n;
    }

    List<List<Integer>> memories(int f, boolean reverse) {
      List<List<Integer>> out = new ArrayList<>();
      cond.forEach(c -> out.add(List.of(0, c)));
      for (int off = s.numMaskmem() - 1; off > 0; off--) {
        int p = reverse ? f + off : f - off;
        if (tracked.containsKey(p)) {
          out.add(List.of(off, p));
        }
      }
      return out;
    }

    List<List<Integer>> pointers(int f, boolean reverse) {
      List<List<Integer>> out = new ArrayList<>();
      int sign = reverse ? -1 : 1;
      for (int c : cond) {
        if (reverse ? c >= f : c <= f) {
          out.add(List.of((f - c) * sign, c));
        }
      }
      int max = Math.min(n, s.maxObjectPointers());
      for (int d = 1; d < max; d++) {
        int r = reverse ? f + d : f - d;
        if (r < 0 || r >= n) {
          break;
        }
        if (tracked.containsKey(r)) {
          out.add(List.of(d, r));
        }
      }
      return out;
    }
  }
}

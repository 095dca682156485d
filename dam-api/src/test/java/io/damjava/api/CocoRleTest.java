package io.damjava.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class CocoRleTest {
  @Test
  void runsWalkColumnByColumnStartingWithBackground() {
    // 2 rows x 3 columns; column-major runs: 1 off, 3 on, 2 off
    Mask m = CocoRle.decode(new long[] {1, 3, 2}, 2, 3);
    assertFalse(m.get(0, 0));
    assertTrue(m.get(0, 1));
    assertTrue(m.get(1, 0));
    assertTrue(m.get(1, 1));
    assertFalse(m.get(2, 0));
    assertFalse(m.get(2, 1));
    assertArrayEquals(new long[] {1, 3, 2}, CocoRle.encode(m));
  }

  @Test
  void compressedStringsRoundTripIncludingNegativeDifferences() {
    Random r = new Random(5);
    for (int t = 0; t < 200; t++) {
      long[] runs = new long[1 + r.nextInt(30)];
      for (int i = 0; i < runs.length; i++) {
        runs[i] = r.nextInt(t % 2 == 0 ? 40 : 100_000);
      }
      assertArrayEquals(runs, CocoRle.counts(CocoRle.compress(runs)));
    }
  }

  @Test
  void masksRoundTrip() {
    Random r = new Random(9);
    boolean[] v = new boolean[37 * 23];
    for (int i = 0; i < v.length; i++) {
      v[i] = r.nextInt(5) == 0;
    }
    Mask m = Mask.of(v, 37, 23);
    Mask back = CocoRle.decode(CocoRle.counts(CocoRle.compress(CocoRle.encode(m))), 23, 37);
    assertArrayEquals(m.toBytes(), back.toBytes());
  }

  @Test
  void badInputIsTyped() {
    assertThrows(InvalidInputException.class, () -> CocoRle.counts("1 2"));
    assertThrows(InvalidInputException.class, () -> CocoRle.counts("o")); // ends inside a run
    assertThrows(InvalidInputException.class, () -> CocoRle.decode(new long[] {1, 2}, 2, 3));
    assertThrows(InvalidInputException.class, () -> CocoRle.decode(new long[] {-1, 7}, 2, 3));
    InvalidInputException bomb =
        assertThrows(
            InvalidInputException.class,
            () -> CocoRle.decode(new long[] {3_600_000_000L}, 60_000, 60_000));
    assertTrue(bomb.getMessage().contains("limit"), bomb.getMessage());
    assertEquals(0, CocoRle.encode(Mask.of(new boolean[6], 3, 2))[0] - 6);
  }
}

package io.damjava.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.damjava.api.InvalidInputException;
import io.damjava.api.Mask;
import org.junit.jupiter.api.Test;

class CocoRleTest {
  @Test
  void decodesByHand() {
    // 3 wide, 2 high, column-major: x=0 (0,1), x=1 (1,1), x=2 (0,0) -> runs 1,3,2.
    Mask m = CocoRle.toMask(CocoRle.decodeCounts("132"), 3, 2);
    assertEquals(3, m.area());
    assertEquals(false, m.get(0, 0));
    assertEquals(true, m.get(0, 1));
    assertEquals(true, m.get(1, 0));
    assertEquals(true, m.get(1, 1));
    assertEquals(false, m.get(2, 1));
  }

  @Test
  void roundTripsLargeAndDifferencedCounts() {
    // Counts past the third are written as differences, which may be negative; large ones take
    // several 5-bit groups.
    long[] counts = {5, 100_000, 3, 7, 1, 70_000, 2};
    assertArrayEquals(counts, CocoRle.decodeCounts(CocoRle.encodeCounts(counts)));
    byte[] v = new byte[40 * 30];
    for (int i = 0; i < v.length; i += 7) {
      v[i] = 1;
    }
    Mask m = Mask.of(v, 40, 30);
    assertEquals(
        m, CocoRle.toMask(CocoRle.decodeCounts(CocoRle.encodeCounts(CocoRle.fromMask(m))), 40, 30));
  }

  @Test
  void refusesCountsThatDoNotCoverTheImage() {
    assertThrows(InvalidInputException.class, () -> CocoRle.toMask(new long[] {1, 2}, 3, 2));
    assertThrows(InvalidInputException.class, () -> CocoRle.decodeCounts("1 2"));
  }
}

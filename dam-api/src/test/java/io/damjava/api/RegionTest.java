package io.damjava.api;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class RegionTest {

  private static void fails(String expected, Executable call) {
    InvalidInputException e = assertThrows(InvalidInputException.class, call);
    assertTrue(
        e.getMessage().contains(expected),
        "message '" + e.getMessage() + "' lacks '" + expected + "'");
  }

  @Test
  void emptyMaskIsRejected() {
    Region r = Region.mask(Mask.of(new byte[6], 3, 2));
    fails("mask is empty", () -> r.validateFor(3, 2));
  }

  @Test
  void maskOfAnotherSizeIsRejected() {
    byte[] v = {1, 0, 0, 0, 0, 0};
    Region r = Region.mask(Mask.of(v, 3, 2));
    fails("mask is 3x2 but the image is 4x2", () -> r.validateFor(4, 2));
    assertDoesNotThrow(() -> r.validateFor(3, 2));
  }

  @Test
  void degenerateBoxesAreRejected() {
    fails("x1 > x0", () -> Region.box(10, 0, 10, 5));
    fails("x1 > x0", () -> Region.box(10, 0, 5, 5));
    fails("y1 > y0", () -> Region.box(0, 5, 4, 5));
  }

  @Test
  void nanAndInfiniteCoordinatesAreRejected() {
    fails("box x0 must be a finite number, got NaN", () -> Region.box(Double.NaN, 0, 1, 1));
    fails("box y1 must be a finite number", () -> Region.box(0, 0, 1, Double.POSITIVE_INFINITY));
    fails("point y must be a finite number", () -> Region.point(1, Double.NaN));
  }

  @Test
  void boxOutsideTheImageIsRejected() {
    Region inside = Region.box(0, 0, 640, 480);
    assertDoesNotThrow(() -> inside.validateFor(640, 480));
    fails("lies outside the 640x480 image", () -> Region.box(-1, 0, 10, 10).validateFor(640, 480));
    fails("lies outside", () -> Region.box(0, 0, 641, 10).validateFor(640, 480));
  }

  @Test
  void pointsOutsideTheImageAreRejected() {
    fails(
        "point (640.0, 5.0) lies outside the 640x480 image",
        () -> Region.point(640, 5).validateFor(640, 480));
    assertDoesNotThrow(() -> Region.point(639.5, 479).validateFor(640, 480));
  }

  @Test
  void pointsNeedAPositiveOne() {
    fails("at least one point", () -> Region.points(List.of()));
    fails("at least one positive point", () -> Region.points(List.of(Region.Point.negative(1, 1))));
  }

  @Test
  void pointListIsCopied() {
    List<Region.Point> pts = new ArrayList<>(List.of(Region.Point.positive(1, 1)));
    Region.PointsRegion r = (Region.PointsRegion) Region.points(pts);
    pts.add(Region.Point.negative(2, 2));
    assertEquals(1, r.points().size());
    assertThrows(
        UnsupportedOperationException.class, () -> r.points().add(Region.Point.positive(0, 0)));
  }

  @Test
  void emptyScribbleIsRejected() {
    fails("scribble is empty", () -> Region.scribble(Mask.of(new byte[4], 2, 2)).validateFor(2, 2));
  }

  @Test
  void videoRequestsNeedEightFramesAndOneMaskEach() {
    DamImage f = DamImage.ofRgb(2, 2, new byte[12]);
    Mask m = Mask.of(new byte[] {1, 0, 0, 0}, 2, 2);
    fails(
        "exactly 8 frames, got 3", () -> DescribeRequest.video(List.of(f, f, f), List.of(m, m, m)));
    List<DamImage> eight = java.util.Collections.nCopies(8, f);
    fails(
        "8 frames but 7 masks",
        () -> DescribeRequest.video(eight, java.util.Collections.nCopies(7, m)));
    Mask empty = Mask.of(new byte[4], 2, 2);
    List<Mask> masks = new ArrayList<>(java.util.Collections.nCopies(8, m));
    masks.set(5, empty);
    fails("frame 5: mask is empty", () -> DescribeRequest.video(eight, masks));
    assertEquals(
        8, DescribeRequest.video(eight, java.util.Collections.nCopies(8, m)).regions().size());
  }

  @Test
  void framePickingMatchesNumpyLinspace() {
    // np.linspace(0, 11, 8, dtype=int) = [0, 1, 3, 4, 6, 7, 9, 11]
    assertEquals(List.of(0, 1, 3, 4, 6, 7, 9, 11), box(VideoFrames.pick(12, 8)));
    // np.linspace(0, 99, 8, dtype=int) = [0, 14, 28, 42, 56, 70, 84, 99]
    assertEquals(List.of(0, 14, 28, 42, 56, 70, 84, 99), box(VideoFrames.pick(100, 8)));
    assertEquals(List.of(0, 1, 2, 3, 4, 5, 6, 7), box(VideoFrames.pick(8, 8)));
    fails("at least 8 frames", () -> VideoFrames.pick(7, 8));
  }

  private static List<Integer> box(int[] a) {
    List<Integer> l = new ArrayList<>();
    for (int v : a) {
      l.add(v);
    }
    return l;
  }
}

package io.damjava.api;

import java.util.List;
import java.util.Objects;

/**
 * What to describe in an image. A mask is used as is; a box, points or a scribble are turned into a
 * mask by a segmenter (SAM), which the engine must be given for them.
 *
 * <pre>{@code
 * Region.mask(Mask.read(maskPng));
 * Region.box(40, 30, 200, 180);                        // x0, y0, x1, y1 in pixels
 * Region.points(List.of(Region.Point.positive(120, 90), Region.Point.negative(10, 10)));
 * Region.scribble(Mask.read(strokePng));
 * }</pre>
 */
public sealed interface Region
    permits Region.MaskRegion, Region.BoxRegion, Region.PointsRegion, Region.ScribbleRegion {

  /**
   * Checks that the region fits an image of the given size.
   *
   * @throws InvalidInputException naming the problem: empty mask, size mismatch, coordinates
   *     outside the image
   */
  void validateFor(int width, int height);

  static Region mask(Mask mask) {
    return new MaskRegion(mask);
  }

  static Region box(double x0, double y0, double x1, double y1) {
    return new BoxRegion(x0, y0, x1, y1);
  }

  static Region point(double x, double y) {
    return new PointsRegion(List.of(Point.positive(x, y)));
  }

  static Region points(List<Point> points) {
    return new PointsRegion(points);
  }

  static Region scribble(Mask stroke) {
    return new ScribbleRegion(stroke);
  }

  /** A region given by its mask; must have the image's size and at least one pixel. */
  record MaskRegion(Mask mask) implements Region {
    public MaskRegion {
      if (mask == null) {
        throw new InvalidInputException("mask must not be null");
      }
    }

    @Override
    public void validateFor(int width, int height) {
      checkSameSize("mask", mask, width, height);
      if (mask.isEmpty()) {
        throw new InvalidInputException("mask is empty (no non-zero pixel): nothing to describe");
      }
    }
  }

  /** A box in pixel coordinates, {@code x0 < x1}, {@code y0 < y1}. */
  record BoxRegion(double x0, double y0, double x1, double y1) implements Region {
    public BoxRegion {
      finite("box x0", x0);
      finite("box y0", y0);
      finite("box x1", x1);
      finite("box y1", y1);
      if (x1 <= x0 || y1 <= y0) {
        throw new InvalidInputException(
            "box must have x1 > x0 and y1 > y0, got ("
                + x0
                + ", "
                + y0
                + ", "
                + x1
                + ", "
                + y1
                + ")");
      }
    }

    @Override
    public void validateFor(int width, int height) {
      if (x0 < 0 || y0 < 0 || x1 > width || y1 > height) {
        throw new InvalidInputException(
            "box ("
                + x0
                + ", "
                + y0
                + ", "
                + x1
                + ", "
                + y1
                + ") lies outside the "
                + width
                + "x"
                + height
                + " image");
      }
    }
  }

  /** Clicks; at least one must be positive. */
  record PointsRegion(List<Point> points) implements Region {
    public PointsRegion {
      if (points == null || points.isEmpty()) {
        throw new InvalidInputException("points must hold at least one point");
      }
      points = List.copyOf(points);
      if (points.stream().noneMatch(Point::positive)) {
        throw new InvalidInputException("points must hold at least one positive point");
      }
    }

    @Override
    public void validateFor(int width, int height) {
      for (Point p : points) {
        if (p.x() < 0 || p.y() < 0 || p.x() >= width || p.y() >= height) {
          throw new InvalidInputException(
              "point ("
                  + p.x()
                  + ", "
                  + p.y()
                  + ") lies outside the "
                  + width
                  + "x"
                  + height
                  + " image");
        }
      }
    }
  }

  /** A brush stroke, as in the reference demo: up to 8 of its pixels become positive clicks. */
  record ScribbleRegion(Mask stroke) implements Region {
    public ScribbleRegion {
      if (stroke == null) {
        throw new InvalidInputException("scribble stroke must not be null");
      }
    }

    @Override
    public void validateFor(int width, int height) {
      checkSameSize("scribble", stroke, width, height);
      if (stroke.isEmpty()) {
        throw new InvalidInputException("scribble is empty (no non-zero pixel)");
      }
    }
  }

  /**
   * A click at pixel coordinates.
   *
   * @param x column, {@code 0 <= x < width}
   * @param y row, {@code 0 <= y < height}
   * @param positive true for "this is the object", false for "this is not"
   */
  record Point(double x, double y, boolean positive) {
    public Point {
      finite("point x", x);
      finite("point y", y);
    }

    public static Point positive(double x, double y) {
      return new Point(x, y, true);
    }

    public static Point negative(double x, double y) {
      return new Point(x, y, false);
    }
  }

  private static void finite(String name, double v) {
    if (!Double.isFinite(v)) {
      throw new InvalidInputException(name + " must be a finite number, got " + v);
    }
  }

  private static void checkSameSize(String what, Mask m, int width, int height) {
    Objects.requireNonNull(m, what);
    if (m.width() != width || m.height() != height) {
      throw new InvalidInputException(
          what
              + " is "
              + m.width()
              + "x"
              + m.height()
              + " but the image is "
              + width
              + "x"
              + height
              + ": they must have the same size");
    }
  }
}

package io.damjava.server;

import com.fasterxml.jackson.databind.JsonNode;
import io.damjava.api.InvalidInputException;
import io.damjava.api.Region;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The optional {@code region} field, our extension beyond the reference: {@code {"box": [x0, y0,
 * x1, y1]}} or {@code {"points": [[x, y], [x, y, 0], ...]}} (third value 0 = negative click). It
 * replaces the alpha mask of a single image and needs a segmenter on the server. With {@code
 * "frame": N} it is drawn on frame N of a video of 8 or more frames, and a SAM 2.1 segmenter tracks
 * it through every frame (the frames then need no alpha).
 */
final class RegionExtension {
  private RegionExtension() {}

  static Optional<Region> parse(JsonNode node) {
    if (node == null || node.isNull()) {
      return Optional.empty();
    }
    try {
      if (node.has("box")) {
        double[] v = numbers(node.get("box"), 4, "region.box");
        return Optional.of(Region.box(v[0], v[1], v[2], v[3]));
      }
      if (node.has("points")) {
        JsonNode pts = node.get("points");
        if (!pts.isArray() || pts.isEmpty()) {
          throw ApiError.badRequest("region.points must be a non-empty array of [x, y]");
        }
        List<Region.Point> list = new ArrayList<>();
        for (JsonNode p : pts) {
          double[] v = numbers(p, p.size() == 3 ? 3 : 2, "region.points[]");
          list.add(new Region.Point(v[0], v[1], v.length == 2 || v[2] != 0));
        }
        return Optional.of(Region.points(list));
      }
    } catch (InvalidInputException e) {
      throw ApiError.badRequest(e.getMessage());
    }
    throw ApiError.badRequest("region must hold 'box' or 'points'");
  }

  /** The region's {@code frame} field: -1 when absent. */
  static int frame(JsonNode node) {
    if (node == null || node.isNull() || !node.has("frame") || node.get("frame").isNull()) {
      return -1;
    }
    JsonNode f = node.get("frame");
    if (!f.isIntegralNumber() || !f.canConvertToInt() || f.asInt() < 0) {
      throw ApiError.badRequest(
          "region.frame must be an integer >= 0 (the annotated frame), got " + f);
    }
    return f.asInt();
  }

  private static double[] numbers(JsonNode a, int n, String name) {
    if (a == null || !a.isArray() || a.size() != n) {
      throw ApiError.badRequest(name + " must be an array of " + n + " numbers");
    }
    double[] v = new double[n];
    for (int i = 0; i < n; i++) {
      if (!a.get(i).isNumber()) {
        throw ApiError.badRequest(name + " must be an array of " + n + " numbers");
      }
      v[i] = a.get(i).asDouble();
    }
    return v;
  }
}

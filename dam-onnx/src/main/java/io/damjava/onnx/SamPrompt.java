package io.damjava.onnx;

import io.damjava.api.Region;
import java.util.ArrayList;
import java.util.List;

/**
 * A SAM prompt in the resized frame: clicks (x, y, label) and/or one box (x0, y0, x1, y1).
 *
 * @param points (N, 2) flattened, scaled
 * @param labels (N) 1 positive, 0 negative
 * @param box (4) scaled, or null
 */
record SamPrompt(double[] points, int[] labels, double[] box) {
  int count() {
    return labels.length;
  }

  /**
   * The prompt of a box, points or scribble region of an {@code h x w} image, scaled as {@code
   * processor} resizes the image; a scribble stands as the clicks {@link ScribblePoints} chooses.
   */
  static SamPrompt of(Region r, int h, int w, SamProcessor processor) {
    if (r instanceof Region.BoxRegion b) {
      double[] p0 = processor.scale(b.x0(), b.y0(), h, w);
      double[] p1 = processor.scale(b.x1(), b.y1(), h, w);
      return new SamPrompt(new double[0], new int[0], new double[] {p0[0], p0[1], p1[0], p1[1]});
    }
    List<double[]> xy = new ArrayList<>();
    List<Integer> lab = new ArrayList<>();
    if (r instanceof Region.PointsRegion pr) {
      for (Region.Point p : pr.points()) {
        xy.add(new double[] {p.x(), p.y()});
        lab.add(p.positive() ? 1 : 0);
      }
    } else if (r instanceof Region.ScribbleRegion sr) {
      for (int[] p : ScribblePoints.choose(sr.stroke())) {
        xy.add(new double[] {p[0], p[1]});
        lab.add(1);
      }
    } else {
      throw new IllegalStateException("not a prompt: " + r);
    }
    double[] pts = new double[xy.size() * 2];
    int[] labels = new int[xy.size()];
    for (int i = 0; i < labels.length; i++) {
      double[] s = processor.scale(xy.get(i)[0], xy.get(i)[1], h, w);
      pts[2 * i] = s[0];
      pts[2 * i + 1] = s[1];
      labels[i] = lab.get(i);
    }
    return new SamPrompt(pts, labels, null);
  }
}

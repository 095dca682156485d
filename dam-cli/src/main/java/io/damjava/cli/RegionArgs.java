package io.damjava.cli;

import io.damjava.api.InvalidInputException;
import io.damjava.api.Mask;
import io.damjava.api.Region;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The region options of {@link DescribeCommand} ({@code --mask}, {@code --box}, {@code --points},
 * {@code --scribble}) parsed into regions, in that order; a malformed value is a usage error.
 */
final class RegionArgs {
  private final DescribeCommand c;

  RegionArgs(DescribeCommand command) {
    this.c = command;
  }

  List<Region> regions() {
    List<Region> regions = new ArrayList<>();
    for (Path m : c.masks) {
      regions.add(Region.mask(Mask.read(m, c.limits())));
    }
    for (String b : c.boxes) {
      double[] v = numbers("--box", b, 4);
      try {
        regions.add(Region.box(v[0], v[1], v[2], v[3]));
      } catch (InvalidInputException e) {
        throw c.usage("--box " + b + ": " + e.getMessage());
      }
    }
    for (String p : c.points) {
      List<Region.Point> pts = new ArrayList<>();
      for (String one : p.split(";")) {
        int n = one.trim().split(",").length;
        if (n != 2 && n != 3) {
          throw c.usage("--points: expected x,y or x,y,0 (negative click), got '" + one + "'");
        }
        double[] v = numbers("--points", one, n);
        if (n == 3 && v[2] != 0 && v[2] != 1) {
          throw c.usage("--points: the third value is 1 (positive) or 0 (negative), got " + v[2]);
        }
        pts.add(new Region.Point(v[0], v[1], n == 2 || v[2] != 0));
      }
      try {
        regions.add(Region.points(pts));
      } catch (InvalidInputException e) {
        throw c.usage("--points " + p + ": " + e.getMessage());
      }
    }
    for (Path s : c.scribbles) {
      regions.add(Region.scribble(Mask.read(s, c.limits())));
    }
    if (regions.isEmpty()) {
      throw c.usage("give a region: --mask PNG, --box x0,y0,x1,y1, --points x,y or --scribble PNG");
    }
    return regions;
  }

  private double[] numbers(String flag, String text, int n) {
    String[] parts = text.trim().split(",");
    if (parts.length != n) {
      throw c.usage(flag + ": expected " + n + " comma-separated numbers, got '" + text + "'");
    }
    double[] v = new double[n];
    for (int i = 0; i < n; i++) {
      try {
        v[i] = Double.parseDouble(parts[i].trim());
      } catch (NumberFormatException e) {
        throw c.usage(flag + ": '" + parts[i].trim() + "' is not a number");
      }
    }
    return v;
  }
}

package io.damjava.bench;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import javax.imageio.ImageIO;

/** A small line chart (PNG, drawn headless with java.awt): y ms/token against x context length. */
final class Chart {
  private Chart() {}

  private static final Color[] COLORS = {
    new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c), Color.BLACK, new Color(0x9467bd)
  };

  /**
   * @param series measured points per label (solid lines)
   * @param bounds bound points per label (dashed lines in the same colour)
   */
  static void draw(
      Path file,
      String title,
      Map<String, TreeMap<Integer, Double>> series,
      Map<String, TreeMap<Integer, Double>> bounds)
      throws IOException {
    System.setProperty("java.awt.headless", "true");
    int w = 900;
    int h = 560;
    int left = 70;
    int right = 190;
    int top = 40;
    int bottom = 50;
    double xMax = 0;
    double yMax = 0;
    for (Map<String, TreeMap<Integer, Double>> m : java.util.List.of(series, bounds)) {
      for (TreeMap<Integer, Double> s : m.values()) {
        for (Map.Entry<Integer, Double> e : s.entrySet()) {
          xMax = Math.max(xMax, e.getKey());
          yMax = Math.max(yMax, e.getValue());
        }
      }
    }
    yMax = niceCeil(yMax * 1.05);
    xMax = niceCeil(xMax);
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, w, h);
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
    int pw = w - left - right;
    int ph = h - top - bottom;
    g.setColor(new Color(0xdddddd));
    for (int i = 0; i <= 5; i++) {
      int y = top + ph - ph * i / 5;
      g.drawLine(left, y, left + pw, y);
      int x = left + pw * i / 5;
      g.drawLine(x, top, x, top + ph);
    }
    g.setColor(Color.BLACK);
    g.drawRect(left, top, pw, ph);
    for (int i = 0; i <= 5; i++) {
      int y = top + ph - ph * i / 5;
      g.drawString(String.format(Locale.ROOT, "%.0f", yMax * i / 5), 10, y + 4);
      int x = left + pw * i / 5;
      g.drawString(String.format(Locale.ROOT, "%.0f", xMax * i / 5), x - 12, top + ph + 18);
    }
    g.drawString("context length (cached positions)", left + pw / 2 - 90, h - 12);
    g.drawString("ms / token", 10, top - 10);
    g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 13));
    g.drawString(title, left, 22);
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
    int i = 0;
    int legendY = top + 10;
    for (Map.Entry<String, TreeMap<Integer, Double>> s : series.entrySet()) {
      Color c = COLORS[i++ % COLORS.length];
      g.setColor(c);
      line(g, s.getValue(), left, top, pw, ph, xMax, yMax, new BasicStroke(2f), true);
      g.drawLine(left + pw + 15, legendY, left + pw + 40, legendY);
      g.drawString(s.getKey(), left + pw + 45, legendY + 4);
      legendY += 18;
      TreeMap<Integer, Double> b = bounds.get(s.getKey());
      if (b != null) {
        BasicStroke dash =
            new BasicStroke(
                1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {6f, 5f}, 0f);
        line(g, b, left, top, pw, ph, xMax, yMax, dash, false);
        g.setStroke(dash);
        g.drawLine(left + pw + 15, legendY, left + pw + 40, legendY);
        g.drawString(s.getKey() + " bound", left + pw + 45, legendY + 4);
        legendY += 18;
      }
    }
    g.dispose();
    ImageIO.write(img, "png", file.toFile());
  }

  private static void line(
      Graphics2D g,
      TreeMap<Integer, Double> pts,
      int left,
      int top,
      int pw,
      int ph,
      double xMax,
      double yMax,
      BasicStroke stroke,
      boolean dots) {
    g.setStroke(stroke);
    int px = -1;
    int py = -1;
    for (Map.Entry<Integer, Double> e : pts.entrySet()) {
      int x = left + (int) Math.round(pw * e.getKey() / xMax);
      int y = top + ph - (int) Math.round(ph * e.getValue() / yMax);
      if (px >= 0) {
        g.drawLine(px, py, x, y);
      }
      if (dots) {
        g.fillOval(x - 3, y - 3, 7, 7);
      }
      px = x;
      py = y;
    }
  }

  private static double niceCeil(double v) {
    if (v <= 0) {
      return 1;
    }
    double p = Math.pow(10, Math.floor(Math.log10(v)));
    for (double m : new double[] {1, 2, 2.5, 5, 10}) {
      if (m * p >= v) {
        return m * p;
      }
    }
    return 10 * p;
  }
}

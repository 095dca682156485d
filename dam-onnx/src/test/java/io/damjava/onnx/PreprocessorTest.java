package io.damjava.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.damjava.api.DamImage;
import io.damjava.api.Mask;
import io.damjava.onnx.bundle.BundleManifest;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Focal crop, mask channel and resize against the PyTorch reference (resources/preprocess). */
class PreprocessorTest {
  static final Path CHELSEA = Path.of("../tools/reference/fixtures/images/chelsea.png");
  static final Preprocessor PRE = new Preprocessor(new FocalCrop(48, 3), 384);

  static Stream<List<String>> cases() throws Exception {
    try (InputStream in = PreprocessorTest.class.getResourceAsStream("/preprocess/cases.tsv")) {
      return Stream.of(new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n"))
          .filter(l -> !l.startsWith("#") && !l.isBlank())
          .map(l -> List.of(l.split("\t")))
          .toList()
          .stream();
    }
  }

  static Mask draw(String kind, int x0, int y0, int x1, int y1, int w, int h) {
    byte[] m = new byte[w * h];
    double cx = (x0 + x1) / 2.0;
    double cy = (y0 + y1) / 2.0;
    double r = (x1 - x0) / 2.0;
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        boolean in =
            kind.equals("rect")
                ? x >= x0 && x < x1 && y >= y0 && y < y1
                : (x - cx) * (x - cx) + (y - cy) * (y - cy) <= r * r;
        m[y * w + x] = (byte) (in ? 1 : 0);
      }
    }
    return Mask.of(m, w, h);
  }

  @ParameterizedTest
  @MethodSource("cases")
  void matchesReference(List<String> c) throws Exception {
    String[] f = c.toArray(String[]::new);
    DamImage img = DamImage.read(CHELSEA);
    Mask mask =
        draw(
            f[1],
            Integer.parseInt(f[2]),
            Integer.parseInt(f[3]),
            Integer.parseInt(f[4]),
            Integer.parseInt(f[5]),
            img.width(),
            img.height());
    Preprocessor.Region r = PRE.region(img, mask);
    FocalCrop.Window w = r.window();
    assertEquals(
        List.of(f[6], f[7], f[8], f[9]),
        List.of("" + w.y0(), "" + w.y1(), "" + w.x0(), "" + w.x1()),
        f[0] + " window");
    assertEquals(f[10], sha(r.fullRgb()), f[0] + " full_rgb");
    assertEquals(f[11], sha(r.fullMask()), f[0] + " full_mask");
    assertEquals(f[12], sha(r.cropRgb()), f[0] + " crop_rgb");
    assertEquals(f[13], sha(r.cropMask()), f[0] + " crop_mask");
    boolean whole = w.coversWhole(img.width(), img.height());
    assertEquals(whole, r.focalIsContext(), f[0] + " equality branch");
  }

  @Test
  void focalCropRules() {
    FocalCrop fc = new FocalCrop(48, 3);
    // 10x10 box at (100,100): centre 105, side raised to 48, corner int(105-24)=81.
    assertEquals(new FocalCrop.Window(33, 33, 177, 177), fc.window(100, 100, 110, 110, 500, 500));
    // Centre 1.5, corner int(1.5 - 24) = -22: clipped at the border, not shifted.
    assertEquals(new FocalCrop.Window(0, 0, 74, 74), fc.window(0, 0, 3, 3, 500, 500));
    // Odd sizes: centre 5 + 7/2 = 8.5 -> int(8.5 - 24) = int(-15.5) = -15 (toward zero).
    assertEquals(new FocalCrop.Window(0, 0, 81, 81), fc.window(5, 5, 12, 12, 500, 500));
    // Large box: window 3x the box.
    assertEquals(new FocalCrop.Window(0, 0, 300, 300), fc.window(100, 100, 200, 200, 300, 300));
  }

  @Test
  void equalityBranchOnlyWhenTheWindowIsTheWholeImage() {
    DamImage img = DamImage.ofRgb(60, 40, new byte[60 * 40 * 3]);
    Preprocessor.Region whole = PRE.region(img, draw("rect", 20, 10, 30, 20, 60, 40));
    assertTrue(whole.focalIsContext());
    DamImage big = DamImage.ofRgb(400, 400, new byte[400 * 400 * 3]);
    Preprocessor.Region part = PRE.region(big, draw("rect", 20, 10, 30, 20, 400, 400));
    assertFalse(part.focalIsContext());
  }

  @Test
  void normalisationMatchesTheImageProcessor() {
    BundleManifest.Preprocess p =
        new BundleManifest.Preprocess(
            List.of(0.5, 0.5, 0.5), List.of(0.5, 0.5, 0.5), "bicubic", 3, 48, "resize");
    RegionTensor t = new RegionTensor(p);
    byte[] rgb = {0, (byte) 255, (byte) 128};
    byte[] mask = {(byte) 255};
    java.nio.FloatBuffer b = java.nio.FloatBuffer.allocate(4);
    t.write(b, rgb, mask);
    float x128 = ((float) (128 * (1 / 255.0)) - 0.5f) / 0.5f;
    assertEquals(List.of(-1f, 1f, x128, 1f), List.of(b.get(0), b.get(1), b.get(2), b.get(3)));
  }

  static String sha(byte[] b) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
  }
}

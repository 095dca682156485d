package io.damjava.convert;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.damjava.onnx.bundle.BundleManifest.Precision;
import io.damjava.onnx.bundle.BundleManifest.Style;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every graph of the converted tiny checkpoints against the PyTorch reference goldens. */
class GoldenGraphTest {
  static final double TOL = 1e-4;

  /** The chelsea_left_eye greedy tokens (inputs for decode-step tests). */
  static final long[] GREEDY;

  static {
    try {
      GREEDY = Goldens.i64(golden("chelsea_left_eye").get("tensors").get("tokens"));
    } catch (Exception e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  static List<Arguments> cases() throws Exception {
    List<Arguments> out = new ArrayList<>();
    for (Style s : Style.values()) {
      for (JsonNode c : Goldens.index().get("cases")) {
        out.add(Arguments.of(s, c.get("name").asText()));
      }
    }
    return out;
  }

  static Path convert(String ckpt, Style style, Precision p) throws Exception {
    Path base = Files.createDirectories(Path.of(System.getProperty("java.io.tmpdir"), "golden"));
    Path out = base.resolve(ckpt + "-" + style + "-" + p);
    if (!Files.exists(out.resolve("dam-bundle.json"))) {
      Converter.deleteRecursively(out);
      Converter.run(
          ConvertOptions.of(Goldens.checkpoint(ckpt), out).withStyle(style).withPrecision(p));
    }
    return out;
  }

  static void report(Style style, String name, String what, double err) {
    System.err.printf("golden %-8s %-22s %-15s rel max err %.2e%n", style, name, what, err);
  }

  static JsonNode golden(String name) throws Exception {
    for (JsonNode c : Goldens.index().get("cases")) {
      if (c.get("name").asText().equals(name)) {
        return c;
      }
    }
    throw new AssertionError(name);
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("cases")
  void graphsMatchReference(Style style, String name) throws Exception {
    JsonNode c = golden(name);
    String ckpt = Path.of(c.get("checkpoint").asText()).getFileName().toString();
    Path bundle = convert(ckpt, style, Precision.FP32);
    JsonNode t = c.get("tensors");
    try (BundleRunner r = new BundleRunner(bundle)) {
      // Vision: the first stored frame.
      JsonNode region = c.get("regions").get(0);
      int hv = r.m.dims().visionHidden();
      int per = r.m.dims().visionTokens() * hv;
      if (t.has("context_features")) {
        float[] full = Goldens.pixels(region, "full");
        float[] ctx = r.visionContext(full, 1);
        float[] gctx = java.util.Arrays.copyOf(Goldens.f32(t.get("context_features")), per);
        double e = Goldens.relMax(ctx, gctx);
        report(style, name, "context", e);
        assertTrue(e < TOL, name + " context_features rel err " + e);
        if (!region.get("equal_full_and_crop").asBoolean()) {
          float[] crop = Goldens.pixels(region, "crop");
          float[] foc = r.visionFocal(crop, gctx, 1);
          float[] gfoc = java.util.Arrays.copyOf(Goldens.f32(t.get("focal_features")), per);
          double ef = Goldens.relMax(foc, gfoc);
          report(style, name, "focal", ef);
          assertTrue(ef < TOL, name + " focal_features rel err " + ef);
          if (c.get("regions").size() == 1) {
            float[] proj = r.project(gfoc, 1);
            double ep = Goldens.relMax(proj, Goldens.f32(t.get("projector_output")));
            report(style, name, "projector", ep);
            assertTrue(ep < TOL, name + " projector rel err " + ep);
          }
        }
      }
      // Decoder: splice the golden projector output, prefill, greedy decode.
      long[] ids = Goldens.i64(t.get("prompt_ids"));
      float[] images = Goldens.f32(t.get("projector_output"));
      float[] embeds = r.splice(ids, images);
      assertTrue(embeds.length / r.hidden() == c.get("spliced_length").asInt());
      BundleRunner.State st = r.new State();
      float[] logits = st.step(embeds);
      double el = Goldens.relMax(logits, Goldens.f32(t.get("prefill_last_logits")));
      report(style, name, "prefill_logits", el);
      assertTrue(el < TOL, name + " prefill logits rel err " + el);
      if (c.get("mode").asText().equals("greedy")) {
        long[] want = Goldens.i64(t.get("tokens"));
        long[] got = new long[want.length];
        for (int i = 0; i < want.length; i++) {
          got[i] = BundleRunner.argmax(logits);
          if (i + 1 < want.length) {
            logits = st.step(r.embed(new long[] {got[i]}));
          }
        }
        assertArrayEquals(want, got, name + " greedy tokens");
      }
    }
  }
}

package io.damjava.convert;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.damjava.convert.ConvertOptions.Quant;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@code --lm-head int8|int4} and {@code --vision int8|int4|int8-dynamic} against the fp32 graphs
 * of the same checkpoint (MatMulNBits, block 32, accuracy_level 4 as converted; int8-dynamic:
 * DynamicQuantizeMatMul, per-channel int8 weights). The lm_head comparison feeds both decoders the
 * same inputs (prompt, then the golden tokens), so only the head differs; the vision comparison
 * runs the quantized vision graphs and then the fp32 projector and decoder, so the tokens show what
 * the feature error does downstream.
 *
 * <p>At real width: {@code -Ddam.quant.checkpoint=DIR} (a make_checkpoint.py bench checkpoint, e.g.
 * {@code --preset bench --layers 2}) adds the same measurement with random prompts; it only reports
 * (docs/conversion.md has the table), it asserts nothing beyond the tiny bounds.
 */
class QuantizedHeadVisionTest {
  record Stats(double maxAbs, double relRms, int agree, int total) {
    double agreement() {
      return (double) agree / total;
    }
  }

  static Path convert(Path ckpt, String tag, Quant head, Quant vision) {
    Path base;
    try {
      base = Files.createDirectories(Path.of(System.getProperty("java.io.tmpdir"), "quant"));
      Path out = base.resolve(ckpt.getFileName() + "-" + tag);
      if (!Files.exists(out.resolve("dam-bundle.json"))) {
        Converter.deleteRecursively(out);
        Converter.run(ConvertOptions.of(ckpt, out).withLmHead(head).withVision(vision));
      }
      return out;
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** Logits of every step: the prompt embeds, then each forced token. */
  static List<float[]> forced(BundleRunner r, float[] prompt, long[] tokens) throws Exception {
    List<float[]> out = new ArrayList<>();
    BundleRunner.State st = r.new State();
    out.add(st.step(prompt));
    for (int i = 0; i + 1 < tokens.length; i++) {
      out.add(st.step(r.embed(new long[] {tokens[i]})));
    }
    return out;
  }

  static Stats compare(List<float[]> got, List<float[]> ref) {
    double max = 0;
    double d = 0;
    double n = 0;
    int agree = 0;
    for (int s = 0; s < ref.size(); s++) {
      float[] a = got.get(s);
      float[] b = ref.get(s);
      for (int i = 0; i < b.length; i++) {
        max = Math.max(max, Math.abs(a[i] - b[i]));
        d += (a[i] - b[i]) * (double) (a[i] - b[i]);
        n += b[i] * (double) b[i];
      }
      agree += BundleRunner.argmax(a) == BundleRunner.argmax(b) ? 1 : 0;
    }
    return new Stats(max, Math.sqrt(d / n), agree, ref.size());
  }

  @Test
  void quantizedLmHeadKeepsTheTopTokenOnTheGoldens() throws Exception {
    Path ck = Goldens.checkpoint("tiny-image");
    try (BundleRunner fp32 = new BundleRunner(convert(ck, "fp32", Quant.FLOAT, Quant.FLOAT));
        BundleRunner h8 = new BundleRunner(convert(ck, "head8", Quant.INT8, Quant.FLOAT));
        BundleRunner h4 = new BundleRunner(convert(ck, "head4", Quant.INT4, Quant.FLOAT))) {
      List<float[]> ref = new ArrayList<>();
      List<float[]> q8 = new ArrayList<>();
      List<float[]> q4 = new ArrayList<>();
      for (JsonNode c : Goldens.cases("tiny-image")) {
        JsonNode t = c.get("tensors");
        long[] ids = Goldens.i64(t.get("prompt_ids"));
        float[] images = Goldens.f32(t.get("projector_output"));
        long[] tokens = Goldens.i64(t.get("tokens"));
        ref.addAll(forced(fp32, fp32.splice(ids, images), tokens));
        q8.addAll(forced(h8, h8.splice(ids, images), tokens));
        q4.addAll(forced(h4, h4.splice(ids, images), tokens));
      }
      Stats s8 = compare(q8, ref);
      Stats s4 = compare(q4, ref);
      System.err.printf("lm_head tiny int8: %s; int4: %s%n", s8, s4);
      assertEquals(ref.size(), s8.agree(), "int8 lm_head changed a top-1 token: " + s8);
      assertTrue(s8.relRms() < 0.01, "int8 lm_head logits " + s8);
      assertTrue(s4.relRms() < 0.1, "int4 lm_head logits " + s4);
      assertTrue(s8.maxAbs() > 0, "the head was not quantized");
      assertTrue(s4.relRms() > s8.relRms(), "int4 should err more than int8: " + s4 + " " + s8);
    }
  }

  @Test
  void quantizedVisionFeaturesStayCloseOnTheGoldens() throws Exception {
    Path ck = Goldens.checkpoint("tiny-image");
    try (BundleRunner fp32 = new BundleRunner(convert(ck, "fp32", Quant.FLOAT, Quant.FLOAT));
        BundleRunner v8 = new BundleRunner(convert(ck, "vision8", Quant.FLOAT, Quant.INT8));
        BundleRunner v4 = new BundleRunner(convert(ck, "vision4", Quant.FLOAT, Quant.INT4));
        BundleRunner vd =
            new BundleRunner(convert(ck, "vision8d", Quant.FLOAT, Quant.INT8_DYNAMIC))) {
      for (BundleRunner q : List.of(v8, v4, vd)) {
        double worst = 0;
        int same = 0;
        int total = 0;
        for (JsonNode c : Goldens.cases("tiny-image")) {
          JsonNode region = c.get("regions").get(0);
          if (region.get("equal_full_and_crop").asBoolean()) {
            continue;
          }
          float[] full = Goldens.pixels(region, "full");
          float[] crop = Goldens.pixels(region, "crop");
          float[] refCtx = fp32.visionContext(full, 1);
          float[] ref = fp32.visionFocal(crop, refCtx, 1);
          float[] got = q.visionFocal(crop, q.visionContext(full, 1), 1);
          worst = Math.max(worst, Goldens.relRms(got, ref));
          long[] ids = Goldens.i64(c.get("tensors").get("prompt_ids"));
          long[] a = greedy(fp32, fp32.splice(ids, fp32.project(ref, 1)), 32);
          long[] b = greedy(fp32, fp32.splice(ids, fp32.project(got, 1)), 32);
          for (int i = 0; i < a.length; i++) {
            same += a[i] == b[i] ? 1 : 0;
          }
          total += a.length;
        }
        String tag = q == v8 ? "int8" : q == v4 ? "int4" : "int8-dynamic";
        System.err.printf(
            "vision tiny %s: focal relRMS %.3e, greedy tokens equal %d/%d%n",
            tag, worst, same, total);
        assertTrue(worst > 0, tag + " vision not quantized");
        assertTrue(worst < (q == v4 ? 0.3 : 0.05), tag + " focal features relRMS " + worst);
      }
    }
  }

  static long[] greedy(BundleRunner r, float[] prompt, int n) throws Exception {
    long[] out = new long[n];
    BundleRunner.State st = r.new State();
    float[] logits = st.step(prompt);
    for (int i = 0; i < n; i++) {
      out[i] = BundleRunner.argmax(logits);
      if (i + 1 < n) {
        logits = st.step(r.embed(new long[] {out[i]}));
      }
    }
    return out;
  }

  /** Real width, opt-in: random prompts and random pixels; prints the table rows. */
  @Test
  void realWidthReport() throws Exception {
    String dir = System.getProperty("dam.quant.checkpoint");
    org.junit.jupiter.api.Assumptions.assumeTrue(
        dir != null, "opt-in: -Ddam.quant.checkpoint=DIR (real-width bench checkpoint)");
    Path ck = Path.of(dir);
    int prompts = Integer.getInteger("dam.quant.prompts", 16);
    Random rnd = new Random(7);
    try (BundleRunner fp32 = new BundleRunner(convert(ck, "fp32", Quant.FLOAT, Quant.FLOAT));
        BundleRunner q8 = new BundleRunner(convert(ck, "q8", Quant.INT8, Quant.INT8));
        BundleRunner q4 = new BundleRunner(convert(ck, "q4", Quant.INT4, Quant.INT4))) {
      int vocab = fp32.m.dims().vocabSize();
      List<float[]> ref = new ArrayList<>();
      List<float[]> h8 = new ArrayList<>();
      List<float[]> h4 = new ArrayList<>();
      for (int p = 0; p < prompts; p++) {
        long[] ids = new long[24];
        for (int i = 0; i < ids.length; i++) {
          ids[i] = 3 + rnd.nextInt(vocab - 3);
        }
        long[] next = new long[8];
        for (int i = 0; i < next.length; i++) {
          next[i] = 3 + rnd.nextInt(vocab - 3);
        }
        ref.addAll(forced(fp32, fp32.embed(ids), next));
        h8.addAll(forced(q8, q8.embed(ids), next));
        h4.addAll(forced(q4, q4.embed(ids), next));
      }
      System.err.printf(
          "REALWIDTH lm_head int8 %s%nREALWIDTH lm_head int4 %s%n",
          compare(h8, ref), compare(h4, ref));
      int s = fp32.m.dims().imageSize();
      for (int k = 0; k < 3; k++) {
        float[] full = new float[4 * s * s];
        float[] crop = new float[4 * s * s];
        for (int i = 0; i < full.length; i++) {
          full[i] = rnd.nextFloat() * 2 - 1;
          crop[i] = rnd.nextFloat() * 2 - 1;
        }
        float[] ctx = fp32.visionContext(full, 1);
        float[] ref2 = fp32.visionFocal(crop, ctx, 1);
        for (BundleRunner q : List.of(q8, q4)) {
          float[] qc = q.visionContext(full, 1);
          float[] got = q.visionFocal(crop, qc, 1);
          System.err.printf(
              "REALWIDTH vision %s image %d: context relRMS %.3e relMax %.3e, focal relRMS %.3e"
                  + " relMax %.3e%n",
              q == q8 ? "int8" : "int4",
              k,
              Goldens.relRms(qc, ctx),
              Goldens.relMax(qc, ctx),
              Goldens.relRms(got, ref2),
              Goldens.relMax(got, ref2));
        }
      }
    }
  }
}

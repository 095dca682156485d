package io.damjava.convert;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.damjava.onnx.bundle.BundleManifest.Precision;
import io.damjava.onnx.bundle.BundleManifest.Style;
import io.damjava.onnx.bundle.ManifestIo;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Float16-compute graphs ({@code --compute fp16}) against the PyTorch goldens. ONNX Runtime's CPU
 * provider cannot run them (see {@link Fp16CpuKernelsTest}), so tools/reference/fp16_graph_check.py
 * runs the standard-style graphs in numpy with GPU-like float16 arithmetic (float32 accumulation,
 * every node's output rounded to float16); the same script on the fp32 graphs is the control that
 * the interpreter itself is exact.
 *
 * <p>Tolerance: float16's unit roundoff is u = 2^-11 = 4.9e-4; two blocks of the tiny models round
 * each activation a few times, so a relative max error of a few u is expected (measured 0.7-1.8e-3)
 * and 10u = 5e-3 is the bound. The lower bound 1e-4 proves the graphs really compute in float16:
 * the fp32 graphs are within 1e-6.
 */
class Fp16ComputeGraphTest {
  static final double FP16_TOL = 5e-3;
  static final double FP16_FLOOR = 1e-4;
  static final double FP32_TOL = 1e-5;

  static Path convert(String ckpt, Precision p, ConvertOptions.Compute compute) throws Exception {
    Path base = Files.createDirectories(Path.of(System.getProperty("java.io.tmpdir"), "fp16c"));
    Path out = base.resolve(ckpt + "-" + p + "-" + compute);
    if (!Files.exists(out.resolve("dam-bundle.json"))) {
      Converter.deleteRecursively(out);
      Converter.run(
          ConvertOptions.of(Goldens.checkpoint(ckpt), out)
              .withStyle(Style.STANDARD)
              .withPrecision(p)
              .withCompute(compute));
    }
    return out;
  }

  static JsonNode check(Path bundle) throws Exception {
    Path script = Goldens.REF.resolve("fp16_graph_check.py");
    Process proc =
        new ProcessBuilder(
                "/usr/bin/python3",
                script.toString(),
                "--bundle",
                bundle.toString(),
                "--tokens",
                "32")
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (InputStream in = proc.getInputStream()) {
      in.transferTo(out);
    }
    assertTrue(proc.waitFor(300, TimeUnit.SECONDS), "fp16_graph_check.py timed out");
    assertEquals(0, proc.exitValue(), "fp16_graph_check.py failed (stderr above)");
    return new ObjectMapper().readTree(out.toString(StandardCharsets.UTF_8));
  }

  static List<String> errorKeys(JsonNode c) {
    List<String> keys = new ArrayList<>();
    for (String k : List.of("context", "focal", "projector", "prefill_logits")) {
      if (c.has(k)) {
        keys.add(k);
      }
    }
    return keys;
  }

  @Test
  void fp16ComputeGraphsMatchGoldensWithinFloat16Rounding() throws Exception {
    int cases = 0;
    for (String ckpt : List.of("tiny-image", "tiny-joint")) {
      Path b = convert(ckpt, Precision.FP16, ConvertOptions.Compute.FP16);
      assertEquals("float16", ManifestIo.read(b).dims().kvDtype(), "manifest kvDtype");
      JsonNode r = check(b);
      assertEquals("float16", r.get("kvDtype").asText());
      for (JsonNode c : r.get("cases")) {
        String name = c.get("name").asText();
        assertEquals("float16", c.get("present_dtype").asText(), name + " KV cache type");
        assertEquals("float32", c.get("logits_dtype").asText(), name + " logits type");
        for (String k : errorKeys(c)) {
          double e = c.get(k).asDouble();
          System.err.printf("fp16-compute %-22s %-15s rel max err %.2e%n", name, k, e);
          assertTrue(e < FP16_TOL, name + " " + k + " " + e + " over the float16 bound");
          assertTrue(e > FP16_FLOOR, name + " " + k + " " + e + ": not float16 arithmetic?");
        }
        if (c.has("tokens")) {
          assertEquals(c.get("golden_tokens"), c.get("tokens"), name + " greedy tokens");
        }
        cases++;
      }
    }
    assertEquals(8, cases, "golden cases checked");
  }

  @Test
  void interpreterIsExactOnFp32Graphs() throws Exception {
    JsonNode r = check(convert("tiny-image", Precision.FP32, ConvertOptions.Compute.FP32));
    assertEquals("float32", r.get("kvDtype").asText());
    assertEquals(6, r.get("cases").size());
    for (JsonNode c : r.get("cases")) {
      for (String k : errorKeys(c)) {
        double e = c.get(k).asDouble();
        assertTrue(e < FP32_TOL, c.get("name").asText() + " " + k + " " + e);
      }
      if (c.has("tokens")) {
        assertEquals(c.get("golden_tokens"), c.get("tokens"), c.get("name").asText());
      }
    }
  }

  /**
   * The engine (dam-onnx, float16 KV cache) on ORT CPU: where the CPU provider lacks a float16
   * kernel, ORT runs that node in float32 between Casts (Fp16CpuKernelsTest), so every value
   * between nodes is still float16. Greedy tokens must equal the reference's on every tiny-image
   * greedy case, in both styles.
   */
  @Test
  void engineOnCpuDecodesTheGoldenTokensFromFp16ComputeBundles() throws Exception {
    Path repo = Goldens.REF.getParent().getParent();
    for (Style style : Style.values()) {
      Path base = Files.createDirectories(Path.of(System.getProperty("java.io.tmpdir"), "fp16c"));
      Path out = base.resolve("engine-" + style);
      Converter.deleteRecursively(out);
      Converter.run(
          ConvertOptions.of(Goldens.checkpoint("tiny-image"), out)
              .withStyle(style)
              .withPrecision(Precision.FP16)
              .withCompute(ConvertOptions.Compute.FP16));
      int checked = 0;
      try (io.damjava.api.DescribeAnything dam =
          io.damjava.api.DescribeAnything.builder().model(out).threads(1).build()) {
        for (JsonNode c : Goldens.cases("tiny-image")) {
          if (!c.get("mode").asText().equals("greedy")) {
            continue;
          }
          JsonNode region = c.get("regions").get(0);
          io.damjava.api.Caption caption =
              dam.describe(
                  io.damjava.api.DescribeRequest.of(
                          io.damjava.api.DamImage.read(repo.resolve(region.get("image").asText())),
                          io.damjava.api.Region.mask(
                              io.damjava.api.Mask.read(repo.resolve(region.get("mask").asText()))))
                      .options(
                          io.damjava.api.GenerationOptions.builder()
                              .maxNewTokens(c.get("tokens").size())
                              .temperature(0)
                              .build()));
          int[] want = new int[c.get("tokens").size()];
          for (int i = 0; i < want.length; i++) {
            want[i] = c.get("tokens").get(i).asInt();
          }
          org.junit.jupiter.api.Assertions.assertArrayEquals(
              want, caption.tokenIds(), style + " " + c.get("name").asText());
          checked++;
        }
      }
      assertEquals(5, checked, "greedy tiny-image cases");
    }
  }

  @Test
  void optionsRefuseWhatTheGraphsCannotDo() {
    Path ck = Goldens.checkpoint("tiny-image");
    Path out = Path.of(System.getProperty("java.io.tmpdir"), "fp16c-refused");
    IllegalArgumentException e1 =
        org.junit.jupiter.api.Assertions.assertThrows(
            IllegalArgumentException.class,
            () -> ConvertOptions.of(ck, out).withCompute(ConvertOptions.Compute.FP16));
    assertTrue(e1.getMessage().contains("--precision fp16"), e1.getMessage());
    IllegalArgumentException e2 =
        org.junit.jupiter.api.Assertions.assertThrows(
            IllegalArgumentException.class,
            () ->
                ConvertOptions.of(ck, out)
                    .withPrecision(Precision.FP16)
                    .withKvCache(io.damjava.onnx.bundle.BundleManifest.KvCache.SHARED)
                    .withCompute(ConvertOptions.Compute.FP16));
    assertTrue(e2.getMessage().contains("--kv growing"), e2.getMessage());
    IllegalArgumentException e3 =
        org.junit.jupiter.api.Assertions.assertThrows(
            IllegalArgumentException.class,
            () ->
                ConvertOptions.of(ck, out)
                    .withStyle(Style.STANDARD)
                    .withLmHead(ConvertOptions.Quant.INT8));
    assertTrue(e3.getMessage().contains("contrib"), e3.getMessage());
    IllegalArgumentException e4 =
        org.junit.jupiter.api.Assertions.assertThrows(
            IllegalArgumentException.class,
            () -> ConvertOptions.of(ck, out).withLmHead(ConvertOptions.Quant.INT8_DYNAMIC));
    assertTrue(e4.getMessage().contains("--lm-head int8"), e4.getMessage());
    IllegalArgumentException e5 =
        org.junit.jupiter.api.Assertions.assertThrows(
            IllegalArgumentException.class,
            () ->
                ConvertOptions.of(ck, out)
                    .withPrecision(Precision.FP16)
                    .withVision(ConvertOptions.Quant.INT8_DYNAMIC)
                    .withCompute(ConvertOptions.Compute.FP16));
    assertTrue(e5.getMessage().contains("float32"), e5.getMessage());
  }
}

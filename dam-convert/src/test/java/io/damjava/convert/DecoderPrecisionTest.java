package io.damjava.convert;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.damjava.onnx.bundle.BundleManifest.Precision;
import io.damjava.onnx.bundle.BundleManifest.Style;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * KV-cache consistency, quantized graphs against fp32 graphs holding the dequantized weights, and
 * fp16 against the goldens.
 */
class DecoderPrecisionTest {
  static Path convert(String tag, Precision p, Linears.Mode mode, int acc) throws Exception {
    return convert(tag, p, mode, new Linears.NBits(acc, Linears.BLOCK));
  }

  static Path convert(String tag, Precision p, Linears.Mode mode, Linears.NBits nbits)
      throws Exception {
    Path base = Files.createDirectories(Path.of(System.getProperty("java.io.tmpdir"), "prec"));
    Path out = base.resolve(tag);
    Converter.deleteRecursively(out);
    // lm_head float: the dequantized reference quantizes the decoder's linears only
    Converter.run(
        ConvertOptions.of(Goldens.checkpoint("tiny-image"), out)
            .withPrecision(p)
            .withLmHead(ConvertOptions.Quant.FLOAT),
        mode,
        nbits);
    return out;
  }

  /** Prefill logits of the chelsea case plus 4 greedy decode steps, concatenated. */
  static float[] run(Path bundle, float[][] stepsOut) throws Exception {
    JsonNode c = GoldenGraphTest.golden("chelsea_left_eye").get("tensors");
    try (BundleRunner r = new BundleRunner(bundle)) {
      float[] embeds =
          r.splice(Goldens.i64(c.get("prompt_ids")), Goldens.f32(c.get("projector_output")));
      BundleRunner.State st = r.new State();
      float[] logits = st.step(embeds);
      float[] all = new float[logits.length * 5];
      System.arraycopy(logits, 0, all, 0, logits.length);
      for (int i = 1; i < 5; i++) {
        logits = st.step(r.embed(new long[] {GoldenGraphTest.GREEDY[i - 1]}));
        System.arraycopy(logits, 0, all, i * logits.length, logits.length);
      }
      if (stepsOut != null) {
        stepsOut[0] = embeds;
      }
      return all;
    }
  }

  @Test
  void prefillPlusDecodeStepsEqualsFullRecompute() throws Exception {
    for (Style style : Style.values()) {
      Path b = GoldenGraphTest.convert("tiny-image", style, Precision.FP32);
      JsonNode c = GoldenGraphTest.golden("chelsea_left_eye").get("tensors");
      long[] tokens = Goldens.i64(c.get("tokens"));
      try (BundleRunner r = new BundleRunner(b)) {
        float[] prompt =
            r.splice(Goldens.i64(c.get("prompt_ids")), Goldens.f32(c.get("projector_output")));
        int k = 6;
        // prefill n, then k single-token steps
        BundleRunner.State st = r.new State();
        st.step(prompt);
        float[] stepLogits = null;
        for (int i = 0; i < k; i++) {
          stepLogits = st.step(r.embed(new long[] {tokens[i]}));
        }
        // full recompute of n + k, and a chunked prefill (n, then k at once)
        float[] extra = r.embed(java.util.Arrays.copyOf(tokens, k));
        float[] all = new float[prompt.length + extra.length];
        System.arraycopy(prompt, 0, all, 0, prompt.length);
        System.arraycopy(extra, 0, all, prompt.length, extra.length);
        float[] full = r.new State().step(all);
        BundleRunner.State chunk = r.new State();
        chunk.step(prompt);
        float[] chunked = chunk.step(extra);
        double e1 = Goldens.relMax(stepLogits, full);
        double e2 = Goldens.relMax(chunked, full);
        System.err.printf("kv %s: steps vs full %.2e, chunked vs full %.2e%n", style, e1, e2);
        assertTrue(e1 < 1e-4, style + " steps vs full " + e1);
        assertTrue(e2 < 1e-4, style + " chunked vs full " + e2);
      }
    }
  }

  @Test
  void quantizedGraphsMatchDequantizedWeights() throws Exception {
    float[] fp32 = run(GoldenGraphTest.convert("tiny-image", Style.CONTRIB, Precision.FP32), null);
    for (int bits : new int[] {8, 4}) {
      Precision p = bits == 8 ? Precision.INT8 : Precision.INT4;
      Linears.Mode q = bits == 8 ? Linears.Mode.Q8 : Linears.Mode.Q4;
      Linears.Mode dq = bits == 8 ? Linears.Mode.DQ8 : Linears.Mode.DQ4;
      float[] ref = run(convert("dq" + bits, Precision.FP32, dq, 0), null);
      float[] exact = run(convert("q" + bits + "a0", p, q, 0), null);
      float[] fast = run(convert("q" + bits + "a4", p, null, 4), null);
      double e0 = Goldens.relMax(exact, ref);
      double e4 = Goldens.relRms(fast, ref);
      double drift = Goldens.relRms(fast, fp32);
      System.err.printf(
          "int%d: acc0 vs dequantized rel max %.2e; acc4 vs dequantized relRMS %.2e; acc4 vs fp32 relRMS %.2e%n",
          bits, e0, e4, drift);
      assertTrue(e0 < 1e-4, "int" + bits + " accuracy_level 0 vs dequantized " + e0);
      assertTrue(e4 < 0.05, "int" + bits + " accuracy_level 4 vs dequantized " + e4);
    }
  }

  /**
   * {@code --block-size}: the MatMulNBits nodes carry it, their weights have one scale per block (K
   * = 64 and 128 here, so block 128 pads the K = 64 layers), and the graph still computes exactly
   * what fp32 MatMuls on the same blocks' dequantized weights compute; larger blocks move further
   * from fp32.
   */
  @Test
  void blockSizeReachesTheGraphAndItsDequantizedReference() throws Exception {
    float[] fp32 = run(GoldenGraphTest.convert("tiny-image", Style.CONTRIB, Precision.FP32), null);
    double previous = 0;
    for (int block : new int[] {32, 128}) {
      Path exact =
          convert("q4b" + block, Precision.INT4, Linears.Mode.Q4, new Linears.NBits(0, block));
      Path ref =
          convert("dq4b" + block, Precision.FP32, Linears.Mode.DQ4, new Linears.NBits(0, block));
      int nodes = 0;
      for (io.damjava.convert.onnx.OnnxProto.NodeProto n : nodes(exact, Converter.DECODER)) {
        if (n.getOpType().equals("MatMulNBits")) {
          nodes++;
          long[] sizes =
              n.getAttributeList().stream()
                  .filter(a -> a.getName().equals("block_size"))
                  .mapToLong(a -> a.getI())
                  .toArray();
          assertArrayEquals(new long[] {block}, sizes, n.getName());
        }
      }
      assertTrue(nodes > 0, "no MatMulNBits node");
      float[] q = run(exact, null);
      double e = Goldens.relMax(q, run(ref, null));
      double drift = Goldens.relRms(q, fp32);
      System.err.printf(
          "int4 block %d: vs dequantized rel max %.2e, vs fp32 relRMS %.3e%n", block, e, drift);
      assertTrue(e < 1e-4, "block " + block + " vs its dequantized weights " + e);
      assertTrue(drift > previous, "block " + block + " drift " + drift + " vs " + previous);
      previous = drift;
    }
  }

  @Test
  void blockSizeOutsideMatMulNBitsRangeIsRefused() {
    Path ck = Goldens.checkpoint("tiny-image");
    Path out = Path.of(System.getProperty("java.io.tmpdir"), "never");
    for (int bad : new int[] {8, 48, 512}) {
      IllegalArgumentException e =
          org.junit.jupiter.api.Assertions.assertThrows(
              IllegalArgumentException.class,
              () -> ConvertOptions.of(ck, out).withPrecision(Precision.INT4).withBlockSize(bad));
      assertTrue(e.getMessage().contains("power of two from 16 to 256"), e.getMessage());
    }
    IllegalArgumentException fp32 =
        org.junit.jupiter.api.Assertions.assertThrows(
            IllegalArgumentException.class, () -> ConvertOptions.of(ck, out).withBlockSize(128));
    assertTrue(fp32.getMessage().contains("--precision fp32 writes none"), fp32.getMessage());
    assertEquals(
        64,
        ConvertOptions.of(ck, out)
            .withPrecision(Precision.INT8)
            .withBlockSize(64)
            .decoderBlockSize());
    // the documented default; a chosen block size stays with the options and is checked again
    ConvertOptions int4 = ConvertOptions.of(ck, out).withPrecision(Precision.INT4);
    assertEquals(32, int4.decoderBlockSize());
    assertEquals(128, int4.withBlockSize(128).withPrecision(Precision.INT8).decoderBlockSize());
    org.junit.jupiter.api.Assertions.assertThrows(
        IllegalArgumentException.class,
        () -> int4.withBlockSize(128).withPrecision(Precision.FP32));
  }

  /**
   * int4 bundles get an int8 prefill graph by default: the engine's prefill runs on it (closer to
   * fp32 than the int4 decoder's own prefill), and {@code --prefill decoder} leaves it out.
   */
  @Test
  void int4PrefillGraphIsUsedAndCloserToFp32() throws Exception {
    Path base = Files.createDirectories(Path.of(System.getProperty("java.io.tmpdir"), "prefill"));
    Path ck = Goldens.checkpoint("tiny-image");
    Path fp32 = base.resolve("fp32");
    Path graph = base.resolve("int4-graph");
    Path none = base.resolve("int4-decoder");
    for (Path p : List.of(fp32, graph, none)) {
      Converter.deleteRecursively(p);
    }
    Converter.run(ConvertOptions.of(ck, fp32));
    ConvertSummary s = Converter.run(ConvertOptions.of(ck, graph).withPrecision(Precision.INT4));
    Converter.run(
        ConvertOptions.of(ck, none)
            .withPrecision(Precision.INT4)
            .withPrefill(ConvertOptions.Prefill.DECODER));
    assertTrue(s.graphs().contains(Converter.DECODER_PREFILL), s.graphs().toString());
    assertTrue(Files.isRegularFile(graph.resolve(Converter.DECODER_PREFILL)));
    assertTrue(!Files.exists(none.resolve(Converter.DECODER_PREFILL)));
    // the engine maps the prefill graph's weights without pre-packing, where MatMulNBits (the
    // decoder's int8 head) is slow: every linear there, the head included, is DynamicQuantizeMatMul
    java.util.Map<String, Integer> ops = new java.util.TreeMap<>();
    for (io.damjava.convert.onnx.OnnxProto.NodeProto n : nodes(graph, Converter.DECODER_PREFILL)) {
      ops.merge(n.getOpType(), 1, Integer::sum);
    }
    assertTrue(!ops.containsKey("MatMulNBits") && !ops.containsKey("MatMul"), ops.toString());
    int layers =
        new com.fasterxml.jackson.databind.ObjectMapper()
            .readTree(ck.resolve("llm/config.json").toFile())
            .get("num_hidden_layers")
            .asInt();
    assertEquals(5 * layers + 1, ops.get("DynamicQuantizeMatMul"), ops.toString());
    float[] ref = prefillLogits(fp32);
    double withGraph = Goldens.relRms(prefillLogits(graph), ref);
    double without = Goldens.relRms(prefillLogits(none), ref);
    System.err.printf(
        "prefill logits vs fp32: int8 prefill graph relRMS %.3e, int4 decoder %.3e%n",
        withGraph, without);
    assertTrue(withGraph > 0, "the prefill graph is quantized");
    assertTrue(withGraph < without, withGraph + " vs " + without);
  }

  private static List<io.damjava.convert.onnx.OnnxProto.NodeProto> nodes(Path bundle, String graph)
      throws java.io.IOException {
    return io.damjava.convert.onnx.OnnxProto.ModelProto.parseFrom(
            Files.readAllBytes(bundle.resolve(graph)))
        .getGraph()
        .getNodeList();
  }

  private static float[] prefillLogits(Path bundle) {
    try (io.damjava.onnx.EngineStages e = io.damjava.onnx.EngineStages.open(bundle, 1);
        ai.onnxruntime.OrtSession.Result r = e.prefill(e.randomEmbeds(24, 5), 24)) {
      return e.logits(r);
    }
  }

  @Test
  void fp16MatchesGoldensLoosely() throws Exception {
    for (Style style : Style.values()) {
      Path b = GoldenGraphTest.convert("tiny-image", style, Precision.FP16);
      float[] got = run(b, null);
      JsonNode c = GoldenGraphTest.golden("chelsea_left_eye").get("tensors");
      float[] want = Goldens.f32(c.get("prefill_last_logits"));
      double e = Goldens.relMax(java.util.Arrays.copyOf(got, want.length), want);
      System.err.printf("fp16 %s prefill logits vs golden rel max %.2e%n", style, e);
      // The tiny checkpoint's weights are float16 already, so fp16 storage is exact.
      assertTrue(e < 1e-4, "fp16 " + e);
    }
  }
}

package io.damjava.convert;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.damjava.convert.OnnxBuilder.A;
import io.damjava.convert.onnx.OnnxProto.ModelProto;
import io.damjava.convert.onnx.OnnxProto.NodeProto;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * Which operators of a {@code --compute fp16} bundle ONNX Runtime 1.29's CPU provider has float16
 * kernels for: one single-node graph per operator, as the converter emits it, with float16 and (the
 * control) float32 activations. Where the CPU provider lacks a float16 kernel, ORT's graph
 * transformer wraps the node in Casts to float32 and back (it still runs: computed in float32,
 * rounded to float16 between nodes); the optimized model ORT saves shows which nodes got Casts. The
 * list is the one docs/cuda.md states; when ORT gains kernels this test fails and the docs change.
 */
class Fp16CpuKernelsTest {
  /** The float16 operators ORT 1.29 CPU runs through inserted float32 Casts. */
  static final TreeSet<String> NO_CPU_FP16_KERNEL =
      new TreeSet<>(
          List.of(
              "Add",
              "Conv",
              "Erf",
              "FastGelu",
              "Gelu",
              "Mul",
              "MultiHeadAttention",
              "Neg",
              "Sigmoid",
              "Softmax",
              "Tanh",
              "Where"));

  private interface Probe {
    void build(OnnxBuilder b, int t) throws Exception;
  }

  private static Map<String, Probe> probes() {
    Map<String, Probe> p = new TreeMap<>();
    for (String op : List.of("Sigmoid", "Tanh", "Erf", "Neg")) {
      p.put(op, (b, t) -> b.output(b.op(op, List.of(b.input("x", t, 2L, 8L))), "y", t, 2L, 8L));
    }
    for (String op : List.of("Add", "Mul")) {
      p.put(
          op,
          (b, t) ->
              b.output(
                  b.op(op, List.of(b.input("x", t, 2L, 8L), b.input("z", t, 2L, 8L))),
                  "y",
                  t,
                  2L,
                  8L));
    }
    p.put(
        "MatMul",
        (b, t) ->
            b.output(b.matmul(b.input("x", t, 2L, 8L), b.input("w", t, 8L, 4L)), "y", t, 2L, 4L));
    p.put(
        "Softmax",
        (b, t) ->
            b.output(
                b.op("Softmax", List.of(b.input("x", t, 2L, 8L)), A.i("axis", -1)),
                "y",
                t,
                2L,
                8L));
    p.put(
        "Transpose",
        (b, t) -> b.output(b.transpose(b.input("x", t, 2L, 8L), 1, 0), "y", t, 8L, 2L));
    p.put(
        "Concat",
        (b, t) ->
            b.output(
                b.op(
                    "Concat",
                    List.of(b.input("x", t, 2L, 8L), b.input("z", t, 2L, 8L)),
                    A.i("axis", 1)),
                "y",
                t,
                2L,
                16L));
    p.put(
        "Where",
        (b, t) ->
            b.output(
                b.op(
                    "Where",
                    List.of(
                        b.input("c", OnnxBuilder.BOOL, 2L, 8L),
                        b.input("x", t, 2L, 8L),
                        b.input("z", t, 2L, 8L))),
                "y",
                t,
                2L,
                8L));
    p.put(
        "Gather",
        (b, t) ->
            b.output(
                b.op(
                    "Gather",
                    List.of(b.input("x", t, 16L, 8L), b.input("i", OnnxBuilder.INT64, 1L, 3L))),
                "y",
                t,
                1L,
                3L,
                8L));
    p.put(
        "Conv",
        (b, t) ->
            b.output(
                b.op(
                    "Conv",
                    List.of(
                        b.input("x", t, 1L, 4L, 28L, 28L),
                        b.input("w", t, 8L, 4L, 14L, 14L),
                        b.input("c", t, 8L)),
                    A.ints("kernel_shape", 14, 14),
                    A.ints("strides", 14, 14)),
                "y",
                t,
                1L,
                8L,
                2L,
                2L));
    p.put(
        "LayerNormalization",
        (b, t) ->
            b.output(
                b.op(
                    "LayerNormalization",
                    List.of(b.input("x", t, 2L, 8L), b.input("g", t, 8L), b.input("c", t, 8L)),
                    A.i("axis", -1),
                    A.f("epsilon", 1e-6f)),
                "y",
                t,
                2L,
                8L));
    p.put(
        "SimplifiedLayerNormalization",
        (b, t) ->
            b.output(
                b.op(
                    "SimplifiedLayerNormalization",
                    List.of(b.input("x", t, 2L, 8L), b.input("g", t, 8L)),
                    A.i("axis", -1),
                    A.f("epsilon", 1e-5f),
                    A.i("stash_type", 1)),
                "y",
                t,
                2L,
                8L));
    p.put(
        "SkipSimplifiedLayerNormalization",
        (b, t) -> {
          String[] o =
              b.node(
                  OnnxBuilder.MS,
                  "SkipSimplifiedLayerNormalization",
                  4,
                  List.of(
                      b.input("x", t, 1L, 2L, 8L),
                      b.input("s", t, 1L, 2L, 8L),
                      b.input("g", t, 8L)),
                  A.f("epsilon", 1e-5f));
          b.output(o[0], "y", t, 1L, 2L, 8L);
        });
    p.put(
        "SkipLayerNormalization",
        (b, t) -> {
          String[] o =
              b.node(
                  OnnxBuilder.MS,
                  "SkipLayerNormalization",
                  4,
                  List.of(
                      b.input("x", t, 1L, 2L, 8L),
                      b.input("s", t, 1L, 2L, 8L),
                      b.input("g", t, 8L),
                      b.input("c", t, 8L)),
                  A.f("epsilon", 1e-6f));
          b.output(o[0], "y", t, 1L, 2L, 8L);
        });
    for (String op : List.of("FastGelu", "Gelu")) {
      p.put(
          op,
          (b, t) -> b.output(b.ms(op, List.of(b.input("x", t, 1L, 2L, 8L))), "y", t, 1L, 2L, 8L));
    }
    p.put(
        "MultiHeadAttention",
        (b, t) ->
            b.output(
                b.ms(
                    "MultiHeadAttention",
                    List.of(
                        b.input("q", t, 1L, 3L, 16L),
                        b.input("k", t, 1L, 3L, 16L),
                        b.input("v", t, 1L, 3L, 16L)),
                    A.i("num_heads", 2),
                    A.f("scale", 0.35f)),
                "y",
                t,
                1L,
                3L,
                16L));
    p.put(
        "GroupQueryAttention",
        (b, t) -> {
          String[] o =
              b.node(
                  OnnxBuilder.MS,
                  "GroupQueryAttention",
                  3,
                  List.of(
                      b.input("qkv", t, 1L, 3L, 48L),
                      "",
                      "",
                      b.input("pk", t, 1L, 2L, "past", 8L),
                      b.input("pv", t, 1L, 2L, "past", 8L),
                      b.input("sl", OnnxBuilder.INT32, 1L),
                      b.input("tl", OnnxBuilder.INT32),
                      b.input("cos", t, 16L, 4L),
                      b.input("sin", t, 16L, 4L)),
                  A.i("num_heads", 2),
                  A.i("kv_num_heads", 2),
                  A.i("do_rotary", 1),
                  A.i("rotary_interleaved", 0),
                  A.f("scale", 0.35f));
          b.output(o[0], "y", t, 1L, 3L, 16L);
        });
    p.put(
        "MatMulNBits",
        (b, t) -> {
          ByteBuffer q = ByteBuffer.allocate(4 * 32).order(ByteOrder.LITTLE_ENDIAN);
          String w = b.raw("w", OnnxBuilder.UINT8, q, 4L, 1L, 32L);
          String s =
              t == OnnxBuilder.FLOAT16
                  ? b.raw("s", OnnxBuilder.FLOAT16, Linears.halves(new float[4]), 4L, 1L)
                  : b.weightF32("s", new float[4], 4L, 1L);
          b.output(
              b.ms(
                  "MatMulNBits",
                  List.of(b.input("x", t, 2L, 32L), w, s),
                  A.i("K", 32),
                  A.i("N", 4),
                  A.i("bits", 8),
                  A.i("block_size", 32),
                  A.i("accuracy_level", 4)),
              "y",
              t,
              2L,
              4L);
        });
    return p;
  }

  /**
   * The operators whose single-node graph ORT CPU only runs with Casts inserted around it, for
   * activations of type t.
   */
  static TreeSet<String> castWrapped(int t) throws Exception {
    Path dir =
        Files.createDirectories(
            Path.of(System.getProperty("java.io.tmpdir"), "fp16-kernels", Integer.toString(t)));
    TreeSet<String> refused = new TreeSet<>();
    List<String> other = new ArrayList<>();
    for (Map.Entry<String, Probe> e : probes().entrySet()) {
      Path f = dir.resolve(e.getKey() + ".onnx");
      try (OnnxBuilder b = new OnnxBuilder(f, false)) {
        e.getValue().build(b, t);
        b.save();
      }
      Path opt = dir.resolve(e.getKey() + ".opt.onnx");
      try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
        o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.BASIC_OPT);
        o.setOptimizedModelFilePath(opt.toString());
        try (OrtSession s = Ort.ENV.createSession(f.toString(), o)) {
          s.getInputNames();
        }
      } catch (OrtException ex) {
        other.add(e.getKey() + ": " + ex.getMessage());
        continue;
      }
      for (NodeProto n : ModelProto.parseFrom(Files.readAllBytes(opt)).getGraph().getNodeList()) {
        if (n.getOpType().equals("Cast")) {
          refused.add(e.getKey());
          break;
        }
      }
    }
    assertEquals(List.of(), other, "probes ORT CPU could not load at all");
    return refused;
  }

  @Test
  void float32ControlsAllHaveKernels() throws Exception {
    assertEquals(new TreeSet<>(), castWrapped(OnnxBuilder.FLOAT));
  }

  @Test
  void float16KernelsMissingOnCpuAreTheDocumentedOnes() throws Exception {
    TreeSet<String> got = castWrapped(OnnxBuilder.FLOAT16);
    System.err.println("ORT CPU has no float16 kernel for: " + got);
    assertEquals(NO_CPU_FP16_KERNEL, got);
  }
}

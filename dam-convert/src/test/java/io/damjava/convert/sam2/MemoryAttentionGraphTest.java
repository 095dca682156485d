package io.damjava.convert.sam2;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.damjava.convert.CheckpointException;
import io.damjava.convert.TensorSet;
import io.damjava.onnx.sam2.Sam2Numerics;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The memory-attention graph built from the tiny HF-layout checkpoint against the reference's dump
 * of one tracked frame per case (tools/reference/sam2/goldens): 3 spatial memories + 3 pointers,
 * and 6 spatial memories + 12 pointers (a backward frame attending to forward-pass memories). The
 * pointer sine encoding comes from Sam2Numerics, so the check covers it too.
 *
 * <p>Tolerance 1e-4 absolute on LayerNorm-scale outputs (|x| ~ 1): both sides are float32, but ONNX
 * Runtime's MatMul/Softmax kernels sum in another order than torch's, and the RoPE tables are
 * computed in Java (each value within an ulp of torch's). Measured maximum below.
 */
class MemoryAttentionGraphTest {
  static final Path REPO = Path.of("..").toAbsolutePath().normalize();
  static final Path CKPT = REPO.resolve("tools/reference/fixtures/sam2-tiny");
  static final Path GOLD = REPO.resolve("tools/reference/sam2/goldens");

  static float[] f32(String file) throws IOException {
    ByteBuffer b =
        ByteBuffer.wrap(Files.readAllBytes(GOLD.resolve(file))).order(ByteOrder.LITTLE_ENDIAN);
    float[] out = new float[b.remaining() / 4];
    b.asFloatBuffer().get(out);
    return out;
  }

  @Test
  void matchesTheReferenceOnDumpedFrames(@TempDir Path dir) throws Exception {
    Sam2Config cfg = Sam2Config.read(CKPT);
    assertEquals(64, cfg.hidden());
    assertEquals(2, cfg.pointerSplit());
    Path graph = dir.resolve("memory_attention.onnx");
    try (TensorSet t = TensorSet.open(CKPT)) {
      MemoryAttentionGraph.write(cfg, t, graph);
    }
    JsonNode g = new ObjectMapper().readTree(GOLD.resolve("sam2_goldens.json").toFile());
    int dumps = 0;
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
      o.setIntraOpNumThreads(1);
      try (OrtSession s = env.createSession(graph.toString(), o)) {
        for (JsonNode c : g.get("cases")) {
          JsonNode d = c.get("memory_attention_dump");
          if (d == null) {
            continue;
          }
          dumps++;
          JsonNode ts = d.get("tensors");
          int[] dist = new int[d.get("pointer_distances").size()];
          for (int i = 0; i < dist.length; i++) {
            dist[i] = d.get("pointer_distances").get(i).asInt();
          }
          float[][] sine =
              Sam2Numerics.pointerSineEncoding(dist, d.get("pointer_max").asInt(), cfg.hidden());
          float[] sineFlat = new float[dist.length * cfg.hidden()];
          for (int i = 0; i < dist.length; i++) {
            System.arraycopy(sine[i], 0, sineFlat, i * cfg.hidden(), cfg.hidden());
          }
          Map<String, OnnxTensor> in = new HashMap<>();
          try {
            for (String name :
                new String[] {
                  MemoryAttentionGraph.FEAT,
                  MemoryAttentionGraph.POS,
                  MemoryAttentionGraph.MEMORY,
                  MemoryAttentionGraph.MEMORY_POS,
                  MemoryAttentionGraph.POINTERS
                }) {
              JsonNode tn = ts.get(name); // dump names = graph input names
              in.put(name, tensor(env, f32(tn.get("file").asText()), tn.get("shape")));
            }
            in.put(
                MemoryAttentionGraph.POINTER_SINE,
                OnnxTensor.createTensor(
                    env, FloatBuffer.wrap(sineFlat), new long[] {1, dist.length, cfg.hidden()}));
            float[] want = f32(ts.get("conditioned").get("file").asText());
            float[] got;
            try (OrtSession.Result r = s.run(in)) {
              OnnxTensor out = (OnnxTensor) r.get(MemoryAttentionGraph.OUT).get();
              assertArrayEquals(new long[] {1, 64, 64}, out.getInfo().getShape());
              FloatBuffer fb = out.getFloatBuffer();
              got = new float[fb.remaining()];
              fb.get(got);
            }
            double max = 0;
            for (int i = 0; i < want.length; i++) {
              max = Math.max(max, Math.abs(got[i] - want[i]));
            }
            System.out.printf(
                "memory attention %s: max |java - torch| = %.3g%n", c.get("name").asText(), max);
            assertTrue(max < 2e-5, c.get("name").asText() + ": max abs diff " + max);
          } finally {
            in.values().forEach(OnnxTensor::close);
          }
        }
      }
    }
    assertEquals(2, dumps);
  }

  @Test
  void rejectsANonSam2Config(@TempDir Path dir) throws IOException {
    Files.writeString(dir.resolve("config.json"), "{\"model_type\":\"sam\"}");
    CheckpointException e = assertThrows(CheckpointException.class, () -> Sam2Config.read(dir));
    assertTrue(e.getMessage().contains("sam2_video"));
  }

  static OnnxTensor tensor(OrtEnvironment env, float[] data, JsonNode shape) throws OrtException {
    return OnnxTensor.createTensor(
        env, FloatBuffer.wrap(data), new long[] {1, shape.get(0).asLong(), shape.get(1).asLong()});
  }
}

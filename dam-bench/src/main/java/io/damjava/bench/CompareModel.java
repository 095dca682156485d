package io.damjava.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Widths of the bench checkpoint (the same as DAM-3B's), the FLOP / byte counts they imply, and
 * DAM-3B's full depth, which {@link Compare} projects to.
 */
record CompareModel(
    int h,
    int inter,
    int heads,
    int kvHeads,
    int headDim,
    int vocab,
    int hv,
    int iv,
    int tokens,
    int patch,
    int imageTokens) {
  static final int FULL_LLM_LAYERS = 32;
  static final int FULL_VISION_BLOCKS = 26; // 27 SigLIP layers, select_layer -2

  static CompareModel read(Path ckpt) throws IOException {
    ObjectMapper j = new ObjectMapper();
    JsonNode l = j.readTree(ckpt.resolve("llm/config.json").toFile());
    JsonNode v = j.readTree(ckpt.resolve("vision_tower/config.json").toFile());
    int h = l.path("hidden_size").asInt();
    int heads = l.path("num_attention_heads").asInt();
    int grid = v.path("image_size").asInt() / v.path("patch_size").asInt();
    int merged = (grid + 1) / 2;
    return new CompareModel(
        h,
        l.path("intermediate_size").asInt(),
        heads,
        l.path("num_key_value_heads").asInt(heads),
        h / heads,
        l.path("vocab_size").asInt(),
        v.path("hidden_size").asInt(),
        v.path("intermediate_size").asInt(),
        grid * grid,
        v.path("patch_size").asInt(),
        merged * merged);
  }

  double layerParams() {
    return (double) h * heads * headDim * 2 + 2.0 * h * kvHeads * headDim + 3.0 * h * inter;
  }

  /**
   * Useful FLOPs of a prefill of n positions at depth d (causal attention; lm_head on the last
   * position).
   */
  double prefillFlops(int n, int d) {
    return d * (2.0 * n * layerParams() + 2.0 * n * n * heads * headDim) + 2.0 * h * vocab;
  }

  double visionBlockFlops() {
    return 2.0 * tokens * (4.0 * hv * hv + 2.0 * hv * iv) + 4.0 * tokens * tokens * hv;
  }

  /**
   * One region: two patch embeddings, b tower blocks (context), b blocks + b adapters (focal),
   * projector.
   */
  double visionFlops(int blocks) {
    double embed = 2.0 * tokens * 4 * patch * patch * hv;
    double projector = 2.0 * imageTokens * (4.0 * hv * h + (double) h * h);
    return 2 * embed + 3.0 * blocks * visionBlockFlops() + projector;
  }

  /** KV bytes read by one decode step at context c and depth d (float32 cache). */
  double kvBytes(int c, int d) {
    return 2.0 * d * c * kvHeads * headDim * 4;
  }

  /** The bytes of a bundle's decoder weight files ({@code decoder*.data}). */
  static double decoderBytes(Path bundle) throws IOException {
    double b = 0;
    try (var s = Files.list(bundle)) {
      for (Path p : s.toList()) {
        String n = p.getFileName().toString();
        if (n.startsWith("decoder.") && n.endsWith(".data")) { // not decoder_prefill.onnx.data
          b += Files.size(p);
        }
      }
    }
    return b;
  }
}

package io.damjava.convert.sam2;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.damjava.convert.CheckpointException;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The fields of a Hugging Face {@code sam2_video} config.json that the graphs need.
 *
 * @param hidden decoder / memory-attention width ({@code vision_config.fpn_hidden_size})
 * @param memDim memory width ({@code memory_encoder_output_channels})
 * @param memLayers memory-attention layers
 * @param memHeads memory-attention heads (1 in every released checkpoint; only 1 is supported)
 * @param memDownsample memory-attention downsample rate
 * @param memFeedForward memory-attention MLP width
 * @param ropeTheta RoPE base
 * @param ropeW RoPE table width (the lowest-resolution feature map)
 * @param ropeH RoPE table height
 * @param json the whole config, for the graph-specific fields
 */
public record Sam2Config(
    int hidden,
    int memDim,
    int memLayers,
    int memHeads,
    int memDownsample,
    int memFeedForward,
    double ropeTheta,
    int ropeW,
    int ropeH,
    JsonNode json) {

  /** Reads {@code dir/config.json}. */
  public static Sam2Config read(Path dir) {
    Path p = dir.resolve("config.json");
    JsonNode c;
    try {
      c = new ObjectMapper().readTree(p.toFile());
    } catch (IOException e) {
      throw new CheckpointException(p + ": cannot read: " + e.getMessage(), e);
    }
    if (!"sam2_video".equals(c.path("model_type").asText())) {
      throw new CheckpointException(
          p
              + ": model_type is '"
              + c.path("model_type").asText()
              + "', expected sam2_video (a facebook/sam2.1-hiera-* checkpoint in the transformers"
              + " layout)");
    }
    JsonNode rope = c.path("memory_attention_rope_feat_sizes");
    double theta =
        c.path("rope_parameters").has("rope_theta")
            ? c.path("rope_parameters").get("rope_theta").asDouble()
            : c.path("memory_attention_rope_theta").asDouble(10000.0);
    Sam2Config cfg =
        new Sam2Config(
            required(c.path("vision_config"), "fpn_hidden_size", p),
            c.path("memory_encoder_output_channels").asInt(64),
            c.path("memory_attention_num_layers").asInt(4),
            c.path("memory_attention_num_attention_heads").asInt(1),
            c.path("memory_attention_downsample_rate").asInt(1),
            c.path("memory_attention_feed_forward_hidden_size").asInt(2048),
            theta,
            rope.isArray() ? rope.get(0).asInt() : 64,
            rope.isArray() ? rope.get(1).asInt() : 64,
            c);
    if (cfg.memHeads != 1 || cfg.hidden % cfg.memDownsample != 0 || cfg.hidden % cfg.memDim != 0) {
      throw new CheckpointException(
          p
              + ": unsupported memory attention (heads "
              + cfg.memHeads
              + ", downsample "
              + cfg.memDownsample
              + ", hidden "
              + cfg.hidden
              + ", mem_dim "
              + cfg.memDim
              + "); released SAM 2.1 checkpoints use 1 head and hidden a multiple of mem_dim");
    }
    return cfg;
  }

  private static int required(JsonNode n, String field, Path p) {
    if (!n.has(field)) {
      throw new CheckpointException(p + ": missing vision_config." + field);
    }
    return n.get(field).asInt();
  }

  /** An int field of the top-level config, with its HF default. */
  public int intField(String name, int dflt) {
    return json.path(name).asInt(dflt);
  }

  /** A float field of the top-level config, with its HF default. */
  public float floatField(String name, float dflt) {
    return (float) json.path(name).asDouble(dflt);
  }

  /** The model input size ({@code image_size}, 1024 in the released checkpoints). */
  public int imageSize() {
    return json.path("image_size").asInt(1024);
  }

  /** Memory-attention internal width (= RoPE dim, since there is one head). */
  public int internal() {
    return hidden / memDownsample;
  }

  /** Memory tokens per object pointer. */
  public int pointerSplit() {
    return hidden / memDim;
  }
}

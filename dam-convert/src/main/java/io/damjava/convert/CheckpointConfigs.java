package io.damjava.convert;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The config.json files of an nvidia/DAM-3B style checkpoint, read leniently (Hugging Face configs
 * carry many fields we do not need) with the reference code's defaults for absent fields.
 */
public final class CheckpointConfigs {
  private CheckpointConfigs() {}

  /**
   * Root config.json fields the converter uses.
   *
   * @param selectLayer {@code mm_vision_select_layer}; {@code null} when absent
   * @param selectFeature {@code mm_vision_select_feature}; {@code null} when absent
   * @param maskEncoder {@code mask_encoder_cfg} is present and not null
   */
  public record Root(
      String aspectRatio,
      Integer selectLayer,
      String selectFeature,
      int modelMaxLength,
      boolean maskEncoder) {}

  /** llm/config.json (LlamaConfig). */
  public record Llm(
      int hidden,
      int intermediate,
      int layers,
      int heads,
      int kvHeads,
      int headDim,
      int vocab,
      int maxPositions,
      double rmsEps,
      double ropeTheta,
      boolean tieEmbeddings,
      int bos,
      int eos,
      int pad,
      String act,
      boolean attentionBias,
      boolean mlpBias) {
    /** The same config with {@code vocab} rows used. */
    Llm withVocab(int v) {
      return new Llm(
          hidden,
          intermediate,
          layers,
          heads,
          kvHeads,
          headDim,
          v,
          maxPositions,
          rmsEps,
          ropeTheta,
          tieEmbeddings,
          bos,
          eos,
          pad,
          act,
          attentionBias,
          mlpBias);
    }
  }

  /** vision_tower/config.json (SiglipVisionConfig plus num_mask_channels). */
  public record Vision(
      int hidden,
      int intermediate,
      int layers,
      int heads,
      int imageSize,
      int patchSize,
      int channels,
      int maskChannels,
      double lnEps,
      String act) {}

  /** context_provider/config.json. */
  public record Context(
      String type,
      int hidden,
      int intermediate,
      int layers,
      int heads,
      double lnEps,
      String act,
      boolean zeroInitOutput,
      boolean maskedCrossAttn,
      boolean contextImageAsQueries,
      boolean treatImageAsCimage,
      String layerIndices) {}

  /**
   * llm/generation_config.json, as transformers' {@code generate} applies it under DAM's call
   * (which passes temperature, top_p, num_beams, max_new_tokens and do_sample itself, so only the
   * fields it does not pass matter).
   *
   * @param topK {@code top_k}; 50 (transformers' default) when absent
   * @param eos {@code eos_token_id}; {@code null} when absent
   */
  public record Generation(int topK, Integer eos) {}

  /** mm_projector/config.json. */
  public record Projector(String type) {}

  /** vision_tower/preprocessor_config.json. */
  public record Preprocessor(List<Double> mean, List<Double> std, int resample) {}

  static JsonNode read(Path file) {
    if (!Files.isRegularFile(file)) {
      throw new CheckpointException(file + ": missing config file");
    }
    try {
      JsonNode n = new ObjectMapper().readTree(file.toFile());
      if (n == null || !n.isObject()) {
        throw new CheckpointException(file + ": not a JSON object");
      }
      return n;
    } catch (IOException e) {
      throw new CheckpointException(file + ": cannot parse: " + e.getMessage(), e);
    }
  }

  /** Reads the root config. */
  public static Root root(Path file) {
    JsonNode n = read(file);
    return new Root(
        str(n, "image_aspect_ratio", "resize"),
        n.hasNonNull("mm_vision_select_layer")
            ? integer(n, file, "mm_vision_select_layer", 0)
            : null,
        str(n, "mm_vision_select_feature", null),
        integer(n, file, "tokenizer_model_max_length", integer(n, file, "model_max_length", 0)),
        n.hasNonNull("mask_encoder_cfg"));
  }

  /** Reads llm/config.json. */
  public static Llm llm(Path file) {
    JsonNode n = read(file);
    int hidden = required(n, file, "hidden_size");
    int heads = required(n, file, "num_attention_heads");
    JsonNode scaling = n.get("rope_scaling");
    if (scaling != null && !scaling.isNull()) {
      throw new CheckpointException(file + ": rope_scaling " + scaling + " is not supported");
    }
    String arch = n.path("model_type").asText("llama");
    if (!arch.equals("llama")) {
      throw new CheckpointException(file + ": model_type '" + arch + "', expected llama");
    }
    return new Llm(
        hidden,
        required(n, file, "intermediate_size"),
        required(n, file, "num_hidden_layers"),
        heads,
        integer(n, file, "num_key_value_heads", heads),
        integer(n, file, "head_dim", hidden / heads),
        required(n, file, "vocab_size"),
        integer(n, file, "max_position_embeddings", 4096),
        dbl(n, "rms_norm_eps", 1e-6),
        dbl(n, "rope_theta", 10000.0),
        n.path("tie_word_embeddings").asBoolean(false),
        integer(n, file, "bos_token_id", 1),
        integer(n, file, "eos_token_id", 2),
        integer(n, file, "pad_token_id", 0),
        str(n, "hidden_act", "silu"),
        n.path("attention_bias").asBoolean(false),
        n.path("mlp_bias").asBoolean(false));
  }

  /** Reads vision_tower/config.json. */
  public static Vision vision(Path file) {
    JsonNode n = read(file);
    if (n.has("vision_config") && !n.has("hidden_size")) {
      n = n.get("vision_config");
    }
    return new Vision(
        integer(n, file, "hidden_size", 768),
        integer(n, file, "intermediate_size", 3072),
        integer(n, file, "num_hidden_layers", 12),
        integer(n, file, "num_attention_heads", 12),
        integer(n, file, "image_size", 224),
        integer(n, file, "patch_size", 16),
        integer(n, file, "num_channels", 3),
        integer(n, file, "num_mask_channels", 0),
        dbl(n, "layer_norm_eps", 1e-6),
        str(n, "hidden_act", "gelu_pytorch_tanh"));
  }

  /** Reads context_provider/config.json. */
  public static Context context(Path file) {
    JsonNode n = read(file);
    return new Context(
        str(n, "context_provider_type", null),
        integer(n, file, "hidden_size", 768),
        integer(n, file, "intermediate_size", 3072),
        integer(n, file, "num_hidden_layers", 12),
        integer(n, file, "num_attention_heads", 12),
        dbl(n, "layer_norm_eps", 1e-6),
        str(n, "hidden_act", "gelu_pytorch_tanh"),
        n.path("zero_init_output").asBoolean(true),
        n.path("masked_cross_attn").asBoolean(false),
        n.path("context_image_as_queries").asBoolean(false),
        n.path("treat_image_as_cimage").asBoolean(false),
        n.hasNonNull("context_provider_layer_indices")
            ? n.get("context_provider_layer_indices").toString()
            : null);
  }

  /**
   * Fields of llm/generation_config.json that would change the tokens DAM's {@code generate} call
   * produces but that the engine does not model, with the value that is harmless.
   */
  private static final String[][] GENERATION_NEUTRAL = {
    {"repetition_penalty", "1.0"},
    {"no_repeat_ngram_size", "0"},
    {"encoder_no_repeat_ngram_size", "0"},
    {"min_length", "0"},
    {"min_new_tokens", "0"},
    {"typical_p", "1.0"},
    {"min_p", "null"}, // transformers >= 4.39 (DAM needs >= 4.41.2): a warper after top-p
    {"epsilon_cutoff", "0.0"},
    {"eta_cutoff", "0.0"},
    {"penalty_alpha", "0.0"},
    {"diversity_penalty", "0.0"},
    {"num_beam_groups", "1"},
    {"guidance_scale", "1.0"},
    {"renormalize_logits", "false"},
    {"bad_words_ids", "null"},
    {"force_words_ids", "null"},
    {"suppress_tokens", "null"},
    {"begin_suppress_tokens", "null"},
    {"forced_bos_token_id", "null"},
    {"forced_eos_token_id", "null"},
    {"forced_decoder_ids", "null"},
    {"sequence_bias", "null"},
    {"exponential_decay_length_penalty", "null"},
  };

  /**
   * Reads llm/generation_config.json; an absent file gives transformers' defaults. Refuses a field
   * that would change greedy or sampled tokens and that the engine does not implement.
   */
  public static Generation generation(Path file) {
    if (!Files.isRegularFile(file)) {
      return new Generation(50, null);
    }
    JsonNode n = read(file);
    for (String[] f : GENERATION_NEUTRAL) {
      JsonNode v = n.get(f[0]);
      if (v == null || v.isNull()) {
        continue;
      }
      boolean neutral =
          switch (f[1]) {
            case "null" -> v.isArray() && v.isEmpty();
            case "false" -> v.isBoolean() && !v.asBoolean();
            default -> v.isNumber() && v.asDouble() == Double.parseDouble(f[1]);
          };
      if (!neutral) {
        throw new CheckpointException(
            file
                + ": "
                + f[0]
                + " = "
                + v
                + " is not supported (the engine samples without it; only "
                + f[1]
                + " is accepted)");
      }
    }
    int topK = integer(n, file, "top_k", 50);
    if (topK < 0) {
      throw new CheckpointException(file + ": top_k = " + topK + " must be >= 0");
    }
    JsonNode eos = n.get("eos_token_id");
    if (eos != null && eos.isArray() && eos.size() > 1) {
      throw new CheckpointException(
          file + ": eos_token_id = " + eos + " is not supported (one stop token only)");
    }
    return new Generation(
        topK, eos == null || eos.isNull() ? null : integer(n, file, "eos_token_id", 0));
  }

  /** Reads mm_projector/config.json. */
  public static Projector projector(Path file) {
    JsonNode n = read(file);
    return new Projector(str(n, "mm_projector_type", null));
  }

  /** Reads vision_tower/preprocessor_config.json; absent file or fields give SigLIP defaults. */
  public static Preprocessor preprocessor(Path file) {
    if (!Files.isRegularFile(file)) {
      return new Preprocessor(List.of(0.5, 0.5, 0.5), List.of(0.5, 0.5, 0.5), 3);
    }
    JsonNode n = read(file);
    return new Preprocessor(
        triple(n, file, "image_mean"),
        triple(n, file, "image_std"),
        integer(n, file, "resample", 3));
  }

  private static List<Double> triple(JsonNode n, Path file, String key) {
    JsonNode a = n.get(key);
    if (a == null || a.isNull()) {
      return List.of(0.5, 0.5, 0.5);
    }
    if (!a.isArray() || a.size() != 3) {
      throw new CheckpointException(file + ": " + key + " must be 3 numbers, got " + a);
    }
    List<Double> out = new ArrayList<>();
    a.forEach(x -> out.add(x.asDouble()));
    return List.copyOf(out);
  }

  private static int required(JsonNode n, Path file, String key) {
    if (!n.hasNonNull(key)) {
      throw new CheckpointException(file + ": missing required field " + key);
    }
    return integer(n, file, key, 0);
  }

  private static int integer(JsonNode n, Path file, String key, int dflt) {
    JsonNode v = n.get(key);
    if (v == null || v.isNull()) {
      return dflt;
    }
    if (v.isArray() && v.size() > 0) {
      v = v.get(0); // eos_token_id may be a list
    }
    if (!v.canConvertToInt()) {
      throw new CheckpointException(file + ": field " + key + " is not an integer: " + v);
    }
    return v.asInt();
  }

  private static double dbl(JsonNode n, String key, double dflt) {
    JsonNode v = n.get(key);
    return v == null || v.isNull() ? dflt : v.asDouble();
  }

  private static String str(JsonNode n, String key, String dflt) {
    JsonNode v = n.get(key);
    return v == null || v.isNull() ? dflt : v.asText();
  }
}

package io.damjava.convert;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * An nvidia/DAM-3B style checkpoint folder: root config.json plus llm/, vision_tower/,
 * context_provider/ and mm_projector/, each with config.json and safetensors weights. Opening it
 * reads every config and validates every safetensors header, and checks the configs against each
 * other; weights are read lazily, tensor by tensor.
 */
public final class Checkpoint implements AutoCloseable {
  private final Path dir;
  private final CheckpointConfigs.Root root;
  private final CheckpointConfigs.Llm llm;
  private final CheckpointConfigs.Vision vision;
  private final CheckpointConfigs.Context context;
  private final CheckpointConfigs.Preprocessor preprocessor;
  private final CheckpointConfigs.Generation generation;
  private final TensorSet llmTensors;
  private final TensorSet visionTensors;
  private final TensorSet contextTensors;
  private final TensorSet projectorTensors;

  private Checkpoint(Path dir, TensorSet[] sets) {
    this.dir = dir;
    this.root = CheckpointConfigs.root(dir.resolve("config.json"));
    this.llm = fitVocab(CheckpointConfigs.llm(dir.resolve("llm/config.json")), sets[0]);
    this.vision = CheckpointConfigs.vision(dir.resolve("vision_tower/config.json"));
    this.context = CheckpointConfigs.context(dir.resolve("context_provider/config.json"));
    CheckpointConfigs.Projector projector =
        CheckpointConfigs.projector(dir.resolve("mm_projector/config.json"));
    this.preprocessor =
        CheckpointConfigs.preprocessor(dir.resolve("vision_tower/preprocessor_config.json"));
    this.generation = CheckpointConfigs.generation(dir.resolve("llm/generation_config.json"));
    this.llmTensors = sets[0];
    this.visionTensors = sets[1];
    this.contextTensors = sets[2];
    this.projectorTensors = sets[3];
    validate(projector);
  }

  /** Opens and validates a checkpoint folder. */
  public static Checkpoint open(Path dir) {
    if (!Files.isDirectory(dir)) {
      throw new CheckpointException(dir + ": checkpoint folder not found");
    }
    for (String sub : new String[] {"llm", "vision_tower", "context_provider", "mm_projector"}) {
      if (!Files.isDirectory(dir.resolve(sub))) {
        throw new CheckpointException(
            dir.resolve(sub)
                + ": missing subfolder (expected the nvidia/DAM-3B layout: llm/, vision_tower/,"
                + " context_provider/, mm_projector/)");
      }
    }
    TensorSet[] sets = new TensorSet[4];
    try {
      sets[0] = TensorSet.open(dir.resolve("llm"));
      sets[1] = TensorSet.open(dir.resolve("vision_tower"));
      sets[2] = TensorSet.open(dir.resolve("context_provider"));
      sets[3] = TensorSet.open(dir.resolve("mm_projector"));
      return new Checkpoint(dir, sets);
    } catch (RuntimeException e) {
      for (TensorSet s : sets) {
        if (s != null) {
          s.close();
        }
      }
      throw e;
    }
  }

  /**
   * The official loader ({@code dam/model/model_utils.py} {@code load_pretrained_model}) calls
   * {@code model.resize_token_embeddings(len(tokenizer))} after loading the weights. Rows beyond
   * the tokenizer (a {@code vocab_size} padded up) are dropped, so we keep only the tokenizer's
   * rows of embed_tokens and lm_head; fewer rows than the tokenizer would be extended with random
   * rows, which we cannot reproduce, so that is refused.
   */
  private CheckpointConfigs.Llm fitVocab(CheckpointConfigs.Llm l, TensorSet t) {
    Path tokFile = dir.resolve("llm/tokenizer.model");
    if (!Files.isRegularFile(tokFile)) {
      return l; // the converter reports the missing tokenizer
    }
    int n = tokenizerSize(tokFile);
    String where = dir + "/llm/config.json: vocab_size = " + l.vocab();
    if (l.vocab() < n) {
      throw new CheckpointException(
          where
              + " is smaller than the tokenizer's "
              + n
              + " tokens (llm/tokenizer.model): the official loader's resize_token_embeddings"
              + " would append "
              + (n - l.vocab())
              + " randomly initialised embedding rows, which no conversion can reproduce");
    }
    if (l.vocab() == n) {
      return l;
    }
    for (String name :
        l.tieEmbeddings()
            ? new String[] {"model.embed_tokens.weight"}
            : new String[] {"model.embed_tokens.weight", "lm_head.weight"}) {
      long rows = t.shape(name)[0];
      if (rows != l.vocab()) {
        throw new CheckpointException(where + " but tensor '" + name + "' has " + rows + " rows");
      }
      t.keepRows(name, n);
    }
    return l.withVocab(n);
  }

  /** len(tokenizer) of the official slow LlamaTokenizer: the SentencePiece pieces. */
  private int tokenizerSize(Path tokFile) {
    int pieces;
    try {
      pieces = io.damjava.tokenizer.Tokenizer.load(tokFile).vocabSize();
    } catch (java.io.IOException | RuntimeException e) {
      throw new CheckpointException(tokFile + ": cannot read the tokenizer: " + e.getMessage(), e);
    }
    Path cfg = dir.resolve("llm/tokenizer_config.json");
    if (Files.isRegularFile(cfg)) {
      var added = CheckpointConfigs.read(cfg).get("added_tokens_decoder");
      if (added != null && added.isObject()) {
        added
            .fieldNames()
            .forEachRemaining(
                id -> {
                  if (!id.matches("\\d+") || Long.parseLong(id) >= pieces) {
                    throw new CheckpointException(
                        cfg
                            + ": added_tokens_decoder id "
                            + id
                            + " is beyond the "
                            + pieces
                            + " SentencePiece pieces of tokenizer.model: added tokens are not"
                            + " supported");
                  }
                });
      }
    }
    return pieces;
  }

  private void validate(CheckpointConfigs.Projector projector) {
    String where = dir + "/";
    if (!"mlp_downsample".equals(projector.type())) {
      throw new CheckpointException(
          where
              + "mm_projector/config.json: mm_projector_type "
              + projector.type()
              + " is not supported (mlp_downsample)");
    }
    if (vision.maskChannels() != 1) {
      throw new CheckpointException(
          where
              + "vision_tower/config.json: num_mask_channels is "
              + vision.maskChannels()
              + ", DAM needs 1");
    }
    if (vision.patchSize() <= 0 || vision.imageSize() < vision.patchSize()) {
      throw new CheckpointException(where + "vision_tower/config.json: bad image_size/patch_size");
    }
    if (vision.hidden() % vision.heads() != 0) {
      throw new CheckpointException(
          where + "vision_tower/config.json: heads do not divide hidden_size");
    }
    if (!"cross_attn_end_to_all".equals(context.type())) {
      throw new CheckpointException(
          where
              + "context_provider/config.json: context_provider_type "
              + context.type()
              + " is not supported");
    }
    refuseIf(
        context.maskedCrossAttn(),
        "context_provider/config.json",
        "masked_cross_attn",
        "true",
        "the focal graph has no full-image mask input for the cross-attention bias");
    refuseIf(
        context.contextImageAsQueries(),
        "context_provider/config.json",
        "context_image_as_queries",
        "true",
        "the focal graph takes the crop as queries and the full image as context");
    refuseIf(
        context.treatImageAsCimage(),
        "context_provider/config.json",
        "treat_image_as_cimage",
        "true",
        "the engine describes a crop equal to the full image without the context provider,"
            + " as the official code does only when this is false");
    refuseIf(
        context.layerIndices() != null,
        "context_provider/config.json",
        "context_provider_layer_indices",
        context.layerIndices(),
        "only null (an adapter after every SigLIP block) is modelled");
    refuseIf(
        context.layers() < vision.layers(),
        "context_provider/config.json",
        "num_hidden_layers",
        String.valueOf(context.layers()),
        "the official encoder loop indexes one adapter per vision_tower block ("
            + vision.layers()
            + ")");
    refuseIf(
        context.hidden() != vision.hidden(),
        "context_provider/config.json",
        "hidden_size",
        String.valueOf(context.hidden()),
        "it must equal vision_tower's " + vision.hidden());
    refuseIf(
        vision.channels() != 3,
        "vision_tower/config.json",
        "num_channels",
        String.valueOf(vision.channels()),
        "the RGB patch conv takes 3 channels");
    refuseIf(
        root.maskEncoder(),
        "config.json",
        "mask_encoder_cfg",
        "(set)",
        "the official loader raises 'Mask encoder is not supported'");
    refuseIf(
        root.selectFeature() == null,
        "config.json",
        "mm_vision_select_feature",
        "(absent)",
        "the official VisionTower.feature_select fails on None; DAM-3B uses cls_patch");
    refuseIf(
        !"cls_patch".equals(root.selectFeature()),
        "config.json",
        "mm_vision_select_feature",
        root.selectFeature(),
        "only cls_patch (all 729 tokens) is supported; patch drops the first token and the"
            + " projector's 27x27 reshape fails");
    refuseIf(
        root.selectLayer() == null,
        "config.json",
        "mm_vision_select_layer",
        "(absent)",
        "the official code indexes hidden_states with it; DAM-3B uses -2");
    if (!"resize".equals(root.aspectRatio())) {
      throw new CheckpointException(
          where
              + "config.json: image_aspect_ratio "
              + root.aspectRatio()
              + " is not supported (resize)");
    }
    refuseIf(
        !"silu".equals(llm.act()),
        "llm/config.json",
        "hidden_act",
        llm.act(),
        "the decoder's MLP is SwiGLU with silu");
    refuseIf(
        llm.attentionBias(),
        "llm/config.json",
        "attention_bias",
        "true",
        "the decoder's q/k/v/o projections have no bias");
    refuseIf(
        llm.mlpBias(),
        "llm/config.json",
        "mlp_bias",
        "true",
        "the decoder's gate/up/down projections have no bias");
    refuseIf(
        llm.ropeTheta() <= 0,
        "llm/config.json",
        "rope_theta",
        String.valueOf(llm.ropeTheta()),
        "it must be positive");
    refuseIf(
        !(llm.rmsEps() > 0),
        "llm/config.json",
        "rms_norm_eps",
        String.valueOf(llm.rmsEps()),
        "it must be positive");
    int blocks = visionBlocks();
    if (blocks < 1 || blocks > vision.layers() || blocks > context.layers()) {
      throw new CheckpointException(
          where
              + "config.json: mm_vision_select_layer "
              + root.selectLayer()
              + " selects "
              + blocks
              + " blocks of "
              + vision.layers());
    }
    if (llm.heads() * llm.headDim() <= 0
        || llm.kvHeads() <= 0
        || llm.heads() % llm.kvHeads() != 0
        || llm.headDim() % 2 != 0) {
      throw new CheckpointException(
          where
              + "llm/config.json: inconsistent attention heads: num_attention_heads = "
              + llm.heads()
              + ", num_key_value_heads = "
              + llm.kvHeads()
              + ", head_dim = "
              + llm.headDim()
              + " (heads must be a multiple of key-value heads, head_dim even)");
    }
    if (preprocessor.resample() != 3) {
      throw new CheckpointException(
          where
              + "vision_tower/preprocessor_config.json: resample "
              + preprocessor.resample()
              + " is not bicubic (3)");
    }
  }

  private void refuseIf(boolean bad, String file, String field, String value, String why) {
    if (bad) {
      throw new CheckpointException(
          dir + "/" + file + ": " + field + " = " + value + " is not supported: " + why);
    }
  }

  /** SigLIP blocks that feed the selected hidden state (hidden_states[select_layer]). */
  public int visionBlocks() {
    int s = root.selectLayer();
    return s < 0 ? vision.layers() + 1 + s : s;
  }

  public Path dir() {
    return dir;
  }

  public CheckpointConfigs.Root root() {
    return root;
  }

  public CheckpointConfigs.Llm llm() {
    return llm;
  }

  public CheckpointConfigs.Vision vision() {
    return vision;
  }

  public CheckpointConfigs.Context context() {
    return context;
  }

  public CheckpointConfigs.Preprocessor preprocessor() {
    return preprocessor;
  }

  /** llm/generation_config.json as it applies to DAM's generate call. */
  public CheckpointConfigs.Generation generation() {
    return generation;
  }

  public TensorSet llmTensors() {
    return llmTensors;
  }

  public TensorSet visionTensors() {
    return visionTensors;
  }

  public TensorSet contextTensors() {
    return contextTensors;
  }

  public TensorSet projectorTensors() {
    return projectorTensors;
  }

  @Override
  public void close() {
    llmTensors.close();
    visionTensors.close();
    contextTensors.close();
    projectorTensors.close();
  }
}

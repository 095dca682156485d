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
  private final TensorSet llmTensors;
  private final TensorSet visionTensors;
  private final TensorSet contextTensors;
  private final TensorSet projectorTensors;

  private Checkpoint(Path dir, TensorSet[] sets) {
    this.dir = dir;
    this.root = CheckpointConfigs.root(dir.resolve("config.json"));
    this.llm = CheckpointConfigs.llm(dir.resolve("llm/config.json"));
    this.vision = CheckpointConfigs.vision(dir.resolve("vision_tower/config.json"));
    this.context = CheckpointConfigs.context(dir.resolve("context_provider/config.json"));
    CheckpointConfigs.Projector projector =
        CheckpointConfigs.projector(dir.resolve("mm_projector/config.json"));
    this.preprocessor =
        CheckpointConfigs.preprocessor(dir.resolve("vision_tower/preprocessor_config.json"));
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
    if (context.maskedCrossAttn() || context.contextImageAsQueries()) {
      throw new CheckpointException(
          where
              + "context_provider/config.json: masked_cross_attn / context_image_as_queries are not supported");
    }
    if (context.hidden() != vision.hidden()) {
      throw new CheckpointException(
          where
              + "context_provider/config.json: hidden_size "
              + context.hidden()
              + " differs from vision_tower's "
              + vision.hidden());
    }
    if (!"cls_patch".equals(root.selectFeature())) {
      throw new CheckpointException(
          where
              + "config.json: mm_vision_select_feature "
              + root.selectFeature()
              + " is not supported (cls_patch)");
    }
    if (!"resize".equals(root.aspectRatio())) {
      throw new CheckpointException(
          where
              + "config.json: image_aspect_ratio "
              + root.aspectRatio()
              + " is not supported (resize)");
    }
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
        || llm.heads() % llm.kvHeads() != 0
        || llm.headDim() % 2 != 0) {
      throw new CheckpointException(where + "llm/config.json: inconsistent attention heads");
    }
    if (preprocessor.resample() != 3) {
      throw new CheckpointException(
          where
              + "vision_tower/preprocessor_config.json: resample "
              + preprocessor.resample()
              + " is not bicubic (3)");
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

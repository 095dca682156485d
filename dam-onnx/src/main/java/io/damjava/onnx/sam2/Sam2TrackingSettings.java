package io.damjava.onnx.sam2;

import com.fasterxml.jackson.databind.JsonNode;
import io.damjava.api.InvalidBundleException;

/**
 * The SAM 2.1 config fields that drive the video memory: {@code num_maskmem} (the conditioning
 * frame plus up to {@code num_maskmem - 1} recent frames), {@code max_object_pointers_in_encoder},
 * the decoder width ({@code vision_config.fpn_hidden_size}) and the memory width ({@code
 * memory_encoder_output_channels}).
 *
 * @param numMaskmem memory slots, 7 in every released checkpoint
 * @param maxObjectPointers pointer cap, 16 in every released checkpoint
 * @param hiddenDim width of the object pointers (256 in the released checkpoints)
 * @param memDim width of the spatial memory (64); pointers are split into hiddenDim / memDim tokens
 */
public record Sam2TrackingSettings(
    int numMaskmem, int maxObjectPointers, int hiddenDim, int memDim) {

  /** Validates the widths. */
  public Sam2TrackingSettings {
    if (numMaskmem < 1 || maxObjectPointers < 1 || memDim < 1 || hiddenDim % memDim != 0) {
      throw new InvalidBundleException(
          "SAM 2 settings are inconsistent: num_maskmem="
              + numMaskmem
              + ", max_object_pointers_in_encoder="
              + maxObjectPointers
              + ", hidden="
              + hiddenDim
              + ", mem_dim="
              + memDim
              + " (hidden must be a multiple of mem_dim)");
    }
  }

  /** Reads the fields from a Hugging Face {@code sam2_video} config.json tree. */
  public static Sam2TrackingSettings fromHfConfig(JsonNode config) {
    JsonNode vision = config.path("vision_config");
    if (!"sam2_video".equals(config.path("model_type").asText())
        || !vision.has("fpn_hidden_size")) {
      throw new InvalidBundleException(
          "not a SAM 2 video config (model_type '"
              + config.path("model_type").asText()
              + "'); expected model_type sam2_video with a vision_config");
    }
    return new Sam2TrackingSettings(
        config.path("num_maskmem").asInt(7),
        config.path("max_object_pointers_in_encoder").asInt(16),
        vision.get("fpn_hidden_size").asInt(),
        config.path("memory_encoder_output_channels").asInt(64));
  }

  /** Pointers used for a video of {@code numFrames} frames: {@code min(numFrames, cap)}. */
  public int pointersFor(int numFrames) {
    return Math.min(numFrames, maxObjectPointers);
  }
}

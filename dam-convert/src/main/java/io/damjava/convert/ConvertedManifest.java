package io.damjava.convert;

import io.damjava.onnx.bundle.BundleManifest;
import io.damjava.onnx.bundle.BundleManifest.Precision;
import io.damjava.onnx.bundle.BundleManifest.Style;
import io.damjava.onnx.bundle.BundleManifest.Variant;
import java.util.List;
import java.util.Map;

/**
 * The {@code dam-bundle.json} that {@link Converter} writes: the graphs' files and tensor names,
 * the model's dimensions, preprocessing, prompt, tokens and generation defaults, taken from the
 * checkpoint's configs.
 */
final class ConvertedManifest {
  private static final String IMAGE_QUERY = "Describe the masked region in detail.";
  private static final String JOINT_IMAGE_QUERY =
      "Given the image above, describe the object in the masked region.";
  private static final String JOINT_VIDEO_QUERY =
      "Given the video in the form of a sequence of frames above, describe the object in the masked"
          + " region in the video in detail.";

  private ConvertedManifest() {}

  /** The decoder's roles: the decoder graph and the prefill graph share them. */
  private static BundleManifest.GraphSpec decoder(String file) {
    return new BundleManifest.GraphSpec(
        file,
        Map.of(
            "embeds", DecoderGraph.EMBEDS,
            "attentionMask", DecoderGraph.MASK,
            "positionIds", DecoderGraph.POS,
            "pastKey", DecoderGraph.PAST_KEY,
            "pastValue", DecoderGraph.PAST_VALUE),
        Map.of(
            "logits", DecoderGraph.LOGITS,
            "presentKey", DecoderGraph.PRESENT_KEY,
            "presentValue", DecoderGraph.PRESENT_VALUE));
  }

  static BundleManifest of(
      String name,
      Variant variant,
      Precision precision,
      Style style,
      BundleManifest.KvCache kvCache,
      boolean fp16Kv,
      boolean prefillGraph,
      Checkpoint c,
      List<BundleManifest.FileEntry> files) {
    CheckpointConfigs.Llm l = c.llm();
    CheckpointConfigs.Vision v = c.vision();
    int grid = v.imageSize() / v.patchSize();
    int merged = (grid + 1) / 2;
    var dims =
        new BundleManifest.Dims(
            v.imageSize(),
            v.patchSize(),
            grid * grid,
            v.hidden(),
            merged * merged,
            l.hidden(),
            l.layers(),
            l.heads(),
            l.kvHeads(),
            l.headDim(),
            l.vocab(),
            l.maxPositions(),
            fp16Kv ? "float16" : "float32",
            kvCache);
    var pre =
        new BundleManifest.Preprocess(
            c.preprocessor().mean(),
            c.preprocessor().std(),
            "bicubic",
            3,
            48,
            c.root().aspectRatio());
    boolean joint = variant == Variant.IMAGE_VIDEO;
    var prompt =
        new BundleManifest.Prompt(
            "v1", joint ? JOINT_IMAGE_QUERY : IMAGE_QUERY, joint ? JOINT_VIDEO_QUERY : "", -200);
    var graphs =
        new BundleManifest.Graphs(
            new BundleManifest.GraphSpec(
                Converter.VISION_CONTEXT,
                Map.of("pixels", VisionGraphs.PIXELS),
                Map.of("features", VisionGraphs.CONTEXT)),
            new BundleManifest.GraphSpec(
                Converter.VISION_FOCAL,
                Map.of("pixels", VisionGraphs.PIXELS, "context", VisionGraphs.CONTEXT),
                Map.of("features", VisionGraphs.FOCAL)),
            new BundleManifest.GraphSpec(
                Converter.PROJECTOR,
                Map.of("features", VisionGraphs.FEATURES),
                Map.of("embeds", VisionGraphs.IMAGE_EMBEDS)),
            new BundleManifest.GraphSpec(
                Converter.EMBED,
                Map.of("ids", VisionGraphs.IDS),
                Map.of("embeds", VisionGraphs.EMBEDS)),
            decoder(Converter.DECODER),
            prefillGraph ? decoder(Converter.DECODER_PREFILL) : null);
    return new BundleManifest(
        BundleManifest.FORMAT_VERSION,
        name,
        variant,
        precision,
        style,
        dims,
        pre,
        prompt,
        // generation_config.json's eos_token_id and top_k win, as in transformers' generate;
        // temperature/top_p/max_new_tokens are the ones describe_anything_model.py passes.
        new BundleManifest.Tokens(
            l.bos(), c.generation().eos() != null ? c.generation().eos() : l.eos(), l.pad()),
        new BundleManifest.Generation(0.2, 0.5, c.generation().topK(), 512),
        Converter.TOKENIZER,
        graphs,
        files);
  }
}

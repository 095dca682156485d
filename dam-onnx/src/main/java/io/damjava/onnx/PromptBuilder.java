package io.damjava.onnx;

import io.damjava.onnx.bundle.BundleManifest;
import java.util.ArrayList;
import java.util.List;

/**
 * The reference's prompt: conversation template v1 around the query, then {@code
 * tokenizer_image_token}: split on {@code <image>}, encode each chunk with BOS, keep only the first
 * chunk's BOS, and put the placeholder id (-200) between chunks. Immutable.
 */
final class PromptBuilder {
  static final String IMAGE_TAG = "<image>";
  static final String SYSTEM_V1 =
      "A chat between a curious user and an artificial intelligence assistant. The assistant gives"
          + " helpful, detailed, and polite answers to the user's questions.";

  private final BundleManifest.Variant variant;
  private final BundleManifest.Prompt prompt;
  private final TextTokenizer tokenizer;

  PromptBuilder(BundleManifest.Variant variant, BundleManifest.Prompt prompt, TextTokenizer tok) {
    this.variant = variant;
    this.prompt = prompt;
    this.tokenizer = tok;
  }

  /** The full prompt text for an image ({@code frames == 1}) or a video (8 frames). */
  String text(String query, int frames, boolean video) {
    String q;
    if (video) {
      q = "Video: " + IMAGE_TAG.repeat(frames) + "\n" + query;
    } else if (variant == BundleManifest.Variant.IMAGE_VIDEO) {
      q = "Image: " + IMAGE_TAG + "\n" + query;
    } else {
      q = IMAGE_TAG + "\n" + query;
    }
    return SYSTEM_V1 + " USER: " + q + " ASSISTANT:";
  }

  /** The default query of the bundle. */
  String defaultQuery(boolean video) {
    return video ? prompt.videoQuery() : prompt.imageQuery();
  }

  /** (T) prompt ids with {@code prompt.imageTokenIndex} at every image. */
  int[] ids(String text) {
    List<Integer> out = new ArrayList<>();
    String[] chunks = text.split(IMAGE_TAG, -1);
    for (int c = 0; c < chunks.length; c++) {
      int[] ids = tokenizer.encodeWithBos(chunks[c]);
      if (c > 0) {
        out.add(prompt.imageTokenIndex());
      }
      for (int i = c == 0 ? 0 : 1; i < ids.length; i++) {
        out.add(ids[i]);
      }
    }
    return out.stream().mapToInt(Integer::intValue).toArray();
  }

  int imageTokenIndex() {
    return prompt.imageTokenIndex();
  }
}

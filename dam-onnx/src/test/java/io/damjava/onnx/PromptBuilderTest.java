package io.damjava.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.damjava.onnx.bundle.BundleManifest;
import org.junit.jupiter.api.Test;

/** Prompt text as dam_ref.build_prompt_v1 / dam-model-facts §3.1; ids as tokenizer_image_token. */
class PromptBuilderTest {
  static final BundleManifest.Prompt PROMPT =
      new BundleManifest.Prompt("v1", "Describe the masked region in detail.", "Video q.", -200);

  @Test
  void imageTemplate() {
    PromptBuilder p = new PromptBuilder(BundleManifest.Variant.IMAGE, PROMPT, new ByteTokenizer());
    assertEquals(
        "A chat between a curious user and an artificial intelligence assistant. The assistant"
            + " gives helpful, detailed, and polite answers to the user's questions. USER:"
            + " <image>\nDescribe the masked region in detail. ASSISTANT:",
        p.text(p.defaultQuery(false), 1, false));
  }

  @Test
  void jointTemplates() {
    PromptBuilder p =
        new PromptBuilder(BundleManifest.Variant.IMAGE_VIDEO, PROMPT, new ByteTokenizer());
    assertEquals(true, p.text("q", 1, false).endsWith("USER: Image: <image>\nq ASSISTANT:"));
    assertEquals(
        true,
        p.text("Video q.", 8, true)
            .endsWith("USER: Video: " + "<image>".repeat(8) + "\nVideo q. ASSISTANT:"));
  }

  @Test
  void idsKeepOnlyTheFirstBosAndPlaceTheImageIndex() {
    PromptBuilder p = new PromptBuilder(BundleManifest.Variant.IMAGE, PROMPT, new ByteTokenizer());
    // "a<image>b<image><image>" -> [BOS, a] -200 [b] -200 [] -200 []
    assertArrayEquals(
        new int[] {1, 'a' + 3, -200, 'b' + 3, -200, -200}, p.ids("a<image>b<image><image>"));
  }
}

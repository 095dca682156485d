package io.damjava.tokenizer;

/**
 * DAM prompts: the Vicuna "v1" conversation template around a query that holds one {@code <image>}
 * tag per image (or video frame).
 *
 * <ul>
 *   <li>{@link #IMAGE}: DAM-3B, query {@code "<image>\nDescribe the masked region in detail."}
 *   <li>{@link #JOINT_IMAGE}: the image-video joint checkpoint (DAM-3B-Video) on one image, query
 *       {@code "Image: <image>\n..."}
 *   <li>{@link #JOINT_VIDEO}: the joint checkpoint on frames, query {@code "Video:
 *       <image>...<image>\n..."} (8 frames by default)
 * </ul>
 */
public enum PromptTemplate {
  /** DAM-3B (image-only checkpoint). */
  IMAGE("", 1, "Describe the masked region in detail."),
  /** Image-video joint checkpoint, single image. */
  JOINT_IMAGE("Image: ", 1, "Given the image above, describe the object in the masked region."),
  /** Image-video joint checkpoint, video frames. */
  JOINT_VIDEO(
      "Video: ",
      8,
      "Given the video in the form of a sequence of frames above, describe the object in the"
          + " masked region in the video in detail.");

  /** System message of conversation template v1. */
  public static final String SYSTEM_V1 =
      "A chat between a curious user and an artificial intelligence assistant. The assistant gives"
          + " helpful, detailed, and polite answers to the user's questions.";

  /** The literal image tag in a prompt. */
  public static final String IMAGE_TAG = "<image>";

  /** The id that stands for one image in the prompt ids (IMAGE_TOKEN_INDEX). */
  public static final int IMAGE_TOKEN_INDEX = -200;

  private final String prefix;
  private final int defaultImages;
  private final String defaultInstruction;

  PromptTemplate(String prefix, int defaultImages, String defaultInstruction) {
    this.prefix = prefix;
    this.defaultImages = defaultImages;
    this.defaultInstruction = defaultInstruction;
  }

  /** Returns the instruction used by the DAM examples and evaluation for this template. */
  public String defaultInstruction() {
    return defaultInstruction;
  }

  /** Returns the number of images (frames) the template is normally used with. */
  public int defaultImages() {
    return defaultImages;
  }

  /**
   * Returns the user query: prefix, one {@code <image>} per image, a newline, the instruction.
   *
   * @throws IllegalArgumentException if {@code images < 1}
   */
  public String query(String instruction, int images) {
    if (images < 1) {
      throw new IllegalArgumentException("images must be at least 1, got " + images);
    }
    return prefix + IMAGE_TAG.repeat(images) + "\n" + instruction;
  }

  /** Returns the whole prompt string: {@code conversationV1(query(instruction, images))}. */
  public String prompt(String instruction, int images) {
    return conversationV1(query(instruction, images));
  }

  /** Returns the whole prompt with the default instruction and number of images. */
  public String defaultPrompt() {
    return prompt(defaultInstruction, defaultImages);
  }

  /**
   * Wraps a query in conversation template v1: {@code SYSTEM_V1 + " USER: " + query + "
   * ASSISTANT:"} (no trailing space).
   */
  public static String conversationV1(String query) {
    return SYSTEM_V1 + " " + "USER: " + query + " " + "ASSISTANT:";
  }
}

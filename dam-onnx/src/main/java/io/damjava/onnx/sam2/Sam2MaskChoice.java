package io.damjava.onnx.sam2;

/**
 * Picks a frame's mask and object pointer from the decoder's four outputs, as the reference does.
 *
 * <p>Multimask (one click, or tracking): the best predicted IoU among tokens 1..3, with its
 * pointer. Single mask (two or more points, a box, a mask prompt): token 0 unless its stability
 * (the area above +delta over the area above -delta) falls below the threshold, then the best of
 * tokens 1..3. The pointer stays token 0's. An object score <= 0 means occluded: every logit
 * becomes -1024 and the pointer is the learned no-object pointer.
 *
 * @param lowRes chosen low-res logits [4h * 4w]
 * @param pointer object pointer [hidden]
 * @param token chosen mask token (0..3)
 * @param iou that token's predicted IoU
 * @param occluded object score <= 0
 */
public record Sam2MaskChoice(
    float[] lowRes, float[] pointer, int token, float iou, boolean occluded) {
  /** Logit written for every pixel of an occluded frame. */
  public static final float NO_OBJECT_SCORE = -1024f;

  /**
   * @param masks [4][pixels] decoder logits
   * @param iou [4] predicted IoU
   * @param pointers [4][hidden] object_pointer_proj of each mask token
   * @param score object-score logit
   * @param multimask whether the frame uses multimask output
   * @param delta dynamic_multimask_stability_delta (0.05)
   * @param threshold dynamic_multimask_stability_thresh (0.98)
   * @param noObjectPointer the checkpoint's no_object_pointer
   */
  public static Sam2MaskChoice choose(
      float[][] masks,
      float[] iou,
      float[][] pointers,
      float score,
      boolean multimask,
      float delta,
      float threshold,
      float[] noObjectPointer) {
    int best = 1;
    for (int i = 2; i < 4; i++) {
      if (iou[i] > iou[best]) {
        best = i;
      }
    }
    int token;
    int pointerToken;
    if (multimask) {
      token = best;
      pointerToken = best;
    } else {
      long above = 0;
      long union = 0;
      for (float v : masks[0]) {
        above += v > delta ? 1 : 0;
        union += v > -delta ? 1 : 0;
      }
      float stability = union > 0 ? (float) above / (float) union : 1f;
      token = stability >= threshold ? 0 : best;
      pointerToken = 0;
    }
    boolean occluded = !(score > 0f);
    float[] low = masks[token].clone();
    float[] ptr = pointers[pointerToken].clone();
    if (occluded) {
      java.util.Arrays.fill(low, NO_OBJECT_SCORE);
      ptr = noObjectPointer.clone();
    }
    return new Sam2MaskChoice(low, ptr, token, iou[token], occluded);
  }
}

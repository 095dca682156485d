package io.damjava.onnx;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import io.damjava.api.InvalidBundleException;
import io.damjava.api.ModelLoadException;
import io.damjava.onnx.bundle.SamManifest;
import java.util.List;
import java.util.Map;

/**
 * The tensor names of the two SAM decoder layouts {@link Segmenter} runs, and what a bundle's
 * graphs declare: {@link #check} holds them to the manifest's layout when a segmenter loads.
 *
 * @param encoderInput the encoder's one input (pixel_values)
 * @param boxes whether the HF decoder declares {@code input_boxes}
 * @param labels32 whether the HF decoder's {@code input_labels} is int32 rather than int64
 * @param maskInputShape the SAM layout's {@code mask_input} shape, (1, 1, 256, 256) unless declared
 */
record SamGraphIo(String encoderInput, boolean boxes, boolean labels32, long[] maskInputShape) {
  // HF split (Optimum / transformers.js) decoder I/O
  static final String INPUT_POINTS = "input_points"; // (B, P, N, 2) float32
  static final String INPUT_LABELS = "input_labels"; // (B, P, N) int64
  static final String INPUT_BOXES = "input_boxes"; // (B, P, 4) float32, optional
  static final String IMAGE_EMBEDDINGS = "image_embeddings"; // (B, 256, 64, 64) float32
  static final String IMAGE_PE = "image_positional_embeddings"; // (B, 256, 64, 64) float32
  static final String IOU_SCORES = "iou_scores"; // (B, P, 3) float32
  static final String PRED_MASKS = "pred_masks"; // (B, P, 3, 256, 256) float32
  // segment-anything export_onnx_model.py decoder I/O
  static final String POINT_COORDS = "point_coords"; // (1, N, 2) float32
  static final String POINT_LABELS = "point_labels"; // (1, N) float32
  static final String MASK_INPUT = "mask_input"; // (1, 1, 256, 256) float32
  static final String HAS_MASK_INPUT = "has_mask_input"; // (1) float32
  static final String ORIG_IM_SIZE = "orig_im_size"; // (2) float32
  static final String IOU_PREDICTIONS = "iou_predictions"; // (1, K) float32
  static final String LOW_RES_MASKS = "low_res_masks"; // (1, K, 256, 256) float32

  private static final List<String> HF_INPUTS =
      List.of(INPUT_POINTS, INPUT_LABELS, IMAGE_EMBEDDINGS, IMAGE_PE);
  private static final List<String> HF_OUTPUTS = List.of(IOU_SCORES, PRED_MASKS);
  private static final List<String> SAM_INPUTS =
      List.of(
          IMAGE_EMBEDDINGS, POINT_COORDS, POINT_LABELS, MASK_INPUT, HAS_MASK_INPUT, ORIG_IM_SIZE);
  private static final List<String> SAM_OUTPUTS = List.of(IOU_PREDICTIONS, LOW_RES_MASKS);

  /**
   * Checks the graphs' inputs and outputs against the manifest's layout.
   *
   * @throws InvalidBundleException naming the missing or unknown input or output
   */
  static SamGraphIo check(SamManifest manifest, OrtSession encoder, OrtSession decoder) {
    try {
      if (encoder.getInputNames().size() != 1) {
        throw new InvalidBundleException(
            "segmenter encoder "
                + manifest.encoder()
                + " must have one input (pixel_values), it has "
                + encoder.getInputNames());
      }
      String encoderInput = encoder.getInputNames().iterator().next();
      Map<String, NodeInfo> in = decoder.getInputInfo();
      List<String> need = manifest.layout() == SamManifest.Layout.HF_SPLIT ? HF_INPUTS : SAM_INPUTS;
      List<String> out =
          manifest.layout() == SamManifest.Layout.HF_SPLIT ? HF_OUTPUTS : SAM_OUTPUTS;
      for (String n : need) {
        if (!in.containsKey(n)) {
          throw new InvalidBundleException(
              "segmenter decoder "
                  + manifest.decoder()
                  + " has no input "
                  + n
                  + " required by layout "
                  + manifest.layout()
                  + " (its inputs: "
                  + in.keySet()
                  + ")");
        }
      }
      for (String n : out) {
        if (!decoder.getOutputNames().contains(n)) {
          throw new InvalidBundleException(
              "segmenter decoder "
                  + manifest.decoder()
                  + " has no output "
                  + n
                  + " required by layout "
                  + manifest.layout());
        }
      }
      for (String n : in.keySet()) {
        if (!need.contains(n) && !INPUT_BOXES.equals(n)) {
          throw new InvalidBundleException(
              "segmenter decoder " + manifest.decoder() + " has an unknown input " + n);
        }
      }
      boolean boxes =
          manifest.layout() == SamManifest.Layout.HF_SPLIT && in.containsKey(INPUT_BOXES);
      boolean labels32 =
          manifest.layout() == SamManifest.Layout.HF_SPLIT
              && ((TensorInfo) in.get(INPUT_LABELS).getInfo()).type == OnnxJavaType.INT32;
      long[] mi = new long[] {1, 1, 256, 256};
      if (manifest.layout() == SamManifest.Layout.SAM_ONNX) {
        long[] declared = ((TensorInfo) in.get(MASK_INPUT).getInfo()).getShape();
        for (int i = 0; i < Math.min(4, declared.length); i++) {
          if (declared[i] > 0) {
            mi[i] = declared[i];
          }
        }
      }
      for (String n : List.of(IMAGE_EMBEDDINGS, IMAGE_PE)) {
        if (in.containsKey(n)
            && !encoder.getOutputNames().contains(n)
            && !(n.equals(IMAGE_EMBEDDINGS) && encoder.getOutputNames().size() == 1)) {
          throw new InvalidBundleException(
              "segmenter encoder "
                  + manifest.encoder()
                  + " has no output "
                  + n
                  + " (its outputs: "
                  + encoder.getOutputNames()
                  + ")");
        }
      }
      return new SamGraphIo(encoderInput, boxes, labels32, mi);
    } catch (OrtException e) {
      throw new ModelLoadException("cannot read the segmenter graphs' inputs: " + e, e);
    }
  }
}

package io.damjava.onnx.sam2;

/**
 * The small learned tensors and sizes the host needs around the SAM 2.1 graphs.
 *
 * @param imageSize model input side S
 * @param featSide side of the lowest-resolution feature map (S / 16)
 * @param hidden decoder width C
 * @param memDim memory width
 * @param noObjectPointer {@code no_object_pointer} [C]
 * @param memoryTemporalEncoding {@code memory_temporal_positional_encoding} [numMaskmem][memDim]
 * @param stabilityDelta {@code dynamic_multimask_stability_delta}
 * @param stabilityThreshold {@code dynamic_multimask_stability_thresh}
 * @param maskDownsample {@code mask_downsample} (1 to 1 conv, kernel 4, stride 4): 16 weights,
 *     row-major, then the bias; it turns a mask prompt into the decoder's mask input
 */
public record Sam2VideoParams(
    int imageSize,
    int featSide,
    int hidden,
    int memDim,
    float[] noObjectPointer,
    float[][] memoryTemporalEncoding,
    float stabilityDelta,
    float stabilityThreshold,
    float[] maskDownsample) {}

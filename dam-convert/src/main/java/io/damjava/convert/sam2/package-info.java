/**
 * SAM 2.1 (Hugging Face {@code sam2_video} checkpoints) to ONNX, in pure Java. So far: the memory
 * attention graph; the image encoder, prompt encoder + mask decoder and memory encoder graphs are
 * still to come (see docs/segmentation.md).
 */
package io.damjava.convert.sam2;

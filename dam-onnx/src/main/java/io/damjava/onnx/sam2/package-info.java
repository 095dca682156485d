/**
 * SAM 2.1 video propagation on the Java side: the bounded memory bank and its selection policy, and
 * the small numeric pieces the graphs leave to the host (bf16 storage rounding, the pointers' sine
 * temporal encoding). Checked against tools/reference/sam2 (see docs/segmentation.md).
 */
package io.damjava.onnx.sam2;

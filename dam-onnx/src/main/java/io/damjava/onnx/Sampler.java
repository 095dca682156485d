package io.damjava.onnx;

/**
 * Picks the next token from the last position's logits. A sampler owns its random generator and
 * scratch arrays, so it belongs to one call and is never shared.
 */
interface Sampler {
  /**
   * @param logits (V) float32, the last position's logits; not modified
   * @return the chosen token id
   */
  int sample(float[] logits);
}

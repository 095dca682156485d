package io.damjava.convert;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Symmetric round-to-nearest block quantization in the layout of ONNX Runtime's {@code
 * com.microsoft.MatMulNBits}: B is uint8 {@code [N, ceil(K/block), block*bits/8]} (4-bit values low
 * nibble first along K), scales float32 {@code [N, ceil(K/block)]}, no zero points (the default
 * {@code 2^(bits-1)} applies).
 */
public final class Quantizer {
  private Quantizer() {}

  /**
   * Quantized weight.
   *
   * @param packed B bytes
   * @param scales per-block scales
   * @param dequantized what the quantized values stand for, {@code [N, K]} row-major, or null
   */
  public record Quantized(ByteBuffer packed, float[] scales, float[] dequantized) {}

  /**
   * Quantizes a weight in Hugging Face Linear layout {@code [N=out, K=in]}.
   *
   * @param keepDequantized also return the dequantized weights (tests)
   */
  public static Quantized quantize(
      float[] w, int n, int k, int bits, int block, boolean keepDequantized) {
    if (bits != 4 && bits != 8) {
      throw new IllegalArgumentException("bits " + bits);
    }
    int blocks = (k + block - 1) / block;
    int blobBytes = block * bits / 8;
    int qmax = (1 << (bits - 1)) - 1;
    int zp = 1 << (bits - 1);
    ByteBuffer packed = ByteBuffer.allocate(n * blocks * blobBytes).order(ByteOrder.LITTLE_ENDIAN);
    float[] scales = new float[n * blocks];
    float[] dq = keepDequantized ? new float[n * k] : null;
    int[] q = new int[block];
    for (int row = 0; row < n; row++) {
      for (int b = 0; b < blocks; b++) {
        int k0 = b * block;
        int k1 = Math.min(k, k0 + block);
        float absmax = 0;
        for (int j = k0; j < k1; j++) {
          absmax = Math.max(absmax, Math.abs(w[row * k + j]));
        }
        float scale = absmax / qmax;
        float inv = scale == 0 ? 0 : 1f / scale;
        for (int j = 0; j < block; j++) {
          int kk = k0 + j;
          int v = 0;
          if (kk < k1) {
            v = Math.round(w[row * k + kk] * inv);
            v = Math.max(-qmax, Math.min(qmax, v));
            if (dq != null) {
              dq[row * k + kk] = v * scale;
            }
          }
          q[j] = v + zp;
        }
        scales[row * blocks + b] = scale;
        int base = (row * blocks + b) * blobBytes;
        if (bits == 8) {
          for (int j = 0; j < block; j++) {
            packed.put(base + j, (byte) q[j]);
          }
        } else {
          for (int j = 0; j < block; j += 2) {
            packed.put(base + j / 2, (byte) ((q[j] & 0xf) | ((q[j + 1] & 0xf) << 4)));
          }
        }
      }
    }
    return new Quantized(packed, scales, dq);
  }
}

package io.damjava.convert;

import io.damjava.convert.OnnxBuilder.A;
import java.io.IOException;
import java.util.List;

/** Emits linear layers from Hugging Face {@code [out, in]} weights in the chosen weight format. */
final class Linears {
  /** How a linear layer's weight is stored. */
  enum Mode {
    /** MatMul on float weights (float16-stored when the builder says so). */
    FLOAT,
    /** MatMulNBits 8-bit. */
    Q8,
    /** MatMulNBits 4-bit. */
    Q4,
    /**
     * DynamicQuantizeMatMul: int8 weights with one scale per output channel, the activation
     * quantized to uint8 per call (per tensor), an integer GEMM (VNNI where the CPU has it).
     */
    QD8,
    /** Float MatMul on the 8-bit-dequantized weights (test reference). */
    DQ8,
    /** Float MatMul on the 4-bit-dequantized weights (test reference). */
    DQ4
  }

  /** The default MatMulNBits block size along K (one float scale per block). */
  static final int BLOCK = 32;

  /**
   * MatMulNBits settings of a conversion.
   *
   * @param accuracyLevel MatMulNBits' {@code accuracy_level}: 0 computes in the activation type, 4
   *     quantizes the activation to int8 per block (the faster CPU kernel)
   * @param block values per scale along K: a power of two from 16 to 256
   */
  record NBits(int accuracyLevel, int block) {
    /** accuracy_level 4, block 32: the converter's defaults. */
    static final NBits DEFAULT = new NBits(4, BLOCK);

    NBits {
      checkBlock(block);
    }

    /** Refuses a block size MatMulNBits does not take, naming the flag that sets it. */
    static void checkBlock(int block) {
      if (block < 16 || block > 256 || Integer.bitCount(block) != 1) {
        throw new IllegalArgumentException(
            "--block-size " + block + ": MatMulNBits takes a power of two from 16 to 256");
      }
    }

    /** The same accuracy level at block 32 (the lm_head and vision layers, measured there). */
    NBits atDefaultBlock() {
      return new NBits(accuracyLevel, BLOCK);
    }
  }

  private final OnnxBuilder b;
  private final Mode mode;
  private final NBits nbits;

  Linears(OnnxBuilder b, Mode mode, NBits nbits) {
    this.b = b;
    this.mode = mode;
    this.nbits = nbits;
  }

  /** x @ W^T (+ bias) with W {@code [out, in]}. */
  String apply(String x, String name, float[] w, int out, int in, float[] bias) throws IOException {
    String y;
    switch (mode) {
      case FLOAT -> y = b.matmul(x, b.weight(name, transpose(w, out, in), in, out));
      case DQ8, DQ4 -> {
        if (b.isFp16Compute()) {
          throw new IllegalStateException("the dequantized test modes compute in float32");
        }
        float[] dq =
            Quantizer.quantize(w, out, in, mode == Mode.DQ8 ? 8 : 4, nbits.block(), true)
                .dequantized();
        y = b.matmul(x, b.weightF32(name, transpose(dq, out, in), in, out));
      }
      case Q8, Q4 -> {
        int bits = mode == Mode.Q8 ? 8 : 4;
        int block = nbits.block();
        Quantizer.Quantized q = Quantizer.quantize(w, out, in, bits, block, false);
        b.countParameters((long) out * in);
        int blocks = (in + block - 1) / block;
        String bq =
            b.raw(name + ".qweight", OnnxBuilder.UINT8, q.packed(), out, blocks, block * bits / 8);
        // MatMulNBits wants scales of A's type: float16 when the graph computes in float16.
        String sc =
            b.isFp16Compute()
                ? b.raw(name + ".scales", OnnxBuilder.FLOAT16, halves(q.scales()), out, blocks)
                : b.weightF32(name + ".scales", q.scales(), out, blocks);
        y =
            b.ms(
                "MatMulNBits",
                List.of(x, bq, sc),
                A.i("K", in),
                A.i("N", out),
                A.i("bits", bits),
                A.i("block_size", block),
                A.i("accuracy_level", nbits.accuracyLevel()));
      }
      case QD8 -> {
        if (b.isFp16Compute()) {
          throw new IllegalStateException("DynamicQuantizeMatMul takes float32 activations");
        }
        b.countParameters((long) out * in);
        float[] scales = new float[out];
        String bq =
            b.raw(name + ".qweight", OnnxBuilder.INT8, perChannelInt8(w, out, in, scales), in, out);
        y =
            b.ms(
                "DynamicQuantizeMatMul", List.of(x, bq, b.weightF32(name + ".scale", scales, out)));
      }
      default -> throw new IllegalStateException(mode.name());
    }
    if (bias != null) {
      y = b.add(y, b.weight(name + ".bias", bias, out));
    }
    return y;
  }

  /**
   * W {@code [out, in]} as int8 {@code [in, out]} (the B of x @ B), symmetric with one scale per
   * output channel (max |w| / 127, written to {@code scales}); round half away from zero.
   */
  static java.nio.ByteBuffer perChannelInt8(float[] w, int out, int in, float[] scales) {
    byte[] q = new byte[out * in];
    for (int o = 0; o < out; o++) {
      float max = 0;
      for (int i = 0; i < in; i++) {
        max = Math.max(max, Math.abs(w[o * in + i]));
      }
      float s = max > 0 ? max / 127f : 1f;
      scales[o] = s;
      for (int i = 0; i < in; i++) {
        float v = w[o * in + i] / s;
        q[i * out + o] = (byte) Math.max(-127, Math.min(127, Math.round(v)));
      }
    }
    return java.nio.ByteBuffer.wrap(q);
  }

  static java.nio.ByteBuffer halves(float[] v) {
    java.nio.ByteBuffer bb =
        java.nio.ByteBuffer.allocate(v.length * 2).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    for (float x : v) {
      bb.putShort(Half.fromFloat(x));
    }
    bb.flip();
    return bb;
  }

  static float[] transpose(float[] w, int rows, int cols) {
    float[] t = new float[w.length];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        t[c * rows + r] = w[r * cols + c];
      }
    }
    return t;
  }
}

package io.damjava.onnx;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import io.damjava.api.InferenceException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;

/** Tensor creation over direct, native-order buffers (zero-copy inputs). */
final class Tensors {
  private Tensors() {}

  static FloatBuffer floats(long n) {
    if (n > Integer.MAX_VALUE / 4) {
      throw new InferenceException("tensor of " + n + " floats is too large for one buffer");
    }
    return ByteBuffer.allocateDirect((int) n * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
  }

  static LongBuffer longs(int n) {
    return ByteBuffer.allocateDirect(n * 8).order(ByteOrder.nativeOrder()).asLongBuffer();
  }

  /** A tensor over {@code buf}'s remaining elements (direct: no copy). */
  static OnnxTensor of(OrtEnvironment env, FloatBuffer buf, long... shape) {
    try {
      return OnnxTensor.createTensor(env, buf, shape);
    } catch (OrtException e) {
      throw new InferenceException("cannot create a float tensor: " + e.getMessage(), e);
    }
  }

  static OnnxTensor of(OrtEnvironment env, LongBuffer buf, long... shape) {
    try {
      return OnnxTensor.createTensor(env, buf, shape);
    } catch (OrtException e) {
      throw new InferenceException("cannot create an int64 tensor: " + e.getMessage(), e);
    }
  }

  /** An empty (…, 0, …) tensor of the KV element type, for prefill's past. */
  static OnnxTensor emptyKv(OrtEnvironment env, boolean fp16, long... shape) {
    try {
      ByteBuffer empty = ByteBuffer.allocateDirect(0).order(ByteOrder.nativeOrder());
      return fp16
          ? OnnxTensor.createTensor(env, empty, shape, OnnxJavaType.FLOAT16)
          : OnnxTensor.createTensor(env, empty.asFloatBuffer(), shape);
    } catch (OrtException e) {
      throw new InferenceException("cannot create the empty past: " + e.getMessage(), e);
    }
  }
}

package io.damjava.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import io.damjava.api.InferenceException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Input tensors made from Java arrays for one run or a few, closed together: each tensor, then the
 * direct buffer under it ({@link OffHeap}), so their native memory goes when the scope closes
 * rather than at some later garbage collection.
 */
final class TensorScope implements AutoCloseable {
  private final OrtEnvironment env;
  private final List<OnnxTensor> tensors = new ArrayList<>();
  private final List<OffHeap> buffers = new ArrayList<>();

  TensorScope(OrtEnvironment env) {
    this.env = env;
  }

  /** A float32 tensor holding a copy of {@code v}. */
  OnnxTensor floats(float[] v, long... shape) {
    OffHeap b = own(OffHeap.floats(v.length));
    FloatBuffer f = b.floats();
    f.put(v).flip();
    return keep(Tensors.of(env, f, shape));
  }

  /** An int64 tensor holding a copy of {@code v}. */
  OnnxTensor longs(long[] v, long... shape) {
    OffHeap b = own(OffHeap.longs(Math.max(v.length, 1)));
    LongBuffer l = b.longs();
    l.put(v).flip();
    return keep(Tensors.of(env, l, shape));
  }

  /** An int32 tensor holding {@code v} narrowed (for exports whose labels are int32). */
  OnnxTensor ints(long[] v, long... shape) {
    // an int view needs its own root; small (labels), so the collector may free it
    IntBuffer b =
        ByteBuffer.allocateDirect(Math.max(v.length, 1) * 4)
            .order(ByteOrder.nativeOrder())
            .asIntBuffer();
    for (long x : v) {
      b.put((int) x);
    }
    b.flip();
    try {
      return keep(OnnxTensor.createTensor(env, b, shape));
    } catch (OrtException e) {
      throw new InferenceException("cannot create an int32 tensor: " + e.getMessage(), e);
    }
  }

  private OffHeap own(OffHeap b) {
    buffers.add(b);
    return b;
  }

  private OnnxTensor keep(OnnxTensor t) {
    tensors.add(t);
    return t;
  }

  @Override
  public void close() {
    for (int i = tensors.size() - 1; i >= 0; i--) {
      tensors.get(i).close();
    }
    tensors.clear();
    buffers.forEach(OffHeap::close);
    buffers.clear();
  }
}

package io.damjava.onnx;

import io.damjava.api.InferenceException;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;

/**
 * A direct, native-order buffer freed when its owner closes it rather than when a garbage
 * collection happens to run. The engine's per-call buffers (pixels, spliced prompts, a batch's KV
 * slots) are megabytes to gigabytes of native memory held by a few bytes of heap: a server with a
 * fixed heap rarely collects, so buffers it no longer used piled up until {@code
 * MaxDirectMemorySize} forced a collection, and the process's RSS rose and fell by hundreds of
 * megabytes (docs/RELIABILITY.md). Closing frees at once through the JDK's buffer cleaner ({@code
 * sun.misc.Unsafe.invokeCleaner}, looked up reflectively); where that is unavailable, or with
 * {@code -Ddam.freeDirect=false}, closing only drops the reference and the collector frees as
 * before.
 *
 * <p>The owner must close it only after every tensor over it is closed and no view of it is read
 * again: a freed buffer's memory may be reused at once.
 */
final class OffHeap implements AutoCloseable {
  private static final MethodHandle FREE = freeHandle();

  private ByteBuffer root;
  private final FloatBuffer floats;
  private final LongBuffer longs;

  private OffHeap(long bytes, boolean isLong) {
    if (bytes > Integer.MAX_VALUE) {
      throw new InferenceException(
          "tensor of " + bytes + " bytes is too large for one buffer (2 GiB at most)");
    }
    root = ByteBuffer.allocateDirect((int) bytes).order(ByteOrder.nativeOrder());
    floats = isLong ? null : root.asFloatBuffer();
    longs = isLong ? root.asLongBuffer() : null;
  }

  /** {@code n} float32 elements (zeroed). */
  static OffHeap floats(long n) {
    return new OffHeap(n * 4, false);
  }

  /**
   * {@code count} buffers of {@code n} float32 elements each (zeroed), all or none: when one cannot
   * be allocated, those already made are freed before the failure propagates.
   */
  static OffHeap[] floats(int count, long n) {
    OffHeap[] out = new OffHeap[count];
    try {
      for (int i = 0; i < count; i++) {
        out[i] = floats(n);
      }
    } catch (RuntimeException | OutOfMemoryError e) {
      closeAll(out);
      throw e;
    }
    return out;
  }

  /** {@code n} int64 elements (zeroed). */
  static OffHeap longs(long n) {
    return new OffHeap(n * 8, true);
  }

  /** The float view (position 0, limit the element count); one per buffer, shared by callers. */
  FloatBuffer floats() {
    if (floats == null) {
      throw new IllegalStateException("an int64 buffer");
    }
    return floats;
  }

  /** The int64 view (position 0, limit the element count); one per buffer, shared by callers. */
  LongBuffer longs() {
    if (longs == null) {
      throw new IllegalStateException("a float32 buffer");
    }
    return longs;
  }

  /** Whether the memory can be freed on close (the cleaner was found and not turned off). */
  static boolean freesEagerly() {
    return FREE != null;
  }

  /** Frees the memory (once; later calls do nothing). */
  @Override
  public void close() {
    ByteBuffer b = root;
    root = null;
    if (b != null && FREE != null) {
      try {
        FREE.invokeExact(b);
      } catch (Throwable t) {
        // the collector frees it instead
      }
    }
  }

  static void closeAll(OffHeap[] buffers) {
    for (OffHeap b : buffers) {
      if (b != null) {
        b.close();
      }
    }
  }

  private static MethodHandle freeHandle() {
    if (!Boolean.parseBoolean(System.getProperty("dam.freeDirect", "true"))) {
      return null;
    }
    try {
      Class<?> unsafe = Class.forName("sun.misc.Unsafe");
      Field f = unsafe.getDeclaredField("theUnsafe");
      f.setAccessible(true);
      Object u = f.get(null);
      MethodHandle m =
          MethodHandles.lookup()
              .findVirtual(
                  unsafe, "invokeCleaner", MethodType.methodType(void.class, ByteBuffer.class));
      return m.bindTo(u);
    } catch (ReflectiveOperationException | RuntimeException e) {
      return null;
    }
  }
}

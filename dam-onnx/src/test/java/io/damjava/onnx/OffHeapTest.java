package io.damjava.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import io.damjava.api.Caption;
import io.damjava.api.DamImage;
import io.damjava.api.DescribeAnything;
import io.damjava.api.Device;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

/**
 * Direct buffers are freed when their owner closes them, not at a later garbage collection: the
 * JVM's "direct" buffer pool returns to where it was without any collection in between.
 */
class OffHeapTest {
  private static final long SLACK = 64 * 1024; // bytes other code may allocate meanwhile

  static BufferPoolMXBean directPool() {
    return ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
        .filter(p -> p.getName().equals("direct"))
        .findFirst()
        .orElseThrow();
  }

  @Test
  void closingFreesTheMemoryAtOnceAndTwiceIsHarmless() {
    assertTrue(OffHeap.freesEagerly(), "the JDK's buffer cleaner was not found");
    BufferPoolMXBean direct = directPool();
    long before = direct.getMemoryUsed();
    OffHeap b = OffHeap.floats(8L << 20); // 32 MiB
    b.floats().put(0, 1f);
    assertEquals(32L << 20, direct.getMemoryUsed() - before, 1024);
    b.close();
    assertTrue(direct.getMemoryUsed() - before <= SLACK, "still held after close");
    b.close();
    assertTrue(direct.getMemoryUsed() - before <= SLACK);
  }

  @Test
  void aScopeClosesItsTensorsAndFreesTheirBuffers() {
    BufferPoolMXBean direct = directPool();
    long before = direct.getMemoryUsed();
    OnnxTensor t;
    try (TensorScope scope = new TensorScope(OrtEnvironment.getEnvironment())) {
      t = scope.floats(new float[1 << 20], 1, 1 << 20);
      scope.longs(new long[1 << 18], 1 << 18);
      assertTrue(direct.getMemoryUsed() - before >= (6L << 20) - 1024);
      assertEquals(0f, t.getFloatBuffer().get(7));
    }
    assertTrue(t.isClosed(), "the tensor outlived its scope");
    assertTrue(direct.getMemoryUsed() - before <= SLACK, "buffers held after the scope closed");
  }

  @Test
  void anEngineGivesBackEveryDirectBufferWhenClosed() {
    BufferPoolMXBean direct = directPool();
    long before = direct.getMemoryUsed();
    long held;
    DamImage image = EngineTest.randomImage(100, 80, 4);
    try (DescribeAnything dam = EngineTest.load(EngineTest.TOY, Device.cpu(), false)) {
      for (int i = 0; i < 5; i++) {
        Caption c = dam.describe(image, EngineTest.regions(), EngineTest.GREEDY).get(0);
        assertTrue(c.tokenCount() > 0);
      }
      held = direct.getMemoryUsed() - before;
      for (int i = 0; i < 5; i++) {
        dam.describe(image, EngineTest.regions(), EngineTest.GREEDY);
      }
      // per-call buffers (pixels, prompts, positions) were freed by the calls themselves
      assertTrue(
          direct.getMemoryUsed() - before <= held + SLACK,
          "direct memory grew from " + held + " to " + (direct.getMemoryUsed() - before));
    }
    assertTrue(
        direct.getMemoryUsed() - before <= SLACK,
        "held after close: " + (direct.getMemoryUsed() - before) + " bytes");
  }
}

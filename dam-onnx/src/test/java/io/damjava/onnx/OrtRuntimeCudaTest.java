package io.damjava.onnx;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtProvider;
import io.damjava.api.Device;
import io.damjava.api.ModelLoadException;
import java.util.EnumSet;
import org.junit.jupiter.api.Test;

/**
 * CUDA requested where it cannot run. The test class path has the CPU build of ONNX Runtime (no
 * CUDA execution provider), so this is the error a user meets who forgot to swap in
 * onnxruntime_gpu.
 */
class OrtRuntimeCudaTest {
  @Test
  void theCpuJarHasNoCudaProvider() {
    assertFalse(OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA));
  }

  @Test
  void cudaOnTheCpuBuildNamesTheFix() {
    ModelLoadException e =
        assertThrows(ModelLoadException.class, () -> OrtRuntime.setup(1, Device.cuda(0), false));
    String m = e.getMessage();
    assertTrue(m.startsWith("cannot use cuda:0: "), m);
    assertTrue(m.contains("no CUDA execution provider"), m);
    assertTrue(m.contains("com.microsoft.onnxruntime:onnxruntime_gpu"), m);
    assertTrue(m.contains("DAM_ORT_JAR"), m);
    assertTrue(m.contains("docs/cuda.md"), m);
    assertTrue(m.contains("allowCpuFallback(true)"), m);
    assertTrue(m.contains("CPU"), "names the providers there are: " + m);
  }

  @Test
  void anotherOrdinalIsNamedToo() {
    ModelLoadException e =
        assertThrows(ModelLoadException.class, () -> OrtRuntime.setup(1, Device.cuda(3), false));
    assertTrue(e.getMessage().startsWith("cannot use cuda:3: "), e.getMessage());
  }

  @Test
  void cpuFallbackOnlyWhenAsked() {
    OrtRuntime.Setup s = OrtRuntime.setup(1, Device.cuda(0), true);
    assertFalse(s.cuda(), "fell back to CPU");
    try (var o = s.fresh()) {
      assertTrue(o != null);
    }
  }

  @Test
  void aCudaProviderThatWillNotStartSaysWhatItNeeds() {
    String m =
        OrtRuntime.cudaInitFailed(Device.cuda(1), "libcudnn.so.9: cannot open shared object file");
    assertTrue(m.startsWith("cannot use cuda:1: "), m);
    assertTrue(m.contains("libcudnn.so.9"), "keeps ORT's own reason: " + m);
    assertTrue(m.contains("cuDNN 9") && m.contains("LD_LIBRARY_PATH"), m);
    String n = OrtRuntime.noCudaProvider(Device.cuda(0), EnumSet.of(OrtProvider.CPU));
    assertTrue(n.contains("[CPU]"), n);
  }
}

package io.damjava.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What the benchmark reports record of the machine they ran on, read from Linux's /proc (with a
 * fallback elsewhere): the CPU model, the OpenBLAS kernel for the reference, the load average.
 */
final class Machine {
  private Machine() {}

  /**
   * The OpenBLAS kernel for the reference. Debian's OpenBLAS 0.3.21 does not know recent Xeons
   * (family 6 model 207 here) and falls back to its SSE3 "Prescott" kernels, about 32 GFLOP/s per
   * core; on a CPU with AVX-512 we select the SkylakeX kernels (about 5x faster, on par with ONNX
   * Runtime's MLAS), unless OPENBLAS_CORETYPE is already set.
   */
  static String openblasCore() {
    String set = System.getenv("OPENBLAS_CORETYPE");
    if (set != null) {
      return set;
    }
    try {
      for (String l : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
        if (l.startsWith("flags")) {
          return l.contains(" avx512f ") ? "SkylakeX" : null;
        }
      }
    } catch (IOException e) {
      // not Linux
    }
    return null;
  }

  static String cpuModel() {
    try {
      for (String l : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
        if (l.startsWith("model name")) {
          return l.substring(l.indexOf(':') + 1).trim();
        }
      }
    } catch (IOException e) {
      // not Linux
    }
    return System.getProperty("os.arch");
  }

  static String loadavg() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split(" ");
      return f[0] + " " + f[1] + " " + f[2];
    } catch (IOException e) {
      return "n/a";
    }
  }
}

package io.damjava.onnx;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtLoggingLevel;
import ai.onnxruntime.OrtProvider;
import ai.onnxruntime.OrtSession;
import io.damjava.api.Device;
import io.damjava.api.ModelLoadException;
import java.util.EnumSet;

/**
 * ONNX Runtime's process-wide environment and the session options of one engine.
 *
 * <p>ONNX Runtime allows one {@link OrtEnvironment} per process, and its global thread pools can
 * only be chosen when it is created. The first engine creates it with a global intra-op pool of the
 * builder's thread count; its sessions (and those of later engines asking for the same count)
 * disable their per-session pools and share that one. An engine asking for another count, or a
 * process whose environment was created elsewhere, gets per-session pools of its own size. This is
 * the only static state of the engine, and it mirrors ORT's own.
 */
final class OrtRuntime {
  private static final Object LOCK = new Object();
  private static OrtEnvironment env;
  private static int globalThreads = -1; // -1: no global pool of ours

  private OrtRuntime() {}

  /**
   * The environment and how this engine's sessions are configured; {@link #fresh()} makes the
   * options for one session (each graph may add its own entries).
   */
  record Setup(OrtEnvironment env, boolean cuda, boolean sharedPool, int threads, Device device) {
    /** New session options for this engine; the caller closes them. */
    OrtSession.SessionOptions fresh() {
      return OrtRuntime.options(sharedPool, threads, device, !cuda).options();
    }
  }

  private record Made(OrtSession.SessionOptions options, boolean cuda) {}

  static Setup setup(int threads, Device device, boolean cpuFallback) {
    boolean shared;
    OrtEnvironment e;
    synchronized (LOCK) {
      if (env == null) {
        try (OrtEnvironment.ThreadingOptions t = new OrtEnvironment.ThreadingOptions()) {
          if (threads > 0) {
            t.setGlobalIntraOpNumThreads(threads);
          }
          t.setGlobalInterOpNumThreads(1);
          env = OrtEnvironment.getEnvironment(OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR, "dam", t);
          globalThreads = threads;
        } catch (IllegalStateException alreadyThere) {
          env = OrtEnvironment.getEnvironment();
          globalThreads = -1;
        } catch (OrtException ex) {
          throw new ModelLoadException("cannot create the ONNX Runtime environment: " + ex, ex);
        }
      }
      e = env;
      shared = globalThreads == threads;
    }
    Made made = options(shared, threads, device, cpuFallback); // fails here if CUDA must but cannot
    made.options().close();
    return new Setup(e, made.cuda(), shared, threads, device);
  }

  /** The ONNX Runtime on the class path is a build without the CUDA execution provider. */
  static String noCudaProvider(Device device, EnumSet<OrtProvider> providers) {
    return "cannot use "
        + device
        + ": the ONNX Runtime on the class path has no CUDA execution provider (it has "
        + providers
        + "). Use the GPU build instead of the CPU one: the Maven artifact"
        + " com.microsoft.onnxruntime:onnxruntime_gpu in place of"
        + " com.microsoft.onnxruntime:onnxruntime (same version), or for ./dam set"
        + " DAM_ORT_JAR=/path/to/onnxruntime_gpu-<version>.jar; see docs/cuda.md. To run on CPU"
        + " instead, use Device.cpu() or allowCpuFallback(true).";
  }

  /** The CUDA provider is there but would not start (driver, CUDA or cuDNN libraries, ordinal). */
  static String cudaInitFailed(Device device, String ortMessage) {
    return "cannot use "
        + device
        + ": ONNX Runtime's CUDA execution provider failed to start: "
        + ortMessage
        + ". It needs an NVIDIA driver, the CUDA 12 runtime and cuDNN 9 libraries on the library"
        + " path (LD_LIBRARY_PATH) and a device of that ordinal; see docs/cuda.md. To run on CPU"
        + " instead, use Device.cpu() or allowCpuFallback(true).";
  }

  private static Made options(boolean shared, int threads, Device device, boolean cpuFallback) {
    OrtSession.SessionOptions o = new OrtSession.SessionOptions();
    try {
      o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
      if (shared) {
        o.disablePerSessionThreads();
      } else if (threads > 0) {
        o.setIntraOpNumThreads(threads);
      }
      boolean cuda = false;
      if (device.kind() == Device.Kind.CUDA) {
        EnumSet<OrtProvider> providers = OrtEnvironment.getAvailableProviders();
        if (!providers.contains(OrtProvider.CUDA)) {
          if (!cpuFallback) {
            throw new ModelLoadException(noCudaProvider(device, providers));
          }
        } else {
          try {
            o.addCUDA(device.index());
            cuda = true;
          } catch (OrtException ex) {
            if (!cpuFallback) {
              throw new ModelLoadException(cudaInitFailed(device, ex.getMessage()), ex);
            }
          }
        }
      }
      return new Made(o, cuda);
    } catch (OrtException ex) {
      o.close();
      throw new ModelLoadException("cannot configure ONNX Runtime sessions: " + ex, ex);
    } catch (RuntimeException ex) {
      o.close();
      throw ex;
    }
  }
}

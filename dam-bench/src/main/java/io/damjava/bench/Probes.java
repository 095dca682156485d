package io.damjava.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.damjava.convert.OnnxBuilder;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The machine's limits as the harness measures them. Alone, for the read rates that a decode's
 * bandwidth bound divides by ({@code docs/PERFORMANCE.md}):
 *
 * <pre>
 * java -cp dam-bench.jar io.damjava.bench.Probes [THREADS] [DIR]
 * </pre>
 */
final class Probes {
  private Probes() {}

  /** Prints the Java streaming read rate and ONNX Runtime's fp32 GEMV read rate, GB/s. */
  public static void main(String[] args) throws Exception {
    int threads = args.length > 0 ? Integer.parseInt(args[0]) : 2;
    Path dir = Path.of(args.length > 1 ? args[1] : "target/probes");
    for (Rate r : new Rate[] {bandwidth(threads), gemv(dir, threads)}) {
      System.out.printf(
          java.util.Locale.ROOT,
          "%.1f GB/s best, %.1f median: %s%n",
          r.best(),
          r.median(),
          r.method());
    }
  }

  /** Best and median of several passes. */
  record Rate(double best, double median, String method) {}

  /**
   * Memory read bandwidth in Java, GB/s: {@code threads} threads each compare their part of two
   * equal 1 GiB {@code long[]} with {@link Arrays#mismatch} (a vectorized JDK intrinsic), so 2 GiB
   * are streamed per pass, 8x the L3 cache of the test machine; 2 warm-up and 7 timed passes.
   */
  static Rate bandwidth(int threads) throws Exception {
    int n = 1 << 27; // 1 GiB each
    long[] a = new long[n];
    long[] b = new long[n];
    Arrays.fill(a, 1L);
    Arrays.fill(b, 1L);
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      int chunk = n / threads;
      double[] gbs = new double[7];
      for (int pass = -2; pass < gbs.length; pass++) {
        List<Callable<Integer>> tasks = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
          int from = t * chunk;
          int to = t == threads - 1 ? n : from + chunk;
          tasks.add(() -> Arrays.mismatch(a, from, to, b, from, to));
        }
        long s = System.nanoTime();
        for (Future<Integer> f : pool.invokeAll(tasks)) {
          if (f.get() != -1) {
            throw new IllegalStateException("bandwidth probe arrays differ");
          }
        }
        double sec = (System.nanoTime() - s) / 1e9;
        if (pass >= 0) {
          gbs[pass] = 2.0 * n * 8 / sec / 1e9;
        }
      }
      Arrays.sort(gbs);
      return new Rate(
          gbs[gbs.length - 1],
          gbs[gbs.length / 2],
          "Java, " + threads + " threads, Arrays.mismatch over two 1 GiB long[] (best of 7)");
    } finally {
      pool.shutdown();
    }
  }

  /**
   * The read rate of ONNX Runtime's own fp32 GEMV, GB/s: MatMul of a (1, 16384) input by a 16384 x
   * 16384 float32 initializer (1 GiB of weights streamed per run), {@code threads} intra-op
   * threads, 2 warm-up and 7 timed runs. Decode is this operation, layer by layer.
   */
  static Rate gemv(Path dir, int threads) throws IOException, OrtException {
    int n = 16384;
    Files.createDirectories(dir);
    Path model = dir.resolve("gemv" + n + ".onnx");
    if (!Files.exists(model)) {
      ByteBuffer w = ByteBuffer.allocateDirect(n * n * 4).order(ByteOrder.LITTLE_ENDIAN);
      FloatBuffer f = w.asFloatBuffer();
      for (int i = 0; i < n * n; i++) {
        f.put(i, (i % 1000) * 1e-6f);
      }
      try (OnnxBuilder b = new OnnxBuilder(model, false)) {
        String x = b.input("a", OnnxBuilder.FLOAT, 1L, (long) n);
        String y = b.matmul(x, b.raw("w", OnnxBuilder.FLOAT, w, n, n));
        b.output(y, "y", OnnxBuilder.FLOAT, 1L, (long) n);
        b.save();
      }
    }
    double[] t = time(model, threads, 1, n, 7);
    double[] gbs = new double[t.length];
    for (int i = 0; i < t.length; i++) {
      gbs[i] = (double) n * n * 4 / t[t.length - 1 - i] / 1e9;
    }
    return new Rate(
        gbs[gbs.length - 1],
        gbs[gbs.length / 2],
        "ONNX Runtime MatMul (1x16384) by 16384x16384 fp32, " + threads + " threads (best of 7)");
  }

  /** Sorted seconds of {@code reps} runs (after 2 warm-ups) of a one-input model. */
  private static double[] time(Path model, int threads, int rows, int cols, int reps)
      throws OrtException {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    FloatBuffer in =
        ByteBuffer.allocateDirect(rows * cols * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
    Random r = new Random(2);
    for (int i = 0; i < rows * cols; i++) {
      in.put(i, (float) r.nextGaussian());
    }
    try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
      o.setIntraOpNumThreads(threads);
      o.setInterOpNumThreads(1);
      try (OrtSession s = env.createSession(model.toString(), o);
          OnnxTensor t = OnnxTensor.createTensor(env, in, new long[] {rows, cols})) {
        double[] sec = new double[reps];
        for (int i = -2; i < reps; i++) {
          long st = System.nanoTime();
          try (OrtSession.Result res = s.run(Map.of("a", t))) {
            res.get(0);
          }
          if (i >= 0) {
            sec[i] = (System.nanoTime() - st) / 1e9;
          }
        }
        Arrays.sort(sec);
        return sec;
      }
    }
  }

  /**
   * Single-precision GEMM rate, GFLOP/s: ONNX Runtime's MatMul (MLAS sgemm) of an n x n input by an
   * n x n initializer, {@code threads} intra-op threads, 2 warm-up and 5 timed runs.
   */
  static Rate gemm(Path dir, int threads, int n) throws IOException, OrtException {
    Files.createDirectories(dir);
    Path model = dir.resolve("gemm" + n + ".onnx");
    if (!Files.exists(model)) {
      float[] w = new float[n * n];
      Random r = new Random(1);
      for (int i = 0; i < w.length; i++) {
        w[i] = (float) r.nextGaussian();
      }
      try (OnnxBuilder b = new OnnxBuilder(model, false)) {
        String a = b.input("a", OnnxBuilder.FLOAT, (long) n, (long) n);
        String y = b.matmul(a, b.weightF32("b", w, n, n));
        b.output(y, "y", OnnxBuilder.FLOAT, (long) n, (long) n);
        b.save();
      }
    }
    double[] t = time(model, threads, n, n, 5);
    double[] g = new double[t.length];
    for (int i = 0; i < t.length; i++) {
      g[i] = 2.0 * n * n * n / t[t.length - 1 - i] / 1e9;
    }
    return new Rate(
        g[g.length - 1],
        g[g.length / 2],
        "ONNX Runtime MatMul " + n + "x" + n + " fp32, " + threads + " threads (best of 5)");
  }
}

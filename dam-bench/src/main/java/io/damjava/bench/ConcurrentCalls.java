package io.damjava.bench;

import io.damjava.api.Caption;
import io.damjava.api.DamImage;
import io.damjava.api.DescribeAnything;
import io.damjava.api.GenerationOptions;
import io.damjava.api.Mask;
import io.damjava.api.Region;
import io.damjava.api.Timings;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * N concurrent library calls on one engine, each printing when it ended and its own stage times:
 * where the time of a continuous batch goes (vision, waiting to join, prefill, decode).
 *
 * <pre>
 * java -Xmx6g -cp dam-bench.jar io.damjava.bench.ConcurrentCalls BUNDLE IMAGE MASK [N] [TOKENS]
 * </pre>
 *
 * One warm-up call with the bundle's default options first (up to 512 tokens), as a server's first
 * request may be; then N greedy calls of TOKENS tokens (defaults 8 and 100) start together.
 */
public final class ConcurrentCalls {
  private ConcurrentCalls() {}

  public static void main(String[] a) throws Exception {
    if (a.length < 3) {
      System.err.println("usage: ConcurrentCalls BUNDLE IMAGE MASK [N] [TOKENS]");
      System.exit(2);
    }
    DamImage img = DamImage.read(Path.of(a[1]));
    Mask mask = Mask.read(Path.of(a[2]));
    int n = a.length > 3 ? Integer.parseInt(a[3]) : 8;
    int tokens = a.length > 4 ? Integer.parseInt(a[4]) : 100;
    GenerationOptions o = GenerationOptions.builder().maxNewTokens(tokens).temperature(0).build();
    try (DescribeAnything dam =
        DescribeAnything.builder().model(Path.of(a[0])).threads(2).maxBatch(n).build()) {
      dam.describe(img, Region.mask(mask));
      ExecutorService ex = Executors.newFixedThreadPool(n);
      long t0 = System.nanoTime();
      List<Future<String>> calls = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        int id = i;
        calls.add(
            ex.submit(
                () -> {
                  Caption c = dam.describe(img, List.of(Region.mask(mask)), o).get(0);
                  Timings t = c.timings();
                  return String.format(
                      Locale.ROOT,
                      "call %d ended %.1f s: vision %.2f s, prefill %.2f s, decode %.2f s, total"
                          + " %.2f s, %d tokens",
                      id,
                      (System.nanoTime() - t0) / 1e9,
                      t.vision().toMillis() / 1e3,
                      t.prefill().toMillis() / 1e3,
                      t.decode().toMillis() / 1e3,
                      t.total().toMillis() / 1e3,
                      c.tokenCount());
                }));
      }
      for (Future<String> f : calls) {
        System.out.println(f.get());
      }
      System.out.printf(
          Locale.ROOT, "wall %.1f s for %d calls%n", (System.nanoTime() - t0) / 1e9, n);
      ex.shutdown();
    }
  }
}

package io.damjava.bench.fuzz;

import io.damjava.api.DamException;
import io.damjava.tokenizer.TokenizerFormatException;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The fuzz run: {@code inputs} seeded mutations spread over the targets, each either accepted or
 * refused with a typed exception ({@link DamException} or {@link TokenizerFormatException}), or for
 * HTTP a 4xx with an OpenAI-style error. Anything else is a failure, and its input is saved.
 *
 * <pre>
 * ./dam bench fuzz [--inputs 200000] [--seed 1] [--out fuzz-failures]
 * </pre>
 */
public final class Fuzz {
  /** Per-target counts of a run. */
  public static final class Stats {
    int inputs;
    int accepted;
    int typed;
    long nanos;
    final List<String> failures = new ArrayList<>();
  }

  /** The outcome of a run. */
  public record Report(
      long seed, int inputs, int distinct, long millis, Map<String, Stats> perTarget) {
    /** Every failure, as {@code target: message}. */
    public List<String> failures() {
      List<String> out = new ArrayList<>();
      perTarget.forEach((k, v) -> v.failures.forEach(f -> out.add(k + ": " + f)));
      return out;
    }

    /** A one-line-per-target summary. */
    public String summary() {
      StringBuilder sb = new StringBuilder();
      sb.append(
          String.format(
              Locale.ROOT,
              "fuzz seed %d: %d inputs (%d distinct) in %.1f s, %d failures%n",
              seed,
              inputs,
              distinct,
              millis / 1000.0,
              failures().size()));
      perTarget.forEach(
          (k, v) ->
              sb.append(
                  String.format(
                      Locale.ROOT,
                      "  %-16s %7d inputs  %7d accepted  %7d refused (typed)  %d failures  %.1f s%n",
                      k,
                      v.inputs,
                      v.accepted,
                      v.typed,
                      v.failures.size(),
                      v.nanos / 1e9)));
      return sb.toString();
    }
  }

  private Fuzz() {}

  /**
   * Runs the harness.
   *
   * @param repo the source checkout (for the committed manifest and tokenizer seeds)
   * @param inputs how many mutated inputs in all
   * @param seed the random seed; equal seeds give equal runs
   * @param failuresDir where failing inputs are written (null: not written)
   */
  public static Report run(Path repo, int inputs, long seed, Path failuresDir) throws IOException {
    Path scratch = Files.createTempDirectory("dam-fuzz");
    try (Targets.Http http = new Targets.Http()) {
      List<Targets.Target> targets =
          List.of(
              Targets.image(),
              Targets.mask(),
              Targets.safetensors(scratch),
              Targets.manifest(repo),
              Targets.sentencePiece(repo),
              Targets.tokenizerJson(),
              http);
      // Shares per target: images most, the slower HTTP round trips fewer.
      int[] weights = {30, 15, 12, 10, 10, 8, 15};
      int totalWeight = Arrays.stream(weights).sum();
      Mutator mut = new Mutator(seed);
      Map<String, Stats> stats = new LinkedHashMap<>();
      Set<Long> seen = new HashSet<>();
      long t0 = System.nanoTime();
      int done = 0;
      for (int ti = 0; ti < targets.size(); ti++) {
        Targets.Target t = targets.get(ti);
        Stats st = new Stats();
        stats.put(t.name(), st);
        int n =
            ti == targets.size() - 1
                ? inputs - done
                : (int) ((long) inputs * weights[ti] / totalWeight);
        List<byte[]> seeds = t.seeds();
        for (byte[] s : seeds) {
          run(t, s, st, failuresDir); // the seeds themselves must pass
        }
        for (int i = 0; i < n; i++) {
          byte[] in = null;
          for (int tries = 0; tries < 20; tries++) {
            in = mut.mutate(seeds.get(mut.nextInt(seeds.size())), seeds);
            if (seen.add(hash(ti, in))) {
              break;
            }
          }
          run(t, in, st, failuresDir);
        }
        done += n;
      }
      long ms = (System.nanoTime() - t0) / 1_000_000;
      return new Report(seed, done, seen.size(), ms, stats);
    } finally {
      deleteTree(scratch);
    }
  }

  private static void run(Targets.Target t, byte[] in, Stats st, Path failuresDir) {
    st.inputs++;
    long t0 = System.nanoTime();
    try {
      runOne(t, in, st, failuresDir);
    } finally {
      st.nanos += System.nanoTime() - t0;
    }
  }

  private static void runOne(Targets.Target t, byte[] in, Stats st, Path failuresDir) {
    try {
      if (t.run(in)) {
        st.accepted++;
      } else {
        st.typed++;
      }
    } catch (DamException | TokenizerFormatException e) {
      if (e.getMessage() == null || e.getMessage().isBlank()) {
        fail(
            t, in, st, failuresDir, "typed " + e.getClass().getSimpleName() + " without a message");
      } else {
        st.typed++;
      }
    } catch (Throwable e) {
      StackTraceElement[] at = e.getStackTrace();
      fail(
          t,
          in,
          st,
          failuresDir,
          e.getClass().getName() + ": " + e.getMessage() + (at.length > 0 ? " at " + at[0] : ""));
    }
  }

  private static void fail(
      Targets.Target t, byte[] in, Stats st, Path failuresDir, String message) {
    String file = t.name() + "-" + Long.toHexString(hash(0, in));
    st.failures.add(message + " [" + file + "]");
    if (failuresDir != null && in.length <= (1 << 20)) {
      try {
        Files.createDirectories(failuresDir);
        Files.write(failuresDir.resolve(file), in);
      } catch (IOException ignored) {
        // Reported above anyway.
      }
    }
  }

  /** Replays saved inputs (regression files named {@code <target>-<hash>}) through their target. */
  public static List<String> replay(Path repo, Path dir) throws IOException {
    List<String> failures = new ArrayList<>();
    Path scratch = Files.createTempDirectory("dam-fuzz");
    try (Targets.Http http = new Targets.Http();
        var files = Files.list(dir)) {
      Map<String, Targets.Target> byName = new LinkedHashMap<>();
      for (Targets.Target t :
          List.of(
              Targets.image(),
              Targets.mask(),
              Targets.safetensors(scratch),
              Targets.manifest(repo),
              Targets.sentencePiece(repo),
              Targets.tokenizerJson(),
              http)) {
        byName.put(t.name(), t);
      }
      for (Path f : files.sorted().toList()) {
        String name = f.getFileName().toString();
        int dash = name.lastIndexOf('-');
        Targets.Target t = dash > 0 ? byName.get(name.substring(0, dash)) : null;
        if (t == null) {
          continue;
        }
        Stats st = new Stats();
        run(t, Files.readAllBytes(f), st, null);
        st.failures.forEach(m -> failures.add(name + ": " + m));
      }
    } finally {
      deleteTree(scratch);
    }
    return failures;
  }

  private static long hash(int target, byte[] b) {
    long h = 0xcbf29ce484222325L ^ target;
    for (byte x : b) {
      h = (h ^ (x & 0xFF)) * 0x100000001b3L;
    }
    return h ^ ((long) b.length << 48);
  }

  private static void deleteTree(Path root) throws IOException {
    try (var s = Files.walk(root)) {
      for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  /** {@code ./dam bench fuzz [--inputs N] [--seed S] [--out DIR] [--repo DIR]}. */
  public static void main(String[] args) throws IOException {
    int inputs = 200_000;
    long seed = System.currentTimeMillis();
    Path out = Path.of("fuzz-failures");
    Path repo = Path.of(".");
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      String v = i + 1 < args.length ? args[i + 1] : null;
      switch (a) {
        case "--inputs" -> inputs = Integer.parseInt(need(a, v));
        case "--seed" -> seed = Long.parseLong(need(a, v));
        case "--out" -> out = Path.of(need(a, v));
        case "--repo" -> repo = Path.of(need(a, v));
        default -> {
          System.err.println(
              "usage: dam bench fuzz [--inputs N (200000)] [--seed S (time)] [--out DIR"
                  + " (fuzz-failures)]");
          System.exit(2);
        }
      }
      i++;
    }
    PrintStream o = System.out;
    Report r = run(repo, inputs, seed, out);
    o.print(r.summary());
    r.failures().stream().limit(50).forEach(f -> o.println("  FAIL " + f));
    if (!r.failures().isEmpty()) {
      o.println("failing inputs were written to " + out.toAbsolutePath());
      System.exit(1);
    }
  }

  private static String need(String flag, String v) {
    if (v == null) {
      System.err.println("dam bench fuzz: " + flag + " needs a value");
      System.exit(2);
    }
    return v;
  }
}

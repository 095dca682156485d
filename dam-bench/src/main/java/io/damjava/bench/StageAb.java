package io.damjava.bench;

import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.damjava.api.Caption;
import io.damjava.api.DamImage;
import io.damjava.api.DescribeAnything;
import io.damjava.api.GenerationOptions;
import io.damjava.api.Mask;
import io.damjava.api.Region;
import io.damjava.onnx.EngineStages;
import io.damjava.onnx.StageKv;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.function.ToIntFunction;

/**
 * {@code ./dam bench ab}: two bundles of the same checkpoint side by side in one JVM, stage by
 * stage, to choose a conversion default from numbers (e.g. fp32 against int8 vision graphs). Each
 * round times vision (one 640x480 region, context + focal + projector), the prefill of the default
 * prompt and {@code --decode-tokens} chained greedy steps on a random cache of {@code --context}
 * positions, for A then B, and B then A in the next round, so that a slow patch of the machine
 * falls on both. Reports per-stage medians and the median of the per-round ratios B / A.
 *
 * <p>Accuracy of B against A on the same weights and input: the relative RMS error of B's vision
 * output (the image rows handed to the decoder), of B's prefill logits, whether their argmax
 * agrees, and with {@code --describe N} the greedy captions of N tokens of both (identical tokens,
 * first divergence).
 *
 * <pre>
 * ./dam bench ab --a DIR --b DIR [--rounds 5] [--threads 2] [--context 304] [--decode-tokens 16]
 *     [--describe 0] [--stages vision,prefill,decode,engine]
 * </pre>
 *
 * <p>The {@code engine} stage (not in the default set) times what a user's call decodes at: one
 * {@link DescribeAnything} per bundle, one greedy region of {@code --decode-tokens} tokens through
 * the engine's batcher and its in-place cache, reporting decode ms per generated token.
 */
public final class StageAb {
  private static final String[] STAGES = {"vision", "prefill", "decode", "engine"};

  private StageAb() {}

  public static void main(String[] args) throws Exception {
    Path a = null;
    Path b = null;
    int rounds = 5;
    int threads = 2;
    int context = 304;
    int decodeTokens = 16;
    int describe = 0;
    List<String> only = List.of("vision", "prefill", "decode");
    for (int i = 0; i + 1 < args.length; i += 2) {
      String v = args[i + 1];
      switch (args[i]) {
        case "--a" -> a = Path.of(v);
        case "--b" -> b = Path.of(v);
        case "--rounds" -> rounds = Integer.parseInt(v);
        case "--threads" -> threads = Integer.parseInt(v);
        case "--context" -> context = Integer.parseInt(v);
        case "--decode-tokens" -> decodeTokens = Integer.parseInt(v);
        case "--describe" -> describe = Integer.parseInt(v);
        case "--stages" -> only = List.of(v.split(","));
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    if (a == null || b == null || args.length % 2 != 0) {
      throw new IllegalArgumentException(
          "usage: dam bench ab --a DIR --b DIR [--rounds 5] [--threads 2] [--context 304]"
              + " [--decode-tokens 16] [--describe 0] [--stages vision,prefill,decode,engine]");
    }
    ObjectMapper json = new ObjectMapper();
    ObjectNode res = json.createObjectNode();
    res.put("a", a.toString());
    res.put("b", b.toString());
    res.put("threads", threads);
    res.put("context", context);
    res.put("decode_tokens", decodeTokens);
    DamImage image = Synthetic.image(640, 480);
    Mask mask = Synthetic.mask(640, 480);
    boolean engine = only.contains("engine");
    try (EngineStages ea = EngineStages.open(a, threads);
        EngineStages eb = EngineStages.open(b, threads);
        DescribeAnything da = engine ? engine(a, threads) : null;
        DescribeAnything db = engine ? engine(b, threads) : null) {
      Side sa = new Side(ea, da, image, mask, context, decodeTokens);
      Side sb = new Side(eb, db, image, mask, context, decodeTokens);
      accuracy(sa, sb, res);
      String[] stages = {
        "vision_ms", "prefill_ms", "decode_ms_per_token", "engine_decode_ms_per_token"
      };
      double[][][] t = new double[2][stages.length][rounds];
      for (int r = 0; r < rounds; r++) {
        log("round " + (r + 1) + "/" + rounds);
        for (int s = 0; s < stages.length; s++) {
          if (!only.contains(STAGES[s])) {
            continue;
          }
          Side first = r % 2 == 0 ? sa : sb;
          Side second = r % 2 == 0 ? sb : sa;
          double f = first.time(s);
          double g = second.time(s);
          t[0][s][r] = r % 2 == 0 ? f : g;
          t[1][s][r] = r % 2 == 0 ? g : f;
        }
      }
      for (int s = 0; s < stages.length; s++) {
        if (!only.contains(STAGES[s])) {
          continue;
        }
        ObjectNode st = res.putObject(stages[s]);
        st.put("a_median", median(t[0][s]));
        st.put("b_median", median(t[1][s]));
        double[] ratio = new double[rounds];
        for (int r = 0; r < rounds; r++) {
          ratio[r] = t[1][s][r] / t[0][s][r];
        }
        st.put("b_over_a_median", median(ratio));
        ArrayNode raw = st.putArray("rounds_a_b");
        for (int r = 0; r < rounds; r++) {
          raw.addArray().add(t[0][s][r]).add(t[1][s][r]);
        }
      }
      if (describe > 0) {
        GenerationOptions o =
            GenerationOptions.defaults().withTemperature(0).withMaxNewTokens(describe);
        log("describe() of " + describe + " greedy tokens, A then B");
        Caption ca = ea.describe(image, List.of(mask), o).get(0);
        Caption cb = eb.describe(image, List.of(mask), o).get(0);
        int[] ta = ca.tokenIds();
        int[] tb = cb.tokenIds();
        int div = Arrays.mismatch(ta, tb);
        res.put("describe_tokens_a", ta.length);
        res.put("describe_tokens_b", tb.length);
        res.put("describe_identical", div < 0);
        res.put("describe_first_divergence", div < 0 ? ta.length : div);
      }
    }
    res.put("peak_rss_mb", JavaStages.peakRssMb());
    System.out.println(json.writerWithDefaultPrettyPrinter().writeValueAsString(res));
  }

  private static DescribeAnything engine(Path bundle, int threads) {
    return DescribeAnything.builder().model(bundle).threads(threads).build();
  }

  private static void accuracy(Side a, Side b, ObjectNode res) {
    float[] va = a.vision();
    float[] vb = b.vision();
    res.put("vision_rel_rms", relRms(va, vb));
    float[] la = a.prefillLogits();
    float[] lb = b.prefillLogits();
    res.put("prefill_logits_rel_rms", relRms(la, lb));
    res.put("prefill_argmax_agrees", argmax(la) == argmax(lb));
  }

  /** One bundle's stages on one region, warmed up once. */
  private static final class Side {
    private final EngineStages e;
    private final DescribeAnything engine;
    private final DamImage image;
    private final Mask mask;
    private final List<Object> regions;
    private final int[] ids;
    private final int length;
    private final int context;
    private final int decodeTokens;
    private final ToIntFunction<float[]> argmax =
        EngineStages.sampler(GenerationOptions.defaults().withTemperature(0), 0);
    private FloatBuffer embeds;

    Side(
        EngineStages e,
        DescribeAnything engine,
        DamImage image,
        Mask mask,
        int context,
        int decodeTokens) {
      this.e = e;
      this.engine = engine;
      this.image = image;
      this.mask = mask;
      this.regions = List.of(e.region(image, mask));
      this.ids = e.defaultPromptIds();
      this.length = e.splicedLength(ids);
      this.context = context;
      this.decodeTokens = decodeTokens;
    }

    float[] vision() {
      float[] v = e.vision(regions);
      embeds = e.splice(ids, v);
      return v;
    }

    float[] prefillLogits() {
      try (OrtSession.Result r = e.prefill(embeds.rewind(), length)) {
        return e.logits(r);
      }
    }

    /**
     * Milliseconds of stage {@code s}: 0 vision, 1 prefill, 2 one decode step (mean), 3 one decode
     * step of the engine's batcher (mean over the caption's tokens).
     */
    double time(int s) {
      if (s == 3) {
        GenerationOptions o =
            GenerationOptions.defaults().withTemperature(0).withMaxNewTokens(decodeTokens);
        Caption c = engine.describe(image, List.of(Region.mask(mask)), o).get(0);
        return c.timings().decode().toNanos() / 1e6 / Math.max(1, c.tokenCount());
      }
      long t0 = System.nanoTime();
      switch (s) {
        case 0 -> e.vision(regions);
        case 1 -> prefillLogits();
        default -> {
          try (StageKv past = e.randomPast(context, context)) {
            t0 = System.nanoTime();
            decode(past);
          }
          return (System.nanoTime() - t0) / 1e6 / decodeTokens;
        }
      }
      return (System.nanoTime() - t0) / 1e6;
    }

    private void decode(StageKv past) {
      JavaStages.chainedSteps(e, past, context, decodeTokens, argmax);
    }
  }

  static double relRms(float[] ref, float[] x) {
    if (ref.length != x.length) {
      throw new IllegalArgumentException(
          "outputs differ in size: " + ref.length + " vs " + x.length + " (not the same model?)");
    }
    double num = 0;
    double den = 0;
    for (int i = 0; i < ref.length; i++) {
      double d = (double) x[i] - ref[i];
      num += d * d;
      den += (double) ref[i] * ref[i];
    }
    return Math.sqrt(num / Math.max(den, Double.MIN_NORMAL));
  }

  private static int argmax(float[] v) {
    int best = 0;
    for (int i = 1; i < v.length; i++) {
      if (v[i] > v[best]) {
        best = i;
      }
    }
    return best;
  }

  private static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  }

  private static void log(String s) {
    System.err.println("dam bench ab: " + s);
  }
}

package io.damjava.onnx;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.damjava.api.Caption;
import io.damjava.api.DamImage;
import io.damjava.api.Device;
import io.damjava.api.GenerationOptions;
import io.damjava.api.InferenceException;
import io.damjava.api.Mask;
import io.damjava.onnx.bundle.BundleManifest;
import io.damjava.onnx.bundle.ManifestIo;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.ToIntFunction;

/**
 * The engine's stages one at a time, for benchmarks and probes (dam-bench): a seam into dam-onnx's
 * package-private internals, not part of the stable API, which is dam-api. It may change with the
 * engine at any time.
 *
 * <p>It assembles the same objects as {@code OnnxDescribeAnything.load} (minus the SHA-256 check of
 * every bundle file) and offers each stage alone: {@link #preprocess}, {@link #vision}, {@link
 * #prefill}, {@link #step} (the decoder step of {@code Decoder.step}, at a fixed past length) and
 * {@link #describe} (the whole {@code DamPipeline}). Not thread-safe; one per benchmark state.
 */
public final class EngineStages implements AutoCloseable {
  private final BundleManifest m;
  private final Graphs g;
  private final Preprocessor preprocessor;
  private final VisionEncoder vision;
  private final PromptBuilder prompts;
  private final EmbeddingSplicer splicer;
  private final DamPipeline pipeline;
  private final DecodeSteps steps;

  private EngineStages(Path dir, int threads, String profilePrefix, Device device) {
    m = ManifestIo.read(dir);
    TextTokenizer tok = TextTokenizers.load(dir.resolve(m.tokenizer()));
    // CPU: as before. A GPU device never falls back silently: a device check must run there.
    OrtRuntime.Setup rt = OrtRuntime.setup(threads, device, device.kind() == Device.Kind.CPU);
    g =
        new Graphs(
            dir,
            m,
            new SessionLoader(
                rt,
                o -> {
                  if (profilePrefix != null) {
                    try {
                      o.enableProfiling(profilePrefix);
                    } catch (OrtException e) {
                      throw new InferenceException("cannot enable profiling: " + e.getMessage(), e);
                    }
                  }
                }));
    BundleManifest.Dims d = m.dims();
    BundleManifest.Preprocess p = m.preprocess();
    preprocessor = new Preprocessor(new FocalCrop(p.minBox(), p.cropFactor()), d.imageSize());
    vision = new VisionEncoder(g, new RegionTensor(p), d);
    prompts = new PromptBuilder(m.variant(), m.prompt(), tok);
    splicer = new EmbeddingSplicer(g, d, m.prompt().imageTokenIndex());
    pipeline =
        new DamPipeline(
            preprocessor,
            vision,
            prompts,
            splicer,
            new Decoder(g, d, m.tokens().eos()),
            tok,
            d.maxPositions(),
            null);
    steps = new DecodeSteps(g, d);
  }

  /**
   * Opens a bundle.
   *
   * @param threads intra-op threads (0: runtime default)
   */
  public static EngineStages open(Path dir, int threads) {
    return new EngineStages(dir, threads, null, Device.cpu());
  }

  /** Opens a bundle on a device; CUDA that cannot start fails (no CPU fallback). */
  public static EngineStages open(Path dir, int threads, Device device) {
    return new EngineStages(dir, threads, null, device);
  }

  /** Opens a bundle with ONNX Runtime profiling on; see {@link #endProfiling()}. */
  public static EngineStages openProfiled(Path dir, int threads, Path prefix) {
    return new EngineStages(dir, threads, prefix.toString(), Device.cpu());
  }

  /** Ends profiling of every session; returns the JSON trace files ORT wrote. */
  public List<Path> endProfiling() {
    List<Path> out = new ArrayList<>();
    // a prefill graph's trace comes sixth, where the bundle has one
    List<OrtSession> all =
        new ArrayList<>(
            List.of(g.visionContext, g.visionFocal, g.projector, g.embedTokens, g.decoder));
    if (g.prefill != g.decoder) {
      all.add(g.prefill);
    }
    for (OrtSession s : all) {
      try {
        out.add(Path.of(s.endProfiling()));
      } catch (OrtException e) {
        throw new InferenceException("endProfiling failed: " + e.getMessage(), e);
      }
    }
    return out;
  }

  public BundleManifest manifest() {
    return m;
  }

  /**
   * Bytes of direct memory the engine's in-place KV cache holds for one sequence of this bundle
   * with a prompt of {@code promptLength} positions and a budget of {@code maxNewTokens}: what the
   * continuous batcher counts against its budget (half the heap limit) per row.
   */
  public static long kvBytesPerSequence(Path bundle, int promptLength, int maxNewTokens) {
    BundleManifest.Dims d = ManifestIo.read(bundle).dims();
    int limit = Math.min(maxNewTokens, d.maxPositions() - promptLength + 1);
    return KvSlots.rowBytes(d, Decoder.capacity(promptLength, limit, d.maxPositions()));
  }

  // ---- preprocessing and vision ----

  /** A preprocessor with the bundle-independent DAM constants (min box 48, crop factor 3, 384). */
  public static Object preprocess(DamImage image, Mask mask) {
    return STANDALONE.region(image, mask);
  }

  private static final Preprocessor STANDALONE = new Preprocessor(new FocalCrop(48, 3), 384);

  /** One region's preprocessing with this bundle's constants. */
  public Object region(DamImage image, Mask mask) {
    return preprocessor.region(image, mask);
  }

  /** Whether a preprocessed region needs the focal pass (false: the equality branch). */
  public static boolean needsFocalPass(Object region) {
    return !((Preprocessor.Region) region).focalIsContext();
  }

  /** Vision context + focal passes and the projector for the regions: (B, I, H) embeddings. */
  public float[] vision(List<?> regions) {
    List<Preprocessor.Region> r = new ArrayList<>();
    for (Object o : regions) {
      r.add((Preprocessor.Region) o);
    }
    return vision.encode(r);
  }

  // ---- prompt and decoder ----

  /** The default image prompt's ids (one image placeholder). */
  public int[] defaultPromptIds() {
    return prompts.ids(prompts.text(prompts.defaultQuery(false), 1, false));
  }

  /** The spliced length of a prompt. */
  public int splicedLength(int[] ids) {
    return splicer.length(ids);
  }

  /**
   * Text embeddings with the image rows spliced in: (1, L, H) direct buffer, freed by the garbage
   * collector once unreachable (a benchmark reuses it across iterations).
   */
  public FloatBuffer splice(int[] ids, float[] images) {
    return splicer.splice(ids, images, 0).floats();
  }

  /** (1, L, H) random N(0, 1) embeddings, as a direct buffer, for a prefill of any length. */
  public FloatBuffer randomEmbeds(int length, long seed) {
    return DecodeSteps.randomFloats((long) length * m.dims().hidden(), new Random(seed));
  }

  /**
   * The decoder's prefill over {@code embeds}, as {@code Decoder.prefill} runs it; the caller owns
   * (and closes) the returned result, whose {@code present.*} outputs are the KV cache.
   */
  public OrtSession.Result prefill(FloatBuffer embeds, int length) {
    return steps.prefill(embeds, length);
  }

  /**
   * Greedy decoding of token-id prompts (one length, no image) through the engine's decoder, with
   * no EOS stop; with {@code forced} non-null every row is fed those tokens instead (teacher
   * forcing) and the argmax at each of the {@code maxNew} positions is still recorded.
   */
  public TokenProbe.Rows greedyTokens(int[][] prompts, int maxNew, int[][] forced) {
    return TokenProbe.run(g, m, prompts, maxNew, forced);
  }

  Graphs graphs() {
    return g;
  }

  /** Whether the bundle's decoder keeps its KV cache in one shared in-place buffer per layer. */
  public boolean sharedKv() {
    return m.dims().kvCache() == BundleManifest.KvCache.SHARED;
  }

  /**
   * A random KV cache of {@code length} positions for every layer, float32 N(0, 1): the past of a
   * decode step without running a prefill (a step's cost does not depend on the cached values).
   * Growing layout: (1, kvHeads, length, headDim). Shared layout ({@link #sharedKv()}): the
   * engine's in-place buffer, (1, kvHeads, C, headDim) with C = length + 256 rounded up as {@code
   * Decoder} rounds its capacity (at most maxPositions), so that steps at {@code length}, {@code
   * length + 1}, ... write into it. Close it after use.
   */
  public StageKv randomPast(int length, long seed) {
    return steps.randomPast(length, seed);
  }

  /**
   * One decode step on top of {@code past} (holding {@code pastLength} positions), exactly as
   * {@code Decoder.step} runs it (embedTokens, then the decoder), but the new result is returned
   * instead of replacing the cache, so the context length stays fixed across invocations. The
   * caller closes the returned result.
   */
  public OrtSession.Result step(OrtSession.Result past, int pastLength, int id) {
    return steps.step(past, pastLength, id);
  }

  /**
   * {@link #step(OrtSession.Result, int, int)} on a {@link StageKv}. In the shared layout the step
   * writes position {@code pastLength} of {@code past} in place (its tensors are the pinned {@code
   * present.*} outputs too) and the result holds the logits only: chain shared steps on the same
   * {@code past} with growing {@code pastLength}.
   */
  public OrtSession.Result step(StageKv past, int pastLength, int id) {
    return steps.step(past, pastLength, id);
  }

  /** The last position's logits of a decoder result, copied to the heap. */
  public float[] logits(OrtSession.Result r) {
    return steps.logits(r);
  }

  /** The whole pipeline for one image and its regions (what {@code describe} runs after checks). */
  public List<Caption> describe(DamImage image, List<Mask> masks, GenerationOptions options) {
    options = Samplers.resolve(options, m.generation());
    int[] ids = pipeline.promptIds(options, 1, false);
    List<DamImage> frames = new ArrayList<>();
    for (int i = 0; i < masks.size(); i++) {
      frames.add(image);
    }
    return pipeline.describe(frames, masks, false, ids, options, null, null);
  }

  // ---- sampling ----

  /**
   * The engine's sampler for options (greedy when the temperature is 0); the model's top-k is taken
   * as {@link GenerationOptions#DEFAULT_TOP_K}.
   */
  public static ToIntFunction<float[]> sampler(GenerationOptions options, long seed) {
    Sampler s =
        Samplers.of(
            Samplers.resolve(
                options,
                new BundleManifest.Generation(0.2, 0.5, GenerationOptions.DEFAULT_TOP_K, 512)),
            seed);
    return s::sample;
  }

  @Override
  public void close() {
    g.close();
  }
}

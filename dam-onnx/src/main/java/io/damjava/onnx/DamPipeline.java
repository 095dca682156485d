package io.damjava.onnx;

import io.damjava.api.Cancellation;
import io.damjava.api.Caption;
import io.damjava.api.CaptionListener;
import io.damjava.api.DamImage;
import io.damjava.api.GenerationOptions;
import io.damjava.api.Mask;
import io.damjava.api.Timings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * One describe call, stage by stage (S = imageSize, N = visionTokens, Hv = visionHidden, I =
 * imageTokens, H = hidden, V = vocab, B = regions or frames, k = images per prompt: 1 or 8):
 *
 * <pre>
 * Preprocessor      image + mask            → 2 × (S,S,3)+(S,S) uint8 per region (full, focal crop)
 * VisionEncoder     (B,4,S,S) ×2 float32    → (B,N,Hv) context/focal → projector → (B,I,H)
 * PromptBuilder     query                   → ids (T) int, -200 per image
 * EmbeddingSplicer  ids (T) + (k,I,H)        → embeds (1,L,H) per region, L = T - k + k·I
 * Decoder           (B,L,H) + KV cache      → logits (B,1,V) per step, B regions together
 *   or ContinuousBatcher (1,L,H) per sequence → joins the engine-wide batch (contrib graphs)
 * Sampler           logits (V) per row      → token id, one sampler (seed) per region
 * detokenizer       token ids               → text deltas (listener), final text
 * </pre>
 *
 * Inputs are validated by the caller before this runs. Stateless; thread-safe.
 */
final class DamPipeline {
  /**
   * At most this many regions of one call decode together (one prefill over (B,L,H), one decoder
   * run per step for all B); more regions go in further batches of this size.
   */
  static final int MAX_BATCH = 8;

  private final Preprocessor preprocessor;
  private final VisionEncoder vision;
  private final PromptBuilder prompts;
  private final EmbeddingSplicer splicer;
  private final Decoder decoder;
  private final TextTokenizer tokenizer;
  private final int maxPositions;
  private final ContinuousBatcher batcher; // null: every call decodes its own batch

  DamPipeline(
      Preprocessor preprocessor,
      VisionEncoder vision,
      PromptBuilder prompts,
      EmbeddingSplicer splicer,
      Decoder decoder,
      TextTokenizer tokenizer,
      int maxPositions,
      ContinuousBatcher batcher) {
    this.preprocessor = preprocessor;
    this.vision = vision;
    this.prompts = prompts;
    this.splicer = splicer;
    this.decoder = decoder;
    this.tokenizer = tokenizer;
    this.maxPositions = maxPositions;
    this.batcher = batcher;
  }

  /**
   * Regions of one image (one caption each; {@code frames} holds the image once per mask), or one
   * video (8 frames, 8 masks, one caption).
   */
  List<Caption> describe(
      List<DamImage> frames,
      List<Mask> masks,
      boolean video,
      int[] promptIds,
      GenerationOptions options,
      CaptionListener listener,
      Cancellation cancel) {
    long start = System.nanoTime();
    List<Preprocessor.Region> regions = new ArrayList<>();
    for (int i = 0; i < masks.size(); i++) {
      regions.add(preprocessor.region(frames.get(i), masks.get(i)));
    }
    long preprocessed = System.nanoTime();
    float[] images = vision.encode(regions); // (B, I, H)
    long encoded = System.nanoTime();
    List<Caption> captions = new ArrayList<>();
    int length = splicer.length(promptIds);
    if (batcher != null) {
      return batched(
          images,
          masks.size(),
          video,
          length,
          promptIds,
          options,
          listener,
          cancel,
          start,
          preprocessed,
          encoded);
    }
    // Regions of one image share the prompt, hence its length: up to MAX_BATCH of them decode
    // together. A video is one sequence; a streamed call decodes one region at a time so that the
    // listener sees one caption's text after another.
    // With the shared KV cache a batch's buffers are direct memory: half the heap limit at most.
    int per = video || listener != null ? 1 : Math.min(MAX_BATCH, masks.size());
    per =
        Math.min(
            per,
            decoder.maxBatch(length, options.maxNewTokens(), Runtime.getRuntime().maxMemory() / 2));
    int sequences = video ? 1 : masks.size();
    for (int first = 0; first < sequences; first += per) {
      int batch = Math.min(per, sequences - first);
      try (OffHeap embeds = promptRows(promptIds, images, first, batch); // (B, L, H)
          GenerationState st = new GenerationState(maxPositions, batch)) {
        Sampler[] samplers = new Sampler[batch];
        TextTokenizer.Stream[] texts = new TextTokenizer.Stream[batch];
        for (int b = 0; b < batch; b++) {
          samplers[b] = Samplers.of(options, Samplers.seedFor(options));
          texts[b] = tokenizer.newStream();
        }
        Decoder.Output[] outs =
            decoder.generate(
                st,
                embeds.floats(),
                batch,
                length,
                options.maxNewTokens(),
                samplers,
                texts,
                listener,
                cancel);
        Timings t =
            new Timings(
                Duration.ofNanos(preprocessed - start),
                Duration.ofNanos(encoded - preprocessed),
                Duration.ofNanos(st.prefillNanos),
                Duration.ofNanos(st.decodeNanos),
                Duration.ofNanos(System.nanoTime() - start));
        for (Decoder.Output out : outs) {
          String text = tokenizer.decode(out.tokens()).strip();
          captions.add(new Caption(text, out.tokens(), length, out.stop(), t));
        }
      }
    }
    return captions;
  }

  /** The spliced prompts of regions first..first+batch-1, one row each: (B, L, H). */
  private OffHeap promptRows(int[] promptIds, float[] images, int first, int batch) {
    OffHeap one = splicer.splice(promptIds, images, first); // (1, L, H)
    if (batch == 1) {
      return one;
    }
    OffHeap rows;
    try (one) {
      rows = OffHeap.floats((long) batch * one.floats().remaining());
      rows.floats().put(one.floats());
    }
    try {
      for (int b = 1; b < batch; b++) {
        try (OffHeap next = splicer.splice(promptIds, images, first + b)) {
          rows.floats().put(next.floats());
        }
      }
    } catch (RuntimeException e) {
      rows.close();
      throw e;
    }
    rows.floats().flip();
    return rows;
  }

  /**
   * Every sequence of the call joins the engine-wide continuous batch (its rows are computed as if
   * alone); the listener, if any, hears the single sequence's tokens on this thread.
   */
  private List<Caption> batched(
      float[] images,
      int regions,
      boolean video,
      int length,
      int[] promptIds,
      GenerationOptions options,
      CaptionListener listener,
      Cancellation cancel,
      long start,
      long preprocessed,
      long encoded) {
    int sequences = video ? 1 : regions;
    List<BatchedSequence> pending = new ArrayList<>();
    for (int i = 0; i < sequences; i++) {
      Sampler sampler = Samplers.of(options, Samplers.seedFor(options));
      pending.add(
          batcher.submit(
              splicer.splice(promptIds, images, i),
              length,
              options.maxNewTokens(),
              sampler,
              cancel));
    }
    List<Caption> captions = new ArrayList<>();
    for (BatchedSequence p : pending) {
      TextTokenizer.Stream text = listener != null ? tokenizer.newStream() : null;
      ContinuousBatcher.Result r =
          p.await(listener == null ? null : id -> emit(id, text, listener));
      if (listener != null) {
        String rest = text.finish();
        if (!rest.isEmpty()) {
          listener.onText(rest);
        }
      }
      Timings t =
          new Timings(
              Duration.ofNanos(preprocessed - start),
              Duration.ofNanos(encoded - preprocessed),
              Duration.ofNanos(r.prefillNanos()),
              Duration.ofNanos(r.decodeNanos()),
              Duration.ofNanos(System.nanoTime() - start));
      int[] tokens = r.output().tokens();
      captions.add(
          new Caption(tokenizer.decode(tokens).strip(), tokens, length, r.output().stop(), t));
    }
    return captions;
  }

  private static void emit(int id, TextTokenizer.Stream text, CaptionListener listener) {
    listener.onToken(id);
    String delta = text.push(id);
    if (!delta.isEmpty()) {
      listener.onText(delta);
    }
  }

  /** The prompt ids of a call; also used by validation to check the length. */
  int[] promptIds(GenerationOptions options, int images, boolean video) {
    String query = options.query().orElse(prompts.defaultQuery(video));
    return prompts.ids(prompts.text(query, images, video));
  }

  /** Frees the decoder's idle KV buffers; once no call runs (the engine's close). */
  void releaseBuffers() {
    decoder.releaseSpare();
  }

  int splicedLength(int[] ids) {
    return splicer.length(ids);
  }
}

package io.damjava.onnx;

import io.damjava.onnx.bundle.BundleManifest;
import java.nio.FloatBuffer;

/**
 * Greedy decoding of plain token-id prompts through the engine's own {@link Decoder} (prefill,
 * KV-cache steps, embed_tokens), for the precision agreement measurement. EOS is not honoured, so
 * every row runs its full budget; optionally each row is teacher-forced along a given sequence,
 * recording the argmax the bundle would have chosen at every position. Run through {@link
 * EngineStages#greedyTokens}.
 *
 * <p>A probe seam (dam-bench's {@code Agreement}), not part of the stable API, which is dam-api.
 */
public final class TokenProbe {
  private TokenProbe() {}

  /**
   * Per row: the argmax at each step and its top-1 minus top-2 logit margin.
   *
   * @param argmax (B, steps) token ids
   * @param margins (B, steps) logit differences, >= 0
   */
  public record Rows(int[][] argmax, float[][] margins) {}

  /**
   * @param prompts B rows of one length (no image placeholders)
   * @param forced B rows of at least {@code maxNew} tokens fed instead of the argmax, or null
   */
  static Rows run(Graphs g, BundleManifest m, int[][] prompts, int maxNew, int[][] forced) {
    BundleManifest.Dims d = m.dims();
    int batch = prompts.length;
    int length = prompts[0].length;
    EmbeddingSplicer splicer = new EmbeddingSplicer(g, d, m.prompt().imageTokenIndex());
    FloatBuffer all = Tensors.floats((long) batch * length * d.hidden());
    for (int[] p : prompts) {
      if (p.length != length) {
        throw new IllegalArgumentException("prompts of one batch must have one length");
      }
      try (OffHeap one = splicer.splice(p, new float[0], 0)) {
        all.put(one.floats());
      }
    }
    all.rewind();
    Recorder[] rec = new Recorder[batch];
    for (int b = 0; b < batch; b++) {
      rec[b] = new Recorder(maxNew, forced == null ? null : forced[b]);
    }
    Decoder decoder = new Decoder(g, d, -1); // no stop token: every row decodes maxNew steps
    try (GenerationState st = new GenerationState(d.maxPositions(), batch)) {
      decoder.generate(
          st, all, batch, length, maxNew, rec, new TextTokenizer.Stream[batch], null, null);
    }
    int[][] argmax = new int[batch][];
    float[][] margins = new float[batch][];
    for (int b = 0; b < batch; b++) {
      argmax[b] = java.util.Arrays.copyOf(rec[b].argmax, rec[b].n);
      margins[b] = java.util.Arrays.copyOf(rec[b].margin, rec[b].n);
    }
    return new Rows(argmax, margins);
  }

  /** Records argmax and margin; returns the argmax, or the forced token of this step. */
  private static final class Recorder implements Sampler {
    final int[] argmax;
    final float[] margin;
    final int[] forced;
    int n;

    Recorder(int steps, int[] forced) {
      argmax = new int[steps];
      margin = new float[steps];
      this.forced = forced;
    }

    @Override
    public int sample(float[] logits) {
      int best = Samplers.argmax(logits);
      float second = Float.NEGATIVE_INFINITY;
      for (int i = 0; i < logits.length; i++) {
        if (i != best && logits[i] > second) {
          second = logits[i];
        }
      }
      argmax[n] = best;
      margin[n] = logits[best] - second;
      int out = forced == null ? best : forced[n];
      n++;
      return out;
    }
  }
}

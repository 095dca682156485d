package io.damjava.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.damjava.api.Device;
import io.damjava.api.StopReason;
import io.damjava.onnx.bundle.BundleManifest;
import io.damjava.onnx.bundle.ManifestIo;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** KV cache by equivalence: prefill(n) + k cached steps gives the logits of a full recompute. */
class DecoderKvTest {
  static Graphs graphs;
  static BundleManifest m;

  @BeforeAll
  static void open() {
    m = ManifestIo.read(EngineTest.TOY);
    OrtRuntime.Setup rt = OrtRuntime.setup(1, Device.cpu(), false);
    graphs = new Graphs(EngineTest.TOY, m, new SessionLoader(rt, x -> {}));
  }

  @AfterAll
  static void close() {
    graphs.close();
  }

  /** Greedy, remembering every step's logits. */
  static final class Recording implements Sampler {
    final List<float[]> logits = new ArrayList<>();

    @Override
    public int sample(float[] l) {
      logits.add(l.clone());
      return Samplers.argmax(l);
    }
  }

  Decoder.Output run(int[] ids, float[] images, int maxNew, Recording rec) {
    EmbeddingSplicer sp = new EmbeddingSplicer(graphs, m.dims(), -200);
    Decoder dec = new Decoder(graphs, m.dims(), -1); // no EOS: always run maxNew steps
    try (OffHeap e = sp.splice(ids, images, 0);
        GenerationState st = new GenerationState(m.dims().maxPositions())) {
      return dec.generate(
          st, e.floats(), sp.length(ids), maxNew, rec, new ByteTokenizer().newStream(), null, null);
    }
  }

  @Test
  void cachedStepsEqualFullRecompute() {
    float[] images = RandomImages.images(m, 3);
    int[] prompt = {1, 50, 60, 70, -200, 80, 90, 13};
    int k = 8;
    Recording cached = new Recording();
    Decoder.Output out = run(prompt, images, k, cached);
    assertEquals(StopReason.MAX_TOKENS, out.stop());
    assertEquals(k, out.tokens().length);
    double worst = 0;
    for (int j = 0; j < k; j++) {
      int[] longer = Arrays.copyOf(prompt, prompt.length + j);
      System.arraycopy(out.tokens(), 0, longer, prompt.length, j);
      Recording full = new Recording();
      run(longer, images, 1, full);
      float[] a = cached.logits.get(j);
      float[] b = full.logits.get(0);
      for (int v = 0; v < a.length; v++) {
        worst = Math.max(worst, Math.abs(a[v] - b[v]));
      }
      assertEquals(Samplers.argmax(b), out.tokens()[j], "step " + j);
    }
    assertTrue(worst < 1e-4, "max |cached - recomputed| = " + worst);
  }

  @Test
  void spliceInsertsImageRowsAtThePlaceholder() {
    EmbeddingSplicer sp = new EmbeddingSplicer(graphs, m.dims(), -200);
    int h = m.dims().hidden();
    int rows = m.dims().imageTokens();
    float[] images = new float[2 * rows * h];
    for (int i = 0; i < images.length; i++) {
      images[i] = 1000 + i;
    }
    int[] ids = {1, 7, -200, 9, -200};
    assertEquals(3 + 2 * rows, sp.length(ids));
    float[] all;
    try (OffHeap e = sp.splice(ids, images, 0)) {
      all = new float[e.floats().remaining()];
      e.floats().get(all);
    }
    float[] text;
    try (OffHeap t = sp.splice(new int[] {1, 7, 9}, images, 0)) {
      text = new float[t.floats().remaining()];
      t.floats().get(text);
    }
    assertArrayEquals(Arrays.copyOfRange(text, 0, 2 * h), Arrays.copyOfRange(all, 0, 2 * h));
    assertArrayEquals(
        Arrays.copyOfRange(images, 0, rows * h), Arrays.copyOfRange(all, 2 * h, (2 + rows) * h));
    assertArrayEquals(
        Arrays.copyOfRange(text, 2 * h, 3 * h),
        Arrays.copyOfRange(all, (2 + rows) * h, (3 + rows) * h));
    assertArrayEquals(
        Arrays.copyOfRange(images, rows * h, 2 * rows * h),
        Arrays.copyOfRange(all, (3 + rows) * h, all.length));
  }
}

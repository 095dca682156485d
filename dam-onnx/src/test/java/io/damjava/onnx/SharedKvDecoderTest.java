package io.damjava.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.damjava.api.Device;
import io.damjava.api.StopReason;
import io.damjava.onnx.bundle.BundleManifest;
import io.damjava.onnx.bundle.BundleManifest.KvCache;
import io.damjava.onnx.bundle.ManifestIo;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The engine's decoder loop over a contrib bundle converted with {@code --kv shared}: cached steps
 * in one in-place buffer give the logits of a full recompute and of the growing cache, on the
 * committed {@link ConvertedBundles} (the toy bundle is standard-style).
 */
class SharedKvDecoderTest {
  static Graphs growing;
  static Graphs shared;
  static BundleManifest mGrowing;
  static BundleManifest mShared;

  @BeforeAll
  static void open() {
    Path g = ConvertedBundles.dir("contrib");
    Path s = ConvertedBundles.dir("shared");
    mGrowing = ManifestIo.read(g);
    mShared = ManifestIo.read(s);
    OrtRuntime.Setup rt = OrtRuntime.setup(1, Device.cpu(), false);
    growing = new Graphs(g, mGrowing, new SessionLoader(rt, x -> {}));
    shared = new Graphs(s, mShared, new SessionLoader(rt, x -> {}));
  }

  @AfterAll
  static void close() {
    shared.close();
    growing.close();
  }

  static Decoder.Output run(
      Graphs graphs,
      BundleManifest m,
      int[] ids,
      float[] images,
      int maxNew,
      DecoderKvTest.Recording rec) {
    return run(new Decoder(graphs, m.dims(), -1), graphs, m, ids, images, maxNew, rec);
  }

  /** With a given decoder, whose spare shared buffers carry over from call to call. */
  static Decoder.Output run(
      Decoder dec,
      Graphs graphs,
      BundleManifest m,
      int[] ids,
      float[] images,
      int maxNew,
      DecoderKvTest.Recording rec) {
    EmbeddingSplicer sp = new EmbeddingSplicer(graphs, m.dims(), -200);
    try (OffHeap e = sp.splice(ids, images, 0);
        GenerationState st = new GenerationState(m.dims().maxPositions())) {
      return dec.generate(st, e.floats(), sp.length(ids), maxNew, rec, null, null, null);
    }
  }

  @Test
  void manifestRecordsTheLayout() {
    assertEquals(KvCache.SHARED, mShared.dims().kvCache());
    assertEquals(KvCache.GROWING, mGrowing.dims().kvCache());
    assertTrue(ManifestIo.toJson(mShared).contains("\"kvCache\" : \"shared\""));
    assertTrue(!ManifestIo.toJson(mGrowing).contains("kvCache"));
  }

  @Test
  void sharedCachedStepsEqualFullRecomputeAndTheGrowingCache() {
    float[] images = RandomImages.images(mShared, 3);
    int[] prompt = {1, 50, 60, 70, -200, 80, 90, 13};
    int k = 12;
    DecoderKvTest.Recording cached = new DecoderKvTest.Recording();
    Decoder.Output out = run(shared, mShared, prompt, images, k, cached);
    assertEquals(StopReason.MAX_TOKENS, out.stop());
    assertEquals(k, out.tokens().length);
    DecoderKvTest.Recording grow = new DecoderKvTest.Recording();
    Decoder.Output outGrowing = run(growing, mGrowing, prompt, images, k, grow);
    assertArrayEquals(outGrowing.tokens(), out.tokens());
    double worst = 0;
    double vsGrowing = 0;
    for (int j = 0; j < k; j++) {
      int[] longer = Arrays.copyOf(prompt, prompt.length + j);
      System.arraycopy(out.tokens(), 0, longer, prompt.length, j);
      DecoderKvTest.Recording full = new DecoderKvTest.Recording();
      run(growing, mGrowing, longer, images, 1, full);
      float[] a = cached.logits.get(j);
      float[] b = full.logits.get(0);
      float[] c = grow.logits.get(j);
      for (int v = 0; v < a.length; v++) {
        worst = Math.max(worst, Math.abs(a[v] - b[v]));
        vsGrowing = Math.max(vsGrowing, Math.abs(a[v] - c[v]));
      }
      assertEquals(Samplers.argmax(b), out.tokens()[j], "step " + j);
    }
    assertTrue(worst < 1e-4, "max |shared cached - recomputed| = " + worst);
    assertTrue(vsGrowing < 1e-5, "max |shared - growing| = " + vsGrowing);
  }

  @Test
  void aSecondCallOnTheSameSessionStartsFromAFreshBuffer() {
    BundleManifest.Dims d = mShared.dims();
    float[] images = new float[d.imageTokens() * d.hidden()];
    int[] a = {1, 50, 60, -200, 13};
    int[] b = {1, 70, 80, 90, 100, -200, 13};
    // One decoder (no EOS: always maxNew steps), so the second and third calls reuse the buffer
    // set the first left behind, holding stale rows of another prompt.
    Decoder dec = new Decoder(shared, mShared.dims(), -1);
    DecoderKvTest.Recording first = new DecoderKvTest.Recording();
    Decoder.Output longer = run(dec, shared, mShared, b, images, 5, first);
    run(dec, shared, mShared, a, images, 5, new DecoderKvTest.Recording());
    DecoderKvTest.Recording again = new DecoderKvTest.Recording();
    assertArrayEquals(longer.tokens(), run(dec, shared, mShared, b, images, 5, again).tokens());
    for (int j = 0; j < 5; j++) {
      assertArrayEquals(first.logits.get(j), again.logits.get(j), "step " + j);
    }
  }

  @Test
  void concurrentCallsOnOneDecoderNeverShareABufferSet() throws Exception {
    float[] images = RandomImages.images(mShared, 3);
    List<int[]> prompts = new ArrayList<>();
    for (int k = 0; k < 4; k++) {
      int[] ids = new int[4 + 3 * k];
      ids[0] = 1;
      for (int i = 1; i < ids.length; i++) {
        ids[i] = 20 + 37 * k + 5 * i;
      }
      ids[ids.length / 2] = -200;
      prompts.add(ids);
    }
    Decoder dec = new Decoder(shared, mShared.dims(), -1);
    List<int[]> expected = new ArrayList<>();
    for (int[] p : prompts) {
      expected.add(run(dec, shared, mShared, p, images, 8, new DecoderKvTest.Recording()).tokens());
    }
    var pool = java.util.concurrent.Executors.newFixedThreadPool(4);
    try {
      List<java.util.concurrent.Future<int[]>> got = new ArrayList<>();
      for (int rep = 0; rep < 5; rep++) {
        for (int[] p : prompts) {
          got.add(
              pool.submit(
                  () ->
                      run(dec, shared, mShared, p, images, 8, new DecoderKvTest.Recording())
                          .tokens()));
        }
      }
      for (int i = 0; i < got.size(); i++) {
        assertArrayEquals(expected.get(i % prompts.size()), got.get(i).get(), "call " + i);
      }
    } finally {
      pool.shutdown();
    }
  }
}

package io.damjava.onnx;

import static io.damjava.onnx.RandomImages.images;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.damjava.api.Cancellation;
import io.damjava.api.Device;
import io.damjava.api.StopReason;
import io.damjava.onnx.bundle.BundleManifest;
import io.damjava.onnx.bundle.ManifestIo;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * B sequences through one decoder run per step: every row must give the logits and tokens of its
 * own B = 1 run, with its own sampler and its own stop, in each of the three decoder layouts
 * (contrib with a growing cache, contrib with the shared in-place cache, standard ops), on the
 * committed {@link ConvertedBundles}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BatchedDecoderTest {
  private static final int EOS = 7;
  private static final int[] PROMPT = {1, 50, 60, 70, -200, 80, 90, 13};

  private final List<Graphs> open = new ArrayList<>();
  // by layout name; tests take the name only (JUnit would close AutoCloseable arguments)
  private final java.util.Map<String, Graphs> graphs = new java.util.HashMap<>();
  private final java.util.Map<String, BundleManifest> manifests = new java.util.HashMap<>();

  @BeforeAll
  void open() {
    OrtRuntime.Setup rt = OrtRuntime.setup(1, Device.cpu(), false);
    String[] names = {"contrib", "shared", "standard", "int8", "int4"};
    for (String name : names) {
      Path out = ConvertedBundles.dir(name);
      BundleManifest m = ManifestIo.read(out);
      Graphs g = new Graphs(out, m, new SessionLoader(rt, x -> {}));
      open.add(g);
      graphs.put(name, g);
      manifests.put(name, m);
    }
  }

  @AfterAll
  void close() {
    open.forEach(Graphs::close);
  }

  Stream<String> layouts() {
    return Stream.of("contrib", "shared", "standard");
  }

  Stream<String> quantized() {
    return Stream.of("int8", "int4");
  }

  /** Greedy, remembering each step's logits; optionally answers EOS at one step. */
  static class Rec implements Sampler {
    final List<float[]> logits = new ArrayList<>();
    final int eosAt;

    Rec(int eosAt) {
      this.eosAt = eosAt;
    }

    @Override
    public int sample(float[] l) {
      logits.add(l.clone());
      int id = Samplers.argmax(l);
      if (logits.size() - 1 == eosAt) {
        return EOS;
      }
      return id == EOS ? (id + 1) % l.length : id; // EOS only where asked
    }
  }

  private static Decoder.Output[] run(
      Decoder dec, Graphs g, BundleManifest m, float[][] imgs, Rec[] recs, Cancellation cancel) {
    EmbeddingSplicer sp = new EmbeddingSplicer(g, m.dims(), -200);
    int batch = imgs.length;
    int rowFloats = sp.length(PROMPT) * m.dims().hidden();
    TextTokenizer.Stream[] texts = new TextTokenizer.Stream[batch];
    try (OffHeap rows = OffHeap.floats((long) batch * rowFloats);
        GenerationState st = new GenerationState(m.dims().maxPositions(), batch)) {
      FloatBuffer all = rows.floats();
      for (int b = 0; b < batch; b++) {
        try (OffHeap one = sp.splice(PROMPT, imgs[b], 0)) {
          all.put(one.floats());
        }
      }
      all.flip();
      return dec.generate(st, all, batch, sp.length(PROMPT), 10, recs, texts, null, cancel);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("layouts")
  void everyRowMatchesItsOwnSingleRunAndStopsOnItsOwn(String name) {
    Graphs g = graphs.get(name);
    BundleManifest m = manifests.get(name);
    Decoder dec = new Decoder(g, m.dims(), EOS);
    float[][] imgs = {images(m, 1), images(m, 2), images(m, 3)};
    int[] eosAt = {-1, 3, -1}; // row 1 stops early, the others run to max tokens
    Rec[] batched = {new Rec(eosAt[0]), new Rec(eosAt[1]), new Rec(eosAt[2])};
    Decoder.Output[] outs = run(dec, g, m, imgs, batched, null);
    double worst = 0;
    for (int b = 0; b < 3; b++) {
      Rec single = new Rec(eosAt[b]);
      Decoder.Output alone = run(dec, g, m, new float[][] {imgs[b]}, new Rec[] {single}, null)[0];
      assertArrayEquals(alone.tokens(), outs[b].tokens(), name + " row " + b + ": tokens");
      assertEquals(alone.stop(), outs[b].stop(), name + " row " + b);
      assertEquals(single.logits.size(), batched[b].logits.size(), name + " row " + b);
      for (int j = 0; j < single.logits.size(); j++) {
        float[] x = single.logits.get(j);
        float[] y = batched[b].logits.get(j);
        for (int v = 0; v < x.length; v++) {
          worst = Math.max(worst, Math.abs(x[v] - y[v]));
        }
      }
    }
    assertEquals(StopReason.EOS, outs[1].stop());
    assertEquals(3, outs[1].tokens().length);
    assertEquals(StopReason.MAX_TOKENS, outs[0].stop());
    assertEquals(10, outs[0].tokens().length);
    System.out.printf("%s: max |batched - single| logit %.3g%n", name, worst);
    assertTrue(worst < 1e-4, name + ": max |batched - single| logit = " + worst);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("layouts")
  void cancellationStopsEveryRowWithinOneStep(String name) {
    Graphs g = graphs.get(name);
    BundleManifest m = manifests.get(name);
    Decoder dec = new Decoder(g, m.dims(), EOS);
    Cancellation cancel = new Cancellation();
    Rec[] recs = {
      new Rec(-1) {
        @Override
        public int sample(float[] l) {
          if (logits.size() == 2) {
            cancel.cancel();
          }
          return super.sample(l);
        }
      },
      new Rec(-1)
    };
    Decoder.Output[] outs =
        run(dec, g, m, new float[][] {images(m, 1), images(m, 2)}, recs, cancel);
    for (Decoder.Output o : outs) {
      assertEquals(StopReason.CANCELLED, o.stop(), name);
      assertEquals(3, o.tokens().length, name);
    }
  }

  /**
   * At int8/int4 the batched MatMulNBits/MatMulInteger (M = B rows) may accumulate in another order
   * than M = 1: measured here over 4 batches of 4 random-image rows, 10 greedy steps each.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("quantized")
  void quantizedRowsStayCloseToTheirSingleRuns(String name) {
    Graphs g = graphs.get(name);
    BundleManifest m = manifests.get(name);
    Decoder dec = new Decoder(g, m.dims(), -1);
    int rows = 0;
    int differing = 0;
    double worst = 0;
    for (int k = 0; k < 4; k++) {
      float[][] imgs = new float[4][];
      Rec[] recs = new Rec[4];
      for (int b = 0; b < 4; b++) {
        imgs[b] = images(m, 100 + 4 * k + b);
        recs[b] = new Rec(-1);
      }
      Decoder.Output[] outs = run(dec, g, m, imgs, recs, null);
      for (int b = 0; b < 4; b++) {
        Rec single = new Rec(-1);
        int[] alone = run(dec, g, m, new float[][] {imgs[b]}, new Rec[] {single}, null)[0].tokens();
        rows++;
        if (!java.util.Arrays.equals(alone, outs[b].tokens())) {
          differing++;
        }
        float[] x = single.logits.get(0); // the prefill's logits: same prompt, no earlier flip
        float[] y = recs[b].logits.get(0);
        for (int v = 0; v < x.length; v++) {
          worst = Math.max(worst, Math.abs(x[v] - y[v]));
        }
      }
    }
    System.out.printf(
        "%s: %d of %d batched rows differ from B = 1; max |first-step logit diff| %.3g%n",
        name, differing, rows, worst);
    assertEquals(0, differing, name + ": rows whose greedy tokens differ from B = 1");
    assertTrue(worst < 1e-3, name + ": max first-step logit diff " + worst);
  }

  @org.junit.jupiter.api.Test
  void sharedKvBatchesAreBoundedByTheDirectMemoryBudget() {
    BundleManifest m = manifests.get("shared");
    BundleManifest.Dims d = m.dims();
    Decoder dec = new Decoder(graphs.get("shared"), d, EOS);
    int length = 20;
    // prompt 20 + 9 written tokens -> capacity 64 positions per row
    long perRow = 2L * d.layers() * d.kvHeads() * 64 * d.headDim() * 4;
    assertEquals(3, dec.maxBatch(length, 10, 3 * perRow + perRow / 2));
    assertEquals(1, dec.maxBatch(length, 10, 0));
    Decoder growing = new Decoder(graphs.get("contrib"), manifests.get("contrib").dims(), EOS);
    assertEquals(Integer.MAX_VALUE, growing.maxBatch(length, 10, 0));
  }
}

package io.damjava.onnx;

import static io.damjava.onnx.RandomImages.images;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.damjava.api.Cancellation;
import io.damjava.api.Device;
import io.damjava.api.GenerationOptions;
import io.damjava.api.StopReason;
import io.damjava.onnx.bundle.BundleManifest;
import io.damjava.onnx.bundle.ManifestIo;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Continuous batching on the tiny fp32 checkpoint (contrib graphs, growing and shared layouts, the
 * committed {@link ConvertedBundles}): sequences of different prompt lengths, options and seeds
 * that share decode steps, join while others decode, or get cancelled, must give exactly the tokens
 * of the same sequence decoded alone by {@link Decoder} (B = 1, the growing cache: the path every
 * golden test checks).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ContinuousBatcherTest {
  private final java.util.Map<String, Graphs> graphs = new java.util.HashMap<>();
  private final java.util.Map<String, BundleManifest> manifests = new java.util.HashMap<>();
  private final ExecutorService pool = Executors.newCachedThreadPool();

  @BeforeAll
  void open() {
    OrtRuntime.Setup rt = OrtRuntime.setup(1, Device.cpu(), false);
    for (String name : List.of("contrib", "shared")) {
      Path out = ConvertedBundles.dir(name);
      BundleManifest m = ManifestIo.read(out);
      graphs.put(name, new Graphs(out, m, new SessionLoader(rt, x -> {})));
      manifests.put(name, m);
    }
  }

  @AfterAll
  void close() {
    pool.shutdownNow();
    graphs.values().forEach(Graphs::close);
  }

  Stream<String> layouts() {
    return Stream.of("contrib", "shared");
  }

  /** One request: prompt ids (lengths differ), image seed, options. */
  record Req(int[] ids, int imageSeed, GenerationOptions options) {}

  static List<Req> requests() {
    GenerationOptions greedy = GenerationOptions.defaults().withTemperature(0);
    List<Req> out = new ArrayList<>();
    for (int k = 0; k < 6; k++) {
      int[] ids = new int[5 + 4 * k];
      ids[0] = 1;
      for (int i = 1; i < ids.length; i++) {
        ids[i] = 20 + 31 * k + 7 * i;
      }
      ids[ids.length / 2] = -200;
      GenerationOptions o =
          k % 2 == 0
              ? greedy.withMaxNewTokens(6 + 3 * k)
              : GenerationOptions.builder()
                  .temperature(0.7 + 0.2 * k)
                  .topP(0.5 + 0.08 * k)
                  .topK(k == 3 ? 0 : 20)
                  .maxNewTokens(9 + k)
                  .seed(1000 + k)
                  .build();
      out.add(new Req(ids, 10 + k, o));
    }
    return out;
  }

  private OffHeap splice(String name, Req q) {
    BundleManifest m = manifests.get(name);
    return new EmbeddingSplicer(graphs.get(name), m.dims(), -200)
        .splice(q.ids(), images(m, q.imageSeed()), 0);
  }

  private int length(String name, Req q) {
    BundleManifest m = manifests.get(name);
    return new EmbeddingSplicer(graphs.get(name), m.dims(), -200).length(q.ids());
  }

  /** The reference: the growing-cache Decoder, one sequence alone. */
  private Decoder.Output alone(Req q, int eos) {
    BundleManifest m = manifests.get("contrib");
    Decoder dec = new Decoder(graphs.get("contrib"), m.dims(), eos);
    Sampler s = Samplers.of(q.options(), q.options().seed().orElse(0));
    try (OffHeap prompt = splice("contrib", q);
        GenerationState st = new GenerationState(m.dims().maxPositions())) {
      return dec.generate(
          st,
          prompt.floats(),
          length("contrib", q),
          q.options().maxNewTokens(),
          s,
          null,
          null,
          null);
    }
  }

  private ContinuousBatcher batcher(String name, int maxBatch, int eos) {
    BundleManifest m = manifests.get(name);
    return new ContinuousBatcher(graphs.get(name), m.dims(), eos, maxBatch, 1L << 30);
  }

  private BatchedSequence submit(ContinuousBatcher b, String name, Req q, Cancellation cancel) {
    Sampler s = Samplers.of(q.options(), q.options().seed().orElse(0));
    return b.submit(splice(name, q), length(name, q), q.options().maxNewTokens(), s, cancel);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("layouts")
  void concurrentSequencesGiveTheTokensOfSequencesAlone(String name) throws Exception {
    int eos = manifests.get(name).tokens().eos();
    List<Req> reqs = requests();
    try (ContinuousBatcher b = batcher(name, 8, eos)) {
      for (int rep = 0; rep < 2; rep++) {
        List<BatchedSequence> ps = new ArrayList<>();
        for (Req q : reqs) {
          ps.add(submit(b, name, q, null)); // all queued at once: they join together
        }
        for (int i = 0; i < reqs.size(); i++) {
          Decoder.Output want = alone(reqs.get(i), eos);
          Decoder.Output got = ps.get(i).await(null).output();
          assertArrayEquals(want.tokens(), got.tokens(), name + " request " + i);
          assertEquals(want.stop(), got.stop(), name + " request " + i);
        }
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("layouts")
  void aSequenceJoiningMidFlightLeavesTheOthersUnchanged(String name) throws Exception {
    List<Req> reqs = requests();
    Req longer =
        new Req(reqs.get(1).ids(), 99, reqs.get(1).options().toBuilder().maxNewTokens(40).build());
    Decoder.Output wantLong = alone(longer, -1);
    try (ContinuousBatcher b = batcher(name, 4, -1)) {
      CountDownLatch started = new CountDownLatch(3);
      // Its sampler (on the decode thread) slows every step it is part of, so it is still
      // decoding, whatever the machine's speed, when the others arrive: they join by step count.
      Sampler inner = Samplers.of(longer.options(), longer.options().seed().orElse(0));
      Sampler slow =
          l -> {
            sleepQuietly();
            return inner.sample(l);
          };
      BatchedSequence first =
          b.submit(
              splice(name, longer),
              length(name, longer),
              longer.options().maxNewTokens(),
              slow,
              null);
      Future<Decoder.Output> f = pool.submit(() -> first.await(id -> started.countDown()).output());
      assertTrue(started.await(30, TimeUnit.SECONDS));
      // 6 sequences through a 4-row batch: later ones wait for a free row, then join mid-flight
      List<BatchedSequence> late = new ArrayList<>();
      for (Req q : reqs) {
        late.add(submit(b, name, q, null));
      }
      for (int i = 0; i < reqs.size(); i++) {
        assertArrayEquals(
            alone(reqs.get(i), -1).tokens(),
            late.get(i).await(null).output().tokens(),
            "late " + i);
      }
      assertArrayEquals(wantLong.tokens(), f.get(60, TimeUnit.SECONDS).tokens(), "first");
      assertTrue(b.stats()[0] >= reqs.size(), "joined mid-flight: " + b.stats()[0]);
    }
  }

  /**
   * The cache keeps the capacity of the longest caption it held; admission must count what the live
   * sequences need instead, or one long caption would shrink every later batch: with a budget of
   * four short rows, four short sequences after a long one decode together.
   */
  @Test
  void aLongCaptionDoesNotShrinkTheBatchesOfShortOnesAfterIt() throws Exception {
    String name = "contrib";
    BundleManifest.Dims d = manifests.get(name).dims();
    int eos = -1;
    Req shortOne = requests().get(0);
    GenerationOptions greedy = GenerationOptions.defaults().withTemperature(0);
    int len = length(name, shortOne);
    int shortNew = 16;
    int shortCap = Decoder.capacity(len, shortNew, d.maxPositions());
    long shortRow = KvSlots.rowBytes(d, shortCap);
    int longNew = Math.min(4 * shortCap, d.maxPositions() - len);
    long longRow = KvSlots.rowBytes(d, Decoder.capacity(len, longNew, d.maxPositions()));
    long budget = 4 * shortRow;
    assertTrue(2 * longRow > budget, "the long caption's rows must not fit twice: " + longRow);
    Req longOne = new Req(shortOne.ids(), 77, greedy.withMaxNewTokens(longNew));
    try (ContinuousBatcher b = new ContinuousBatcher(graphs.get(name), d, eos, 8, budget)) {
      assertEquals(longNew, submit(b, name, longOne, null).await(null).output().tokens().length);
      List<BatchedSequence> shorts = new ArrayList<>();
      // spliced first, then queued in a tight loop; every sample sleeps 5 ms, so each short one
      // lives for 80 ms or more however fast the machine: all four are live together
      List<OffHeap> prompts = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        prompts.add(splice(name, new Req(shortOne.ids(), 20 + i, greedy)));
      }
      for (OffHeap prompt : prompts) {
        Sampler inner = Samplers.of(greedy, 0);
        Sampler slow =
            l -> {
              sleepQuietly();
              return inner.sample(l);
            };
        shorts.add(b.submit(prompt, len, shortNew, slow, null));
      }
      for (BatchedSequence p : shorts) {
        assertEquals(shortNew, p.await(null).output().tokens().length);
      }
      assertEquals(4, b.stats()[2], "most sequences live at once");
    }
  }

  @Test
  void theBatchFreesPromptsAndOutgrownCachesAtOnceAndEverythingOnClose() throws Exception {
    String name = "contrib";
    List<Req> reqs = requests();
    java.lang.management.BufferPoolMXBean direct =
        java.lang.management.ManagementFactory.getPlatformMXBeans(
                java.lang.management.BufferPoolMXBean.class)
            .stream()
            .filter(p -> p.getName().equals("direct"))
            .findFirst()
            .orElseThrow();
    long before = direct.getMemoryUsed();
    long[] afterRound = new long[3];
    try (ContinuousBatcher b = batcher(name, 8, -1)) {
      // one sequence first (a 1-row cache), then rounds of six: the cache grows, once
      submit(b, name, reqs.get(0), null).await(null);
      for (int round = 0; round < afterRound.length; round++) {
        // the first row's first sample waits until all six are queued, so every round has the
        // same six live rows (otherwise a round that happens to overlap less grows the cache
        // later, and the comparison measures scheduling, not freeing)
        java.util.concurrent.CountDownLatch queued = new java.util.concurrent.CountDownLatch(1);
        Req first = reqs.get(0);
        Sampler inner = Samplers.of(first.options(), first.options().seed().orElse(0));
        Sampler gated =
            l -> {
              try {
                queued.await();
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
              return inner.sample(l);
            };
        List<BatchedSequence> ps = new ArrayList<>();
        ps.add(
            b.submit(
                splice(name, first),
                length(name, first),
                first.options().maxNewTokens(),
                gated,
                null));
        for (Req q : reqs.subList(1, reqs.size())) {
          ps.add(submit(b, name, q, null));
        }
        queued.countDown();
        for (BatchedSequence p : ps) {
          p.await(null);
        }
        afterRound[round] = direct.getMemoryUsed() - before;
      }
    }
    long after = direct.getMemoryUsed() - before;
    // no collection in between: prompts and the outgrown cache are not left for one
    assertTrue(afterRound[0] > 0, "the batch holds its cache: " + afterRound[0]);
    for (int round = 1; round < afterRound.length; round++) {
      assertTrue(
          afterRound[round] <= afterRound[0] + (64 << 10),
          "direct memory grew between rounds: " + java.util.Arrays.toString(afterRound));
    }
    assertTrue(after <= 64 << 10, "held after close: " + after + " bytes");
  }

  private static void sleepQuietly() {
    try {
      Thread.sleep(5);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Test
  void cancellingOneSequenceStopsItWithinOneTokenAndNotTheOthers() throws Exception {
    String name = "contrib";
    List<Req> reqs = requests();
    try (ContinuousBatcher b = batcher(name, 8, -1)) {
      Cancellation cancel = new Cancellation();
      List<BatchedSequence> ps = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        if (i != 1) {
          ps.add(submit(b, name, reqs.get(i), null));
          continue;
        }
        // cancelled from its own third sample: the flag is set while the row decodes
        Req q = reqs.get(i);
        Sampler inner = Samplers.of(q.options(), q.options().seed().orElse(0));
        int[] samples = new int[1];
        Sampler s =
            l -> {
              if (++samples[0] == 3) {
                cancel.cancel();
              }
              return inner.sample(l);
            };
        ps.add(b.submit(splice(name, q), length(name, q), q.options().maxNewTokens(), s, cancel));
      }
      Decoder.Output cancelled = ps.get(1).await(null).output();
      assertEquals(StopReason.CANCELLED, cancelled.stop());
      // checked before every sample: the token being sampled when the flag flips is the last
      assertEquals(3, cancelled.tokens().length);
      int[] full = alone(reqs.get(1), -1).tokens();
      assertArrayEquals(java.util.Arrays.copyOf(full, 3), cancelled.tokens());
      for (int i : new int[] {0, 2}) {
        Decoder.Output got = ps.get(i).await(null).output();
        assertArrayEquals(alone(reqs.get(i), -1).tokens(), got.tokens(), "request " + i);
        assertEquals(StopReason.MAX_TOKENS, got.stop());
      }
    }
  }

  @Test
  void aThrowingListenerFailsOnlyItsOwnCallAndTheBatcherRefusesWorkAfterClose() {
    String name = "contrib";
    List<Req> reqs = requests();
    ContinuousBatcher b = batcher(name, 8, -1);
    BatchedSequence bad = submit(b, name, reqs.get(0), null);
    BatchedSequence good = submit(b, name, reqs.get(2), null);
    IllegalStateException e =
        assertThrows(
            IllegalStateException.class,
            () ->
                bad.await(
                    id -> {
                      throw new IllegalStateException("listener broke");
                    }));
    assertEquals("listener broke", e.getMessage());
    assertArrayEquals(alone(reqs.get(2), -1).tokens(), good.await(null).output().tokens());
    b.close();
    assertThrows(IllegalStateException.class, () -> submit(b, name, reqs.get(0), null));
  }
}

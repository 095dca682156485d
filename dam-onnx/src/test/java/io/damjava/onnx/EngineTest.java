package io.damjava.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.damjava.api.Cancellation;
import io.damjava.api.Caption;
import io.damjava.api.CaptionListener;
import io.damjava.api.DamImage;
import io.damjava.api.DescribeAnything;
import io.damjava.api.DescribeRequest;
import io.damjava.api.Device;
import io.damjava.api.GenerationOptions;
import io.damjava.api.InvalidBundleException;
import io.damjava.api.InvalidInputException;
import io.damjava.api.Mask;
import io.damjava.api.ModelLoadException;
import io.damjava.api.Region;
import io.damjava.api.StopReason;
import io.damjava.api.spi.EngineConfig;
import io.damjava.onnx.bundle.BundleManifest;
import io.damjava.onnx.bundle.ManifestIo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The engine end to end on the toy bundle (resources/toy-bundle/regenerate.py). */
class EngineTest {
  static final Path TOY = Path.of("src/test/resources/toy-bundle");
  static final GenerationOptions GREEDY =
      GenerationOptions.defaults().withTemperature(0).withMaxNewTokens(12);
  static final GenerationOptions SAMPLED =
      GenerationOptions.builder()
          .temperature(0.8)
          .topK(40)
          .topP(0.9)
          .maxNewTokens(12)
          .seed(5)
          .build();
  static DescribeAnything dam;
  static DamImage image;

  static DescribeAnything load(Path dir, Device device, boolean fallback) {
    return OnnxDescribeAnything.load(
        new EngineConfig(dir, Optional.empty(), device, fallback, 1, GREEDY), ByteTokenizer::load);
  }

  @BeforeAll
  static void setUp() {
    dam = load(TOY, Device.cpu(), false);
    image = randomImage(100, 80, 1);
  }

  @AfterAll
  static void tearDown() {
    dam.close();
  }

  static DamImage randomImage(int w, int h, long seed) {
    byte[] rgb = new byte[w * h * 3];
    new Random(seed).nextBytes(rgb);
    return DamImage.ofRgb(w, h, rgb);
  }

  static Mask rect(int w, int h, int x0, int y0, int x1, int y1) {
    byte[] m = new byte[w * h];
    for (int y = y0; y < y1; y++) {
      for (int x = x0; x < x1; x++) {
        m[y * w + x] = 1;
      }
    }
    return Mask.of(m, w, h);
  }

  /** A focal region (window inside the image) and an equality-branch one (window = image). */
  static List<Region> regions() {
    return List.of(
        Region.mask(rect(100, 80, 0, 0, 5, 5)),
        Region.mask(rect(100, 80, 45, 35, 55, 45)),
        Region.mask(rect(100, 80, 70, 50, 100, 80)));
  }

  @Test
  void greedyIsDeterministicAndStopsAtMaxTokens() {
    Caption a = dam.describe(DescribeRequest.of(image, regions().get(0)).options(GREEDY));
    Caption b = dam.describe(DescribeRequest.of(image, regions().get(0)).options(GREEDY));
    assertArrayEquals(a.tokenIds(), b.tokenIds());
    assertEquals(a.text(), b.text());
    assertEquals(StopReason.MAX_TOKENS, a.stopReason());
    assertEquals(12, a.tokenCount());
    assertTrue(a.timings().total().compareTo(a.timings().decode()) >= 0);
  }

  @Test
  void regionsChangeTheCaption() {
    List<Caption> c = dam.describe(image, regions(), GREEDY);
    assertNotEquals(List.of(c.get(0).tokenIds()), List.of(c.get(1).tokenIds()));
    assertTrue(
        !java.util.Arrays.equals(c.get(0).tokenIds(), c.get(1).tokenIds())
            || !java.util.Arrays.equals(c.get(1).tokenIds(), c.get(2).tokenIds()));
  }

  @Test
  void batchedRegionsEqualOneAtATime() {
    for (GenerationOptions o : List.of(GREEDY, SAMPLED)) {
      List<Caption> batched = dam.describe(image, regions(), o);
      for (int i = 0; i < 3; i++) {
        Caption single = dam.describe(image, List.of(regions().get(i)), o).get(0);
        assertArrayEquals(single.tokenIds(), batched.get(i).tokenIds(), "region " + i);
      }
    }
  }

  @Test
  void seededSamplingIsReproducible() {
    Caption a = dam.describe(DescribeRequest.of(image, regions().get(1)).options(SAMPLED));
    Caption b = dam.describe(DescribeRequest.of(image, regions().get(1)).options(SAMPLED));
    assertArrayEquals(a.tokenIds(), b.tokenIds());
  }

  @Test
  void streamingDeltasConcatenateToTheText() {
    StringBuilder text = new StringBuilder();
    List<Integer> tokens = new ArrayList<>();
    CaptionListener l =
        new CaptionListener() {
          @Override
          public void onText(String delta) {
            text.append(delta);
          }

          @Override
          public void onToken(int id) {
            tokens.add(id);
          }
        };
    Caption c =
        dam.describe(DescribeRequest.of(image, regions().get(2)).options(GREEDY).listener(l));
    assertEquals(c.text(), text.toString().strip());
    assertEquals(c.tokenCount(), tokens.size());
  }

  @Test
  void cancellationStopsWithinOneToken() {
    Cancellation cancel = new Cancellation();
    CaptionListener l =
        new CaptionListener() {
          int n;

          @Override
          public void onText(String delta) {}

          @Override
          public void onToken(int id) {
            if (++n == 3) {
              cancel.cancel();
            }
          }
        };
    Caption c =
        dam.describe(
            DescribeRequest.of(image, regions().get(0))
                .options(GREEDY)
                .listener(l)
                .cancellation(cancel));
    assertEquals(StopReason.CANCELLED, c.stopReason());
    assertEquals(3, c.tokenCount());
  }

  @Test
  void concurrentCallsEqualSequential() throws Exception {
    List<Caption> expected = dam.describe(image, regions(), GREEDY);
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<int[]>> futures = new ArrayList<>();
      for (int i = 0; i < 8 * 20; i++) {
        int r = i % 3;
        futures.add(
            pool.submit(
                () -> dam.describe(image, List.of(regions().get(r)), GREEDY).get(0).tokenIds()));
      }
      for (int i = 0; i < futures.size(); i++) {
        assertArrayEquals(expected.get(i % 3).tokenIds(), futures.get(i).get(), "call " + i);
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void nativeMemoryStaysFlat() throws Exception {
    GenerationOptions o = GREEDY;
    List<Region> one = List.of(regions().get(0));
    // A leaked decoder Result per step would hold ~33 kB of KV: 500 calls x 12 steps = ~200 MB.
    // Warm-up lets the JIT and the Java heap reach their steady size first (a few hundred calls);
    // after it the growth measured here stays within a few MB either way.
    for (int i = 0; i < 500; i++) {
      dam.describe(image, one, o);
    }
    long before = settledRssKb();
    for (int i = 0; i < 500; i++) {
      dam.describe(image, one, o);
    }
    long grown = settledRssKb() - before;
    assertTrue(grown < 64 * 1024, "RSS grew by " + grown + " kB over 500 calls");
  }

  /** RSS after collecting garbage (direct buffers are freed by the collector). */
  static long settledRssKb() throws Exception {
    System.gc();
    Thread.sleep(100);
    System.gc();
    return rssKb();
  }

  static long rssKb() throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    }
    throw new IllegalStateException("no VmRSS");
  }

  @Test
  void badInputsAreRejectedWithMessages() {
    Region wrongSize = Region.mask(rect(10, 10, 0, 0, 2, 2));
    var e1 = assertThrows(InvalidInputException.class, () -> dam.describe(image, wrongSize));
    assertTrue(e1.getMessage().contains("same size"), e1.getMessage());
    Region empty = Region.mask(Mask.of(new byte[100 * 80], 100, 80));
    var e2 = assertThrows(InvalidInputException.class, () -> dam.describe(image, empty));
    assertTrue(e2.getMessage().contains("empty"), e2.getMessage());
    var e3 =
        assertThrows(
            InvalidInputException.class, () -> dam.describe(image, Region.box(1, 1, 9, 9)));
    assertTrue(e3.getMessage().contains("segmenter"), e3.getMessage());
    var e4 =
        assertThrows(
            InvalidInputException.class, () -> dam.describe(image, Region.box(1, 1, 900, 9)));
    assertTrue(e4.getMessage().contains("outside"), e4.getMessage());
    List<DamImage> frames = Collections.nCopies(8, image);
    List<Mask> masks = Collections.nCopies(8, rect(100, 80, 0, 0, 5, 5));
    var e5 = assertThrows(InvalidInputException.class, () -> dam.describeVideo(frames, masks));
    assertTrue(e5.getMessage().contains("image-only"), e5.getMessage());
    GenerationOptions longQuery = GREEDY.withQuery("x".repeat(2000));
    var e6 =
        assertThrows(
            InvalidInputException.class,
            () -> dam.describe(image, List.of(regions().get(0)), longQuery));
    assertTrue(e6.getMessage().contains("positions"), e6.getMessage());
    assertThrows(InvalidInputException.class, () -> dam.describe(image, List.of(), GREEDY));
  }

  @Test
  void positionLimitEndsGeneration() {
    // 1024 positions; a query that leaves room for exactly 5 new tokens.
    int promptWithoutQuery =
        ((OnnxDescribeAnything) dam).promptLengthForTest(GREEDY.withQuery("x"));
    String q = "x".repeat(1024 - promptWithoutQuery + 1 - 4);
    Caption c = dam.describe(image, List.of(regions().get(0)), GREEDY.withQuery(q)).get(0);
    assertEquals(StopReason.MAX_TOKENS, c.stopReason());
    assertEquals(5, c.tokenCount());
  }

  @Test
  void closeIsIdempotentAndLaterCallsFail() {
    DescribeAnything d = load(TOY, Device.cpu(), false);
    d.close();
    d.close();
    var e = assertThrows(IllegalStateException.class, () -> d.describe(image, regions().get(0)));
    assertEquals("DescribeAnything is closed", e.getMessage());
  }

  @Test
  void closeWaitsForARunningCallInsteadOfFreeingSessionsUnderIt() throws Exception {
    DescribeAnything d = load(TOY, Device.cpu(), false);
    java.util.concurrent.CountDownLatch started = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    CaptionListener slow =
        new CaptionListener() {
          @Override
          public void onText(String delta) {}

          @Override
          public void onToken(int id) {
            started.countDown();
            try {
              release.await();
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }
        };
    var running =
        java.util.concurrent.CompletableFuture.supplyAsync(
            () ->
                d.describe(
                    DescribeRequest.of(image, regions().get(0)).options(GREEDY).listener(slow)));
    started.await();
    Thread closer = new Thread(d::close);
    closer.start();
    closer.join(300);
    assertTrue(closer.isAlive(), "close waits while a call is generating");
    release.countDown();
    closer.join(10_000);
    Caption c = running.get();
    assertEquals(GREEDY.maxNewTokens(), c.tokenCount(), "the running call finished normally");
    assertThrows(IllegalStateException.class, () -> d.describe(image, regions().get(0)));
  }

  @Test
  void segmentReturnsMasksAsGivenAndNeedsASegmenterForPrompts() {
    List<Mask> masks = dam.segment(image, regions());
    for (int i = 0; i < masks.size(); i++) {
      assertEquals(((Region.MaskRegion) regions().get(i)).mask(), masks.get(i));
    }
    var e =
        assertThrows(
            io.damjava.api.InvalidInputException.class,
            () -> dam.segment(image, List.of(Region.box(1, 1, 20, 20))));
    assertTrue(e.getMessage().contains("needs a segmenter"), e.getMessage());
  }

  @Test
  void tamperedOrTruncatedFilesAreRefusedByName(@TempDir Path tmp) throws IOException {
    Path dir = copy(tmp.resolve("a"), null);
    byte[] b = Files.readAllBytes(dir.resolve("projector.onnx"));
    b[b.length - 1] ^= 1;
    Files.write(dir.resolve("projector.onnx"), b);
    var e = assertThrows(InvalidBundleException.class, () -> load(dir, Device.cpu(), false));
    assertTrue(e.getMessage().contains("projector.onnx") && e.getMessage().contains("SHA-256"));
    Path dir2 = copy(tmp.resolve("b"), null);
    Files.write(dir2.resolve("decoder.onnx"), new byte[10]);
    var e2 = assertThrows(InvalidBundleException.class, () -> load(dir2, Device.cpu(), false));
    assertTrue(e2.getMessage().contains("decoder.onnx") && e2.getMessage().contains("bytes"));
  }

  @Test
  void cudaOnTheCpuBuildFailsClearlyOrFallsBack() {
    var e = assertThrows(ModelLoadException.class, () -> load(TOY, Device.cuda(0), false));
    assertTrue(
        e.getMessage().contains("cuda:0") && e.getMessage().contains("CUDA"), e.getMessage());
    try (DescribeAnything d = load(TOY, Device.cuda(0), true)) {
      assertEquals(
          12, d.describe(DescribeRequest.of(image, regions().get(0)).options(GREEDY)).tokenCount());
    }
  }

  @Test
  void videoOnTheJointVariant(@TempDir Path tmp) throws IOException {
    Path dir = copy(tmp, BundleManifest.Variant.IMAGE_VIDEO);
    try (DescribeAnything d = load(dir, Device.cpu(), false)) {
      List<DamImage> frames = new ArrayList<>();
      List<Mask> masks = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        frames.add(randomImage(64, 48, 10 + i));
        masks.add(rect(64, 48, i * 4, 2, i * 4 + 10, 20));
      }
      Caption c = d.describe(DescribeRequest.video(frames, masks).options(GREEDY));
      assertEquals(12, c.tokenCount());
    }
  }

  @Test
  void serviceProviderIsRegistered() {
    // Found through ServiceLoader; the toy tokenizer file is not a SentencePiece model.
    var e =
        assertThrows(
            ModelLoadException.class,
            () -> DescribeAnything.builder().model(TOY).engine("onnxruntime").build());
    assertTrue(e.getMessage().contains("tokenizer.toy"), e.getMessage());
  }

  static Path copy(Path to, BundleManifest.Variant variant) throws IOException {
    Files.createDirectories(to);
    try (var s = Files.list(TOY)) {
      for (Path p : s.toList()) {
        Files.copy(p, to.resolve(p.getFileName()));
      }
    }
    if (variant != null) {
      BundleManifest m = ManifestIo.read(to);
      ManifestIo.write(
          to,
          new BundleManifest(
              m.formatVersion(),
              m.modelName(),
              variant,
              m.precision(),
              m.style(),
              m.dims(),
              m.preprocess(),
              m.prompt(),
              m.tokens(),
              m.generation(),
              m.tokenizer(),
              m.graphs(),
              m.files()));
    }
    return to;
  }
}

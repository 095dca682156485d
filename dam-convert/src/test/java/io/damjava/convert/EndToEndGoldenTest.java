package io.damjava.convert;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.damjava.api.Caption;
import io.damjava.api.DamImage;
import io.damjava.api.DescribeAnything;
import io.damjava.api.DescribeRequest;
import io.damjava.api.GenerationOptions;
import io.damjava.api.Mask;
import io.damjava.api.Region;
import io.damjava.api.StopReason;
import io.damjava.onnx.bundle.BundleManifest.KvCache;
import io.damjava.onnx.bundle.BundleManifest.Precision;
import io.damjava.onnx.bundle.BundleManifest.Style;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The whole product path against the PyTorch reference: the tiny checkpoints of tools/reference are
 * converted here by dam-convert, loaded through the public API (the engine is found by
 * ServiceLoader), and every golden case must give the reference's tokens and text exactly. The
 * goldens come from tools/reference/make_goldens.py; CI regenerates them with check_goldens.py.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EndToEndGoldenTest {
  private static final Path REPO = Goldens.REF.getParent().getParent();

  private Path tmp;
  private final List<DescribeAnything> open = new ArrayList<>();
  private DescribeAnything imageContrib;
  private DescribeAnything imageStandard;
  private DescribeAnything imageSharedKv;
  private DescribeAnything jointContrib;

  @BeforeAll
  void convertAndLoad(@TempDir Path dir) {
    tmp = dir;
    imageContrib = load("tiny-image", Style.CONTRIB);
    imageStandard = load("tiny-image", Style.STANDARD);
    imageSharedKv = load("tiny-image", Style.CONTRIB, KvCache.SHARED);
    jointContrib = load("tiny-joint", Style.CONTRIB);
  }

  @AfterAll
  void close() {
    open.forEach(DescribeAnything::close);
  }

  private DescribeAnything load(String checkpoint, Style style) {
    return load(checkpoint, style, KvCache.GROWING);
  }

  private DescribeAnything load(String checkpoint, Style style, KvCache kv) {
    Path out = tmp.resolve(checkpoint + "-" + style + (kv == KvCache.GROWING ? "" : "-" + kv));
    Converter.run(
        ConvertOptions.of(Goldens.checkpoint(checkpoint), out).withStyle(style).withKvCache(kv));
    DescribeAnything dam = DescribeAnything.builder().model(out).threads(1).build();
    open.add(dam);
    return dam;
  }

  Stream<Arguments> imageCases() throws IOException {
    List<Arguments> out = new ArrayList<>();
    for (JsonNode c : Goldens.cases("tiny-image")) {
      out.add(Arguments.of(c.get("name").asText(), Style.CONTRIB, KvCache.GROWING));
      out.add(Arguments.of(c.get("name").asText(), Style.STANDARD, KvCache.GROWING));
      out.add(Arguments.of(c.get("name").asText(), Style.CONTRIB, KvCache.SHARED));
    }
    return out.stream();
  }

  private static JsonNode golden(String name) throws IOException {
    for (JsonNode c : Goldens.index().get("cases")) {
      if (c.get("name").asText().equals(name)) {
        return c;
      }
    }
    throw new AssertionError("no golden case " + name);
  }

  private static GenerationOptions options(JsonNode c) {
    GenerationOptions.Builder b =
        GenerationOptions.builder().maxNewTokens(c.get("tokens").size()).temperature(0);
    JsonNode s = c.get("sampling");
    if (s != null && !s.isNull()) {
      b.temperature(s.get("temperature").asDouble())
          .topP(s.get("top_p").asDouble())
          .topK(s.get("top_k").asInt())
          .seed(s.get("seed").asLong());
    }
    return b.build();
  }

  private static DamImage image(JsonNode region) {
    return DamImage.read(REPO.resolve(region.get("image").asText()));
  }

  private static Mask mask(JsonNode region) {
    return Mask.read(REPO.resolve(region.get("mask").asText()));
  }

  private static int[] tokens(JsonNode c) {
    int[] t = new int[c.get("tokens").size()];
    for (int i = 0; i < t.length; i++) {
      t[i] = c.get("tokens").get(i).asInt();
    }
    return t;
  }

  private static void assertMatches(JsonNode c, Caption caption) {
    String name = c.get("name").asText();
    assertFalse(c.get("eos_stopped").asBoolean(), "goldens chosen to run the full 32 steps");
    assertArrayEquals(tokens(c), caption.tokenIds(), name + ": tokens differ from the reference");
    assertEquals(StopReason.MAX_TOKENS, caption.stopReason(), name);
    assertEquals(c.get("text").asText().strip(), caption.text(), name + ": text");
    assertEquals(c.get("spliced_length").asInt(), caption.promptTokens(), name + ": prompt length");
  }

  @ParameterizedTest(name = "{0} ({1}, {2} KV)")
  @MethodSource("imageCases")
  void everyImageCaseReproducesTheReferenceTokenForToken(String name, Style style, KvCache kv)
      throws IOException {
    JsonNode c = golden(name);
    JsonNode region = c.get("regions").get(0);
    DescribeAnything dam =
        kv == KvCache.SHARED
            ? imageSharedKv
            : style == Style.CONTRIB ? imageContrib : imageStandard;
    Caption caption =
        dam.describe(
            DescribeRequest.of(image(region), Region.mask(mask(region))).options(options(c)));
    assertMatches(c, caption);
  }

  @Test
  void jointCheckpointImageCaseUsesTheImagePrefixPrompt() throws IOException {
    JsonNode c = golden("joint_image_left_eye");
    JsonNode region = c.get("regions").get(0);
    assertMatches(
        c,
        jointContrib.describe(
            DescribeRequest.of(image(region), Region.mask(mask(region))).options(options(c))));
  }

  @Test
  void videoCaseReproducesTheReference() throws IOException {
    JsonNode c = golden("video_8_frames");
    List<DamImage> frames = new ArrayList<>();
    List<Mask> masks = new ArrayList<>();
    for (JsonNode region : c.get("regions")) {
      frames.add(image(region));
      masks.add(mask(region));
    }
    assertEquals(8, frames.size());
    assertMatches(
        c, jointContrib.describe(DescribeRequest.video(frames, masks).options(options(c))));
  }

  @Test
  void twoRegionsOfOneImageInOneCallEqualTheirGoldens() throws IOException {
    JsonNode left = golden("chelsea_left_eye");
    JsonNode right = golden("right_eye_same_image");
    JsonNode l = left.get("regions").get(0);
    JsonNode r = right.get("regions").get(0);
    assertEquals(l.get("image").asText(), r.get("image").asText());
    List<Caption> both =
        imageContrib.describe(
            image(l), List.of(Region.mask(mask(l)), Region.mask(mask(r))), options(left));
    assertMatches(left, both.get(0));
    assertMatches(right, both.get(1));
  }

  /**
   * An int4 bundle with the default int8-dynamic vision graphs quantizes each vision run's
   * activations with one scale: regions of one call must still get the captions they get alone.
   */
  @Test
  void int8DynamicVisionRegionsOfOneCallEqualTheirCallsAlone() throws IOException {
    Path out = tmp.resolve("tiny-image-int4-default");
    ConvertOptions o =
        ConvertOptions.of(Goldens.checkpoint("tiny-image"), out).withPrecision(Precision.INT4);
    assertEquals(ConvertOptions.Quant.INT8_DYNAMIC, o.visionStorage());
    Converter.run(o);
    JsonNode left = golden("chelsea_left_eye");
    JsonNode l = left.get("regions").get(0);
    JsonNode r = golden("right_eye_same_image").get("regions").get(0);
    // the embeddings first: bit-identical rows (tokens of the tiny model hide small differences)
    try (io.damjava.onnx.EngineStages e = io.damjava.onnx.EngineStages.open(out, 1)) {
      // a second, high-contrast picture (as the 8 frames of a video call differ): the
      // activation ranges of the two differ, so a shared quantization scale would show
      DamImage img = image(l);
      byte[] stripes = new byte[img.width() * img.height() * 3];
      for (int i = 0; i < stripes.length; i++) {
        stripes[i] = (byte) (((i / 3) % img.width() / 4) % 2 == 0 ? 0 : 255);
      }
      Object a = e.region(img, mask(l));
      Object b = e.region(DamImage.ofRgb(img.width(), img.height(), stripes), mask(r));
      float[] together = e.vision(List.of(a, b, a));
      float[] alone = e.vision(List.of(b));
      int n = alone.length;
      assertEquals(3 * n, together.length);
      assertArrayEquals(alone, java.util.Arrays.copyOfRange(together, n, 2 * n), "region 1");
      assertArrayEquals(
          java.util.Arrays.copyOfRange(together, 0, n),
          java.util.Arrays.copyOfRange(together, 2 * n, 3 * n),
          "regions 0 and 2 (the same mask)");
    }
    GenerationOptions greedy = options(left).withMaxNewTokens(24);
    try (DescribeAnything dam = DescribeAnything.builder().model(out).threads(1).build()) {
      List<Region> regions =
          List.of(Region.mask(mask(l)), Region.mask(mask(r)), Region.mask(mask(l)));
      List<Caption> together = dam.describe(image(l), regions, greedy);
      for (int i = 0; i < regions.size(); i++) {
        Caption alone = dam.describe(image(l), List.of(regions.get(i)), greedy).get(0);
        assertArrayEquals(alone.tokenIds(), together.get(i).tokenIds(), "region " + i);
      }
    }
  }

  /**
   * An int4 bundle prefills on its int8 prefill graph: the per-call decoder (what CUDA and the
   * standard style use, and {@code EngineStages}) must prefill on it too, one region at a time, so
   * that it gives every region the caption the batcher gives it alone.
   */
  @ParameterizedTest(name = "{0} KV")
  @EnumSource(KvCache.class)
  void perCallDecoderPrefillsOnThePrefillGraphAsTheBatcherDoes(KvCache kv) throws IOException {
    Path out = tmp.resolve("tiny-image-int4-prefill-" + kv);
    Converter.run(
        ConvertOptions.of(Goldens.checkpoint("tiny-image"), out)
            .withPrecision(Precision.INT4)
            .withKvCache(kv));
    assertTrue(Files.isRegularFile(out.resolve(Converter.DECODER_PREFILL)));
    try (io.damjava.onnx.EngineStages e = io.damjava.onnx.EngineStages.open(out, 1);
        DescribeAnything dam = DescribeAnything.builder().model(out).threads(1).build()) {
      for (JsonNode c : Goldens.cases("tiny-image")) {
        if (c.get("regions").size() != 1
            || c.get("sampling") != null && !c.get("sampling").isNull()) {
          continue;
        }
        JsonNode r = c.get("regions").get(0);
        GenerationOptions greedy = options(c).withMaxNewTokens(24);
        Caption perCall = e.describe(image(r), List.of(mask(r)), greedy).get(0);
        Caption alone = dam.describe(image(r), List.of(Region.mask(mask(r))), greedy).get(0);
        assertArrayEquals(alone.tokenIds(), perCall.tokenIds(), c.get("name").asText());
      }
      // two different regions of one picture in one per-call batch (rows 0 and 2 the same)
      JsonNode l = golden("chelsea_left_eye").get("regions").get(0);
      JsonNode r = golden("right_eye_same_image").get("regions").get(0);
      GenerationOptions greedy = options(golden("chelsea_left_eye")).withMaxNewTokens(24);
      List<Caption> rows = e.describe(image(l), List.of(mask(l), mask(r), mask(l)), greedy);
      int i = 0;
      for (JsonNode region : List.of(l, r, l)) {
        Caption alone = dam.describe(image(l), List.of(Region.mask(mask(region))), greedy).get(0);
        assertArrayEquals(alone.tokenIds(), rows.get(i).tokenIds(), "row " + i);
        i++;
      }
    }
  }

  Stream<Arguments> imageBundles() {
    return Stream.of(
        Arguments.of(Style.CONTRIB, KvCache.GROWING),
        Arguments.of(Style.STANDARD, KvCache.GROWING),
        Arguments.of(Style.CONTRIB, KvCache.SHARED));
  }

  private DescribeAnything imageBundle(Style style, KvCache kv) {
    return kv == KvCache.SHARED
        ? imageSharedKv
        : style == Style.CONTRIB ? imageContrib : imageStandard;
  }

  /**
   * Every greedy image case in one call, decoded as one batch, forwards and backwards, and twice
   * over (10 regions: more than one batch of DamPipeline.MAX_BATCH): each row must still be its
   * golden token for token.
   */
  @ParameterizedTest(name = "{0}, {1} KV")
  @MethodSource("imageBundles")
  void greedyCasesDecodedTogetherEqualTheirGoldens(Style style, KvCache kv) throws IOException {
    List<JsonNode> cases = new ArrayList<>();
    for (JsonNode c : Goldens.cases("tiny-image")) {
      if (c.get("sampling") == null || c.get("sampling").isNull()) {
        cases.add(c);
      }
    }
    assertTrue(cases.size() >= 5, "greedy image cases: " + cases.size());
    JsonNode first = cases.get(0).get("regions").get(0);
    List<JsonNode> order = new ArrayList<>(cases);
    java.util.Collections.reverse(order);
    order.addAll(cases);
    List<Region> regions = new ArrayList<>();
    for (JsonNode c : order) {
      JsonNode r = c.get("regions").get(0);
      assertEquals(first.get("image").asText(), r.get("image").asText(), "one image per call");
      regions.add(Region.mask(mask(r)));
    }
    List<Caption> got =
        imageBundle(style, kv).describe(image(first), regions, options(cases.get(0)));
    assertEquals(order.size(), got.size());
    for (int i = 0; i < order.size(); i++) {
      assertMatches(order.get(i), got.get(i));
    }
  }

  /** Sampled rows in one batch each draw from their own seeded sampler. */
  @ParameterizedTest(name = "{0}, {1} KV")
  @MethodSource("imageBundles")
  void sampledRowsInOneBatchEachFollowTheirOwnSeed(Style style, KvCache kv) throws IOException {
    JsonNode c = golden("sampled_left_eye");
    JsonNode r = c.get("regions").get(0);
    Mask other = mask(golden("nose_small").get("regions").get(0));
    List<Caption> got =
        imageBundle(style, kv)
            .describe(
                image(r),
                List.of(Region.mask(mask(r)), Region.mask(other), Region.mask(mask(r))),
                options(c));
    assertMatches(c, got.get(0));
    assertMatches(c, got.get(2));
  }

  @Test
  void streamingEmitsExactlyTheFinalText() throws IOException {
    JsonNode c = golden("nose_small");
    JsonNode region = c.get("regions").get(0);
    StringBuilder streamed = new StringBuilder();
    List<Integer> ids = new ArrayList<>();
    Caption caption =
        imageContrib.describe(
            DescribeRequest.of(image(region), Region.mask(mask(region)))
                .options(options(c))
                .listener(
                    new io.damjava.api.CaptionListener() {
                      @Override
                      public void onText(String delta) {
                        streamed.append(delta);
                      }

                      @Override
                      public void onToken(int tokenId) {
                        ids.add(tokenId);
                      }
                    }));
    assertMatches(c, caption);
    assertEquals(caption.text(), streamed.toString().strip());
    assertArrayEquals(caption.tokenIds(), ids.stream().mapToInt(Integer::intValue).toArray());
  }

  /** The README's Java example, verbatim apart from the paths. */
  @Test
  void readmeExampleRuns() {
    Path bundle = tmp.resolve("tiny-image-" + Style.CONTRIB);
    Path photo = REPO.resolve("tools/reference/fixtures/images/chelsea.png");
    Path maskPng = REPO.resolve("tools/reference/goldens/inputs/mask_left_eye.png");
    try (DescribeAnything dam =
        DescribeAnything.builder()
            .model(bundle) // a bundle written by `dam convert`
            .build()) { // CPU by default; .device(Device.cuda(0)) opts in to CUDA
      Caption caption = dam.describe(DamImage.read(photo), Mask.read(maskPng));
      assertTrue(caption.tokenCount() > 0 && caption.tokenCount() <= 512, caption.toString());
      assertTrue(caption.timings().total().toNanos() > 0);
    }
  }
}

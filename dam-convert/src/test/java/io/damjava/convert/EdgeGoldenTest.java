package io.damjava.convert;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import io.damjava.api.Caption;
import io.damjava.api.DamImage;
import io.damjava.api.DescribeAnything;
import io.damjava.api.DescribeRequest;
import io.damjava.api.GenerationOptions;
import io.damjava.api.Mask;
import io.damjava.api.Region;
import io.damjava.onnx.bundle.BundleManifest;
import io.damjava.onnx.bundle.BundleManifest.Style;
import io.damjava.onnx.bundle.ManifestIo;
import java.io.IOException;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The tiny-edge checkpoint (tools/reference/goldens/edges.json): grouped-query attention (4 heads
 * over 2 key-value heads), a vocab_size padded 8 rows beyond the tokenizer (rows 10x louder, so
 * keeping them changes the tokens, which make_goldens.py asserts), and generation_config.json top_k
 * 3. Converted in both graph styles, it must give the reference's tokens exactly: greedy, and
 * sampled with no top-k in the options, where the model's top_k applies as in transformers.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EdgeGoldenTest {
  private static final Path REPO = Goldens.REF.getParent().getParent();
  private final Map<Style, DescribeAnything> dams = new EnumMap<>(Style.class);
  private final Map<Style, Path> bundles = new EnumMap<>(Style.class);

  @BeforeAll
  void convert(@TempDir Path tmp) {
    for (Style s : Style.values()) {
      Path out = tmp.resolve("edge-" + s);
      Converter.run(ConvertOptions.of(Goldens.checkpoint("tiny-edge"), out).withStyle(s));
      bundles.put(s, out);
      dams.put(s, DescribeAnything.builder().model(out).threads(1).build());
    }
  }

  @AfterAll
  void close() {
    dams.values().forEach(DescribeAnything::close);
  }

  private static JsonNode edgeCase(String name) throws IOException {
    for (JsonNode c : Goldens.edges().get("cases")) {
      if (c.get("name").asText().equals(name)) {
        return c;
      }
    }
    throw new AssertionError("no edge case " + name);
  }

  private static Caption describe(DescribeAnything dam, JsonNode c, GenerationOptions o) {
    JsonNode r = c.get("regions").get(0);
    return dam.describe(
        DescribeRequest.of(
                DamImage.read(REPO.resolve(r.get("image").asText())),
                Region.mask(Mask.read(REPO.resolve(r.get("mask").asText()))))
            .options(o));
  }

  private static int[] tokens(JsonNode c) {
    int[] t = new int[c.get("tokens").size()];
    for (int i = 0; i < t.length; i++) {
      t[i] = c.get("tokens").get(i).asInt();
    }
    return t;
  }

  @Test
  void bundleCarriesTheKvHeadsTheTokenizersVocabAndTheModelTopK() {
    for (Path b : bundles.values()) {
      BundleManifest m = ManifestIo.read(b);
      assertEquals(2, m.dims().kvHeads());
      assertEquals(4, m.dims().heads());
      assertEquals(512, m.dims().vocabSize(), "padded rows dropped");
      assertEquals(3, m.generation().topK());
    }
  }

  @ParameterizedTest
  @EnumSource(Style.class)
  void greedyGqaWithPaddedVocabEqualsTheReference(Style style) throws IOException {
    JsonNode c = edgeCase("edge_gqa_padded_greedy");
    Caption got =
        describe(
            dams.get(style),
            c,
            GenerationOptions.builder()
                .temperature(0)
                .maxNewTokens(c.get("tokens").size())
                .build());
    assertArrayEquals(tokens(c), got.tokenIds(), style + ": tokens differ from the reference");
    assertEquals(c.get("text").asText().strip(), got.text());
  }

  @ParameterizedTest
  @EnumSource(Style.class)
  void samplingWithoutTopKAppliesTheModelsTopK(Style style) throws IOException {
    JsonNode c = edgeCase("edge_model_top_k_sampled");
    JsonNode s = c.get("sampling");
    assertEquals(3, c.get("model_top_k").asInt());
    GenerationOptions o =
        GenerationOptions.builder()
            .temperature(s.get("temperature").asDouble())
            .topP(s.get("top_p").asDouble())
            .seed(s.get("seed").asLong())
            .maxNewTokens(c.get("tokens").size())
            .build();
    assertEquals(GenerationOptions.MODEL_TOP_K, o.topK());
    assertArrayEquals(tokens(c), describe(dams.get(style), c, o).tokenIds(), style.toString());
    // an explicit top-k wins over the model's, as a generate(top_k=...) argument does
    int[] noTopK = describe(dams.get(style), c, o.toBuilder().topK(0).build()).tokenIds();
    org.junit.jupiter.api.Assertions.assertFalse(
        java.util.Arrays.equals(tokens(c), noTopK), "top_k 0 must change these tokens");
  }
}

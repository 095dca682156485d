package io.damjava.onnx.bundle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.damjava.api.InvalidBundleException;
import io.damjava.onnx.bundle.BundleManifest.GraphSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ManifestIoTest {
  private static final String SHA = "0".repeat(64);

  static BundleManifest sample() {
    List<BundleManifest.FileEntry> files = new ArrayList<>();
    for (String f :
        List.of(
            "vision_context.onnx",
            "vision_focal.onnx",
            "projector.onnx",
            "embed_tokens.onnx",
            "decoder.onnx",
            "tokenizer.model")) {
      files.add(new BundleManifest.FileEntry(f, 1, SHA));
    }
    return new BundleManifest(
        1,
        "DAM-3B",
        BundleManifest.Variant.IMAGE,
        BundleManifest.Precision.FP32,
        BundleManifest.Style.CONTRIB,
        new BundleManifest.Dims(
            384, 14, 729, 1152, 196, 2560, 32, 20, 20, 128, 32000, 4096, "float32"),
        new BundleManifest.Preprocess(
            List.of(0.5, 0.5, 0.5), List.of(0.5, 0.5, 0.5), "bicubic", 3, 48, "resize"),
        new BundleManifest.Prompt("v1", "Describe the masked region in detail.", "", -200),
        new BundleManifest.Tokens(1, 2, 0),
        new BundleManifest.Generation(0.2, 0.5, 50, 512),
        "tokenizer.model",
        new BundleManifest.Graphs(
            new GraphSpec(
                "vision_context.onnx",
                Map.of("pixels", "pixel_values"),
                Map.of("features", "context_features")),
            new GraphSpec(
                "vision_focal.onnx",
                Map.of("pixels", "pixel_values", "context", "context_features"),
                Map.of("features", "focal_features")),
            new GraphSpec(
                "projector.onnx",
                Map.of("features", "image_features"),
                Map.of("embeds", "image_embeds")),
            new GraphSpec(
                "embed_tokens.onnx", Map.of("ids", "input_ids"), Map.of("embeds", "inputs_embeds")),
            new GraphSpec(
                "decoder.onnx",
                Map.of(
                    "embeds",
                    "inputs_embeds",
                    "attentionMask",
                    "attention_mask",
                    "positionIds",
                    "position_ids",
                    "pastKey",
                    "past_key_values.%d.key",
                    "pastValue",
                    "past_key_values.%d.value"),
                Map.of(
                    "logits",
                    "logits",
                    "presentKey",
                    "present.%d.key",
                    "presentValue",
                    "present.%d.value"))),
        files);
  }

  @Test
  void roundTripsThroughJsonWithStableBytes(@TempDir Path dir) throws Exception {
    BundleManifest m = sample();
    ManifestIo.write(dir, m);
    BundleManifest back = ManifestIo.read(dir);
    assertEquals(m, back);
    assertEquals(ManifestIo.toJson(m), ManifestIo.toJson(back));
    assertTrue(ManifestIo.toJson(m).contains("\"variant\" : \"image\""));
    assertEquals("past_key_values.%d.key", back.graphs().decoder().input("pastKey"));
  }

  private static void fails(String json, String expected) {
    InvalidBundleException e =
        assertThrows(InvalidBundleException.class, () -> ManifestIo.parse(json));
    assertTrue(
        e.getMessage().contains(expected),
        "message '" + e.getMessage() + "' lacks '" + expected + "'");
  }

  @Test
  void kvCacheIsOptionalDefaultsToGrowingAndIsWrittenOnlyWhenShared() {
    String plain = ManifestIo.toJson(sample());
    assertFalse(plain.contains("kvCache"), "the default is not written");
    assertEquals(BundleManifest.KvCache.GROWING, ManifestIo.parse(plain).dims().kvCache());
    String shared =
        plain.replace(
            "\"kvDtype\" : \"float32\"", "\"kvDtype\" : \"float32\", \"kvCache\" : \"shared\"");
    BundleManifest m = ManifestIo.parse(shared);
    assertEquals(BundleManifest.KvCache.SHARED, m.dims().kvCache());
    assertTrue(ManifestIo.toJson(m).contains("\"kvCache\" : \"shared\""));
    assertEquals(m, ManifestIo.parse(ManifestIo.toJson(m)));
    BundleManifest explicit =
        ManifestIo.parse(shared.replace("\"kvCache\" : \"shared\"", "\"kvCache\" : \"growing\""));
    assertEquals(ManifestIo.parse(plain), explicit);
    fails(shared.replace("\"shared\"", "\"paged\""), "$.dims.kvCache");
    fails(shared.replace("\"shared\"", "null"), "kvCache");
    fails(
        shared.replace("\"style\" : \"contrib\"", "\"style\" : \"standard\""),
        "dims.kvCache = shared: needs style contrib");
  }

  @Test
  void prefillGraphIsOptionalAndWrittenOnlyWhenPresent() {
    BundleManifest plain = sample();
    String json = ManifestIo.toJson(plain);
    assertFalse(json.contains("prefill"), "absent is not written");
    BundleManifest read = ManifestIo.parse(json);
    assertEquals(null, read.graphs().prefill());
    assertFalse(read.graphs().all().containsKey("prefill"));
    BundleManifest.GraphSpec d = plain.graphs().decoder();
    BundleManifest.Graphs g = plain.graphs();
    BundleManifest.GraphSpec pre =
        new BundleManifest.GraphSpec("decoder_prefill.onnx", d.inputs(), d.outputs());
    String with =
        json.replace(
            "\"path\" : \"decoder.onnx\"",
            "\"path\" : \"decoder_prefill.onnx\", \"bytes\" : 1, \"sha256\" : \""
                + SHA
                + "\" }, { \"path\" : \"decoder.onnx\"");
    BundleManifest m =
        ManifestIo.parse(
            with.replace(
                "\"graphs\" : {",
                "\"graphs\" : { \"prefill\" : " + ManifestIo.json(pre).trim() + ","));
    assertEquals(pre, m.graphs().prefill());
    assertEquals(pre, m.graphs().all().get("prefill"));
    assertEquals(m, ManifestIo.parse(ManifestIo.toJson(m)));
    // a prefill graph is a graph: its file must be checksummed too
    RuntimeException e =
        assertThrows(
            RuntimeException.class,
            () ->
                new BundleManifest(
                    m.formatVersion(),
                    m.modelName(),
                    m.variant(),
                    m.precision(),
                    m.style(),
                    m.dims(),
                    m.preprocess(),
                    m.prompt(),
                    m.tokens(),
                    m.generation(),
                    m.tokenizer(),
                    new BundleManifest.Graphs(
                        g.visionContext(),
                        g.visionFocal(),
                        g.projector(),
                        g.embedTokens(),
                        g.decoder(),
                        pre),
                    plain.files()));
    assertTrue(
        e.getMessage().contains("decoder_prefill.onnx: the graph file is not listed"),
        e.getMessage());
  }

  @Test
  void unknownFieldIsAnErrorNamingItsPath() {
    String json = ManifestIo.toJson(sample()).replace("\"heads\" :", "\"hedas\" : 1, \"heads\" :");
    fails(json, "$.dims.hedas");
  }

  @Test
  void missingFieldIsAnErrorNamingItsPath() {
    String json = ManifestIo.toJson(sample()).replaceFirst("\"minBox\" : 48,", "");
    fails(json, "minBox");
  }

  @Test
  void inconsistentDimsAreRefusedWithBothValues() {
    String json =
        ManifestIo.toJson(sample()).replace("\"visionTokens\" : 729", "\"visionTokens\" : 728");
    fails(json, "dims.visionTokens = 728: expected floor(imageSize/patchSize)^2 = 729");
  }

  @Test
  void wrongFormatVersionAndBadEnumsAreRefused() {
    fails(
        ManifestIo.toJson(sample()).replace("\"formatVersion\" : 1", "\"formatVersion\" : 2"),
        "formatVersion = 2");
    fails(ManifestIo.toJson(sample()).replace("\"fp32\"", "\"fp64\""), "$.precision");
  }

  @Test
  void graphFilesMustBeChecksummed() {
    String json =
        ManifestIo.toJson(sample())
            .replace("\"path\" : \"decoder.onnx\"", "\"path\" : \"other.onnx\"");
    fails(json, "decoder.onnx: the graph file is not listed with a checksum");
  }

  @Test
  void pathsMustStayInsideTheBundle() {
    String json =
        ManifestIo.toJson(sample())
            .replace("\"path\" : \"tokenizer.model\"", "\"path\" : \"../etc/passwd\"");
    fails(json, "must be a plain relative path");
  }

  @Test
  void missingRoleIsNamed() {
    InvalidBundleException e =
        assertThrows(
            InvalidBundleException.class, () -> sample().graphs().projector().input("pixels"));
    assertTrue(e.getMessage().contains("missing role 'pixels'"), e.getMessage());
  }

  @Test
  void notJsonAndMissingFileAreClear(@TempDir Path dir) {
    fails("{", "not valid JSON");
    InvalidBundleException e =
        assertThrows(InvalidBundleException.class, () -> ManifestIo.read(dir));
    assertTrue(e.getMessage().contains("dam-bundle.json does not exist"), e.getMessage());
  }
}

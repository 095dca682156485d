package io.damjava.convert;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.damjava.onnx.bundle.BundleManifest;
import io.damjava.onnx.bundle.ManifestIo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every config field the official code reads that we do not model is refused with a message naming
 * the field and its value; the ones we implement change the bundle. Each case is a copy of the tiny
 * checkpoint with one config.json field edited.
 */
class ConfigFieldsTest {
  private static final ObjectMapper OM = new ObjectMapper();

  @TempDir Path tmp;

  /** One edit: file, field, new value (JSON), or {@code null} to remove the field. */
  record Edit(String file, String field, String json) {}

  Path copy(String name) throws IOException {
    Path src = Goldens.checkpoint("tiny-image");
    Path dst = tmp.resolve(name);
    try (Stream<Path> s = Files.walk(src)) {
      for (Path p : s.toList()) {
        Path t = dst.resolve(src.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(t);
        } else {
          Files.copy(p, t);
        }
      }
    }
    return dst;
  }

  static void edit(Path ckpt, Edit e) throws IOException {
    Path f = ckpt.resolve(e.file());
    ObjectNode n =
        Files.isRegularFile(f) ? (ObjectNode) OM.readTree(f.toFile()) : OM.createObjectNode();
    if (e.json() == null) {
      n.remove(e.field());
    } else {
      JsonNode v = OM.readTree(e.json());
      n.set(e.field(), v);
    }
    Files.writeString(f, OM.writerWithDefaultPrettyPrinter().writeValueAsString(n));
  }

  static final List<Edit> REFUSED =
      List.of(
          new Edit("context_provider/config.json", "masked_cross_attn", "true"),
          new Edit("context_provider/config.json", "context_image_as_queries", "true"),
          new Edit("context_provider/config.json", "treat_image_as_cimage", "true"),
          new Edit("context_provider/config.json", "context_provider_layer_indices", "[0,1,2]"),
          new Edit("context_provider/config.json", "num_hidden_layers", "2"),
          new Edit("context_provider/config.json", "context_provider_type", "\"concat\""),
          new Edit("context_provider/config.json", "hidden_size", "48"),
          new Edit("vision_tower/config.json", "num_mask_channels", "0"),
          new Edit("vision_tower/config.json", "num_channels", "4"),
          new Edit("config.json", "mm_vision_select_feature", "\"patch\""),
          new Edit("config.json", "mm_vision_select_feature", null),
          new Edit("config.json", "mm_vision_select_layer", null),
          new Edit("config.json", "mm_vision_select_layer", "-5"),
          new Edit("config.json", "mask_encoder_cfg", "{\"mask_encoder_type\":\"x\"}"),
          new Edit("config.json", "image_aspect_ratio", "\"pad\""),
          new Edit("mm_projector/config.json", "mm_projector_type", "\"mlp2x_gelu\""),
          new Edit("llm/config.json", "rope_scaling", "{\"type\":\"linear\",\"factor\":2.0}"),
          new Edit("llm/config.json", "model_type", "\"mistral\""),
          new Edit("llm/config.json", "hidden_act", "\"gelu\""),
          new Edit("llm/config.json", "attention_bias", "true"),
          new Edit("llm/config.json", "mlp_bias", "true"),
          new Edit("llm/config.json", "rope_theta", "0"),
          new Edit("llm/config.json", "rms_norm_eps", "0"),
          new Edit("llm/config.json", "num_key_value_heads", "3"),
          new Edit("llm/generation_config.json", "repetition_penalty", "1.2"),
          new Edit("llm/generation_config.json", "no_repeat_ngram_size", "3"),
          new Edit("llm/generation_config.json", "suppress_tokens", "[5]"),
          new Edit("llm/generation_config.json", "typical_p", "0.9"),
          new Edit("llm/generation_config.json", "min_p", "0.05"),
          new Edit("llm/generation_config.json", "eos_token_id", "[2, 3]"),
          new Edit("llm/generation_config.json", "top_k", "-1"));

  @Test
  void everyRefusedValueNamesItsFieldAndValue() throws Exception {
    int i = 0;
    for (Edit e : REFUSED) {
      Path c = copy("c" + i++);
      edit(c, e);
      CheckpointException x = assertThrows(CheckpointException.class, () -> open(c), e.toString());
      String m = x.getMessage();
      String field =
          e.field().equals("mm_vision_select_layer") && e.json() != null
              ? "mm_vision_select_layer -5" // the range check names it with the value
              : e.field();
      assertTrue(m.contains(field), e + " -> " + m);
      assertTrue(m.contains(e.file()), e + " -> " + m);
      if (e.json() != null && !e.json().startsWith("{") && !e.field().equals("eos_token_id")) {
        String shown = e.json().replace("\"", "");
        assertTrue(
            m.contains(shown) || m.contains(shown.replace(" ", "")) || m.contains(shown + ".0"),
            e + " -> " + m);
      } else if (e.json() == null) {
        assertTrue(m.contains("(absent)"), e + " -> " + m);
      }
    }
  }

  static void open(Path c) {
    try (Checkpoint ck = Checkpoint.open(c)) {
      ck.visionBlocks();
    }
  }

  @Test
  void vocabSizeBelowTheTokenizerIsRefusedNamingBothSizes() throws Exception {
    Path c = copy("small-vocab");
    TestSafetensors.keepRows(
        c.resolve("llm/model.safetensors"),
        java.util.Map.of("model.embed_tokens.weight", 500, "lm_head.weight", 500));
    edit(c, new Edit("llm/config.json", "vocab_size", "500"));
    CheckpointException x = assertThrows(CheckpointException.class, () -> open(c));
    String m = x.getMessage();
    assertTrue(m.contains("llm/config.json: vocab_size = 500"), m);
    assertTrue(m.contains("tokenizer's 512 tokens"), m);
    assertTrue(m.contains("12 randomly initialised"), m);
  }

  @Test
  void paddedVocabKeepsTheTokenizersRows() throws Exception {
    // tiny-edge: vocab_size 520 over the 512-piece tokenizer; its golden test (EdgeGoldenTest)
    // shows the tokens equal the reference's, which drops the 8 padded rows as the official does
    try (Checkpoint ck = Checkpoint.open(Goldens.checkpoint("tiny-edge"))) {
      assertEquals(512, ck.llm().vocab());
      assertEquals(64 * 512, ck.llmTensors().get("lm_head.weight", 512, 64).length);
      assertEquals(64 * 512, ck.llmTensors().get("model.embed_tokens.weight", 512, 64).length);
    }
  }

  @Test
  void addedTokensBeyondTheSentencePieceModelAreRefused() throws Exception {
    Path c = copy("added");
    edit(
        c,
        new Edit(
            "llm/tokenizer_config.json",
            "added_tokens_decoder",
            "{\"0\":{\"content\":\"<unk>\"},\"512\":{\"content\":\"<image>\"}}"));
    CheckpointException x = assertThrows(CheckpointException.class, () -> open(c));
    assertTrue(x.getMessage().contains("added_tokens_decoder id 512"), x.getMessage());
  }

  @Test
  void neutralValuesAreAccepted() throws Exception {
    Path c = copy("neutral");
    edit(c, new Edit("llm/generation_config.json", "repetition_penalty", "1.0"));
    edit(c, new Edit("llm/generation_config.json", "suppress_tokens", "[]"));
    edit(c, new Edit("llm/generation_config.json", "temperature", "0.9"));
    edit(c, new Edit("llm/generation_config.json", "do_sample", "true"));
    edit(c, new Edit("context_provider/config.json", "num_hidden_layers", "5"));
    edit(c, new Edit("context_provider/config.json", "crop_embedding_mode", "\"replace\""));
    try (Checkpoint ck = Checkpoint.open(c)) {
      assertEquals(50, ck.generation().topK());
      assertEquals(2, ck.visionBlocks());
    }
  }

  @Test
  void generationConfigTopKAndEosReachTheManifest() throws Exception {
    Path c = copy("gen");
    edit(c, new Edit("llm/generation_config.json", "top_k", "7"));
    edit(c, new Edit("llm/generation_config.json", "eos_token_id", "[3]"));
    Path out = tmp.resolve("bundle");
    Converter.run(ConvertOptions.of(c, out));
    BundleManifest m = ManifestIo.read(out);
    assertEquals(7, m.generation().topK());
    assertEquals(3, m.tokens().eos());
    assertEquals(0.2, m.generation().temperature());
    assertEquals(0.5, m.generation().topP());

    Path d = copy("nogen");
    Files.delete(d.resolve("llm/generation_config.json"));
    Path out2 = tmp.resolve("bundle2");
    Converter.run(ConvertOptions.of(d, out2));
    assertEquals(50, ManifestIo.read(out2).generation().topK());
    assertEquals(2, ManifestIo.read(out2).tokens().eos());
  }

  @Test
  void selectLayerChoosesTheBlockCount() throws Exception {
    Path c = copy("sel");
    edit(c, new Edit("config.json", "mm_vision_select_layer", "-3"));
    try (Checkpoint ck = Checkpoint.open(c)) {
      assertEquals(1, ck.visionBlocks());
    }
    edit(c, new Edit("config.json", "mm_vision_select_layer", "3"));
    try (Checkpoint ck = Checkpoint.open(c)) {
      assertEquals(3, ck.visionBlocks());
    }
  }

  @Test
  void bf16ShardedLlmReadsAsRoundedFloats() throws Exception {
    Path c = copy("bf16");
    Path llm = c.resolve("llm");
    float[] original;
    try (SafetensorsFile f = SafetensorsFile.open(llm.resolve("model.safetensors"))) {
      original = f.read("model.norm.weight");
    }
    TestSafetensors.shard(llm.resolve("model.safetensors"), llm, "BF16");
    Files.delete(llm.resolve("model.safetensors"));
    float[] expected = new float[original.length];
    for (int i = 0; i < original.length; i++) {
      expected[i] = Float.intBitsToFloat(TestSafetensors.bf16(original[i]) << 16);
    }
    boolean someRounded = false;
    for (int i = 0; i < original.length; i++) {
      someRounded |= expected[i] != original[i];
    }
    assertTrue(someRounded, "the f16 fixture has bits bf16 cannot hold");
    try (Checkpoint ck = Checkpoint.open(c)) {
      assertArrayEquals(expected, ck.llmTensors().get("model.norm.weight", original.length));
    }
    Converter.run(ConvertOptions.of(c, tmp.resolve("bf16-bundle")));
    assertTrue(Files.size(tmp.resolve("bf16-bundle/decoder.onnx.data")) > 0);
  }
}

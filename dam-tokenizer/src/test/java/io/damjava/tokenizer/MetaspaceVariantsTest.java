package io.damjava.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The Metaspace pre-tokenizer/decoder variants of Llama-family tokenizer.json files, each checked
 * against DJL on 2,000 generated strings.
 */
class MetaspaceVariantsTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  static final String LLAMA_DECODER =
      "{\"type\":\"Sequence\",\"decoders\":[{\"type\":\"Replace\",\"pattern\":{\"String\":\"\u2581\"},"
          + "\"content\":\" \"},{\"type\":\"ByteFallback\"},{\"type\":\"Fuse\"},{\"type\":\"Strip\","
          + "\"content\":\" \",\"start\":1,\"stop\":0}]}";

  @ParameterizedTest
  @ValueSource(
      strings = {
        // legacy=False fast Llama: no normalizer, Metaspace(first, no split), Llama decoder
        "{\"type\":\"Metaspace\",\"replacement\":\"\u2581\",\"prepend_scheme\":\"first\","
            + "\"split\":false}|LLAMA",
        // older files: add_prefix_space, split by default; Metaspace decoder
        "{\"type\":\"Metaspace\",\"replacement\":\"\u2581\",\"add_prefix_space\":true}|"
            + "{\"type\":\"Metaspace\",\"replacement\":\"\u2581\",\"add_prefix_space\":true}",
        // always prepend, split; Metaspace then ByteFallback and Fuse
        "{\"type\":\"Metaspace\",\"replacement\":\"\u2581\",\"prepend_scheme\":\"always\","
            + "\"split\":true}|{\"type\":\"Sequence\",\"decoders\":[{\"type\":\"Metaspace\","
            + "\"replacement\":\"\u2581\",\"prepend_scheme\":\"always\",\"split\":true},"
            + "{\"type\":\"ByteFallback\"},{\"type\":\"Fuse\"}]}",
        // never prepend
        "{\"type\":\"Metaspace\",\"replacement\":\"\u2581\",\"prepend_scheme\":\"never\","
            + "\"split\":false}|{\"type\":\"Sequence\",\"decoders\":[{\"type\":\"Metaspace\","
            + "\"replacement\":\"\u2581\",\"prepend_scheme\":\"never\",\"split\":false},"
            + "{\"type\":\"ByteFallback\"},{\"type\":\"Fuse\"}]}"
      })
  void agreesWithDjl(String variant) throws Exception {
    assumeTrue(LlamaFixture.available(), LlamaFixture.skipReason());
    String[] parts = variant.split("\\|");
    ObjectNode root = (ObjectNode) MAPPER.readTree(LlamaFixture.tokenizerJson(false));
    root.putNull("normalizer");
    root.set("pre_tokenizer", MAPPER.readTree(parts[0]));
    root.set("decoder", MAPPER.readTree(parts[1].equals("LLAMA") ? LLAMA_DECODER : parts[1]));
    String json = MAPPER.writeValueAsString(root);
    Path file =
        Path.of(
            "target/llama-fixture/metaspace-" + Integer.toHexString(variant.hashCode()) + ".json");
    Files.createDirectories(file.getParent());
    Files.writeString(file, json, StandardCharsets.UTF_8);
    Tokenizer ours = Tokenizer.fromTokenizerJson(json);
    List<String> inputs = DjlDifferentialTest.generate(new Random(variant.hashCode()), 2000);
    try (HuggingFaceTokenizer djl = HuggingFaceTokenizer.newInstance(file)) {
      for (String s : inputs) {
        long[] ids = djl.encode(s, true, false).getIds();
        assertArrayEquals(
            DjlDifferentialTest.toInt(ids),
            ours.encode(s, true),
            () -> DjlDifferentialTest.describe(s));
        for (boolean skip : new boolean[] {true, false}) {
          assertEquals(
              djl.decode(ids, skip),
              ours.decode(DjlDifferentialTest.toInt(ids), skip),
              () -> "decode " + DjlDifferentialTest.describe(s));
        }
      }
    }
  }
}

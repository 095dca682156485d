package io.damjava.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** DAM prompt strings and the legacy=False chunk rule. */
class PromptTest {
  static final String IMAGE_PROMPT =
      "A chat between a curious user and an artificial intelligence assistant. The assistant gives"
          + " helpful, detailed, and polite answers to the user's questions. USER: <image>\n"
          + "Describe the masked region in detail. ASSISTANT:";

  /** tools/reference lives at the repository root; surefire runs in dam-tokenizer/. */
  static final Path REFERENCE = Path.of("../tools/reference");

  @Test
  void templatesProduceTheExactStrings() {
    assertEquals(IMAGE_PROMPT, PromptTemplate.IMAGE.defaultPrompt());
    assertEquals(
        "Image: <image>\nGiven the image above, describe the object in the masked region.",
        PromptTemplate.JOINT_IMAGE.query(PromptTemplate.JOINT_IMAGE.defaultInstruction(), 1));
    assertEquals(
        "Video: <image><image><image><image><image><image><image><image>\nGiven the video in the"
            + " form of a sequence of frames above, describe the object in the masked region in"
            + " the video in detail.",
        PromptTemplate.JOINT_VIDEO.query(PromptTemplate.JOINT_VIDEO.defaultInstruction(), 8));
    assertThrows(IllegalArgumentException.class, () -> PromptTemplate.IMAGE.query("x", 0));
  }

  @Test
  void chunkRuleOnTrainedModels() throws IOException {
    Tokenizer tok = SentencePieceGoldenTest.model("bpe_llama_like");
    PromptBuilder pb = new PromptBuilder(tok);
    // A chunk without literal specials is the add_dummy_prefix encoding plus BOS ...
    assertArrayEquals(tok.encode("the dog ", true), pb.encodeChunk("the dog "));
    assertArrayEquals(tok.encode("\nthe dog", true), pb.encodeChunk("\nthe dog"));
    // ... an empty chunk is BOS only, so consecutive <image> tags contribute nothing else ...
    assertArrayEquals(new int[] {1}, pb.encodeChunk(""));
    assertArrayEquals(new int[] {1, -200, -200}, pb.encodePrompt("<image><image>"));
    // ... and after a literal special token no prefix space is added (legacy=False).
    int[] ids = pb.encodeChunk("dog</s>dog");
    int[] dog = tok.encode("dog", false);
    int[] bare = pb.encodeChunk("dog");
    assertEquals(1, ids[0]);
    assertEquals(2, ids[dog.length + 1]);
    assertEquals(bare.length - 1, dog.length);
    // With remove_extra_whitespaces the unk trick keeps a leading space that plain encode drops.
    Tokenizer rmws = SentencePieceGoldenTest.model("bpe_dummy_rmws");
    PromptBuilder pb2 = new PromptBuilder(rmws);
    assertEquals(rmws.pieceToId("\u2581"), pb2.encodeChunk("\nx")[1]);
  }

  /** Golden prompt ids of the Python reference (tools/reference, sentencepiece + legacy=False). */
  @Test
  void matchesPythonReferenceGoldens() throws IOException {
    Path index = REFERENCE.resolve("goldens/index.json");
    assumeTrue(Files.isRegularFile(index), "no " + index.toAbsolutePath());
    JsonNode root = new ObjectMapper().readTree(index.toFile());
    int checked = 0;
    for (JsonNode c : root.get("cases")) {
      Path checkpoint = REFERENCE.resolve("../..").resolve(c.get("checkpoint").asText());
      Tokenizer tok = Tokenizer.load(checkpoint.resolve("llm/tokenizer.model"));
      JsonNode t = c.get("tensors").get("prompt_ids");
      byte[] raw = Files.readAllBytes(REFERENCE.resolve("goldens").resolve(t.get("file").asText()));
      ByteBuffer bb = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
      int[] expected = new int[raw.length / 8];
      for (int i = 0; i < expected.length; i++) {
        expected[i] = Math.toIntExact(bb.getLong());
      }
      String prompt = c.get("prompt").asText();
      assertEquals(PromptTemplate.conversationV1(c.get("query").asText()), prompt);
      assertArrayEquals(
          expected, new PromptBuilder(tok).encodePrompt(prompt), c.get("name").asText());
      // generated tokens decode to the reference text (which drops ids 0..2, then strips)
      int[] generated =
          java.util.stream.StreamSupport.stream(c.get("tokens").spliterator(), false)
              .mapToInt(JsonNode::asInt)
              .filter(id -> id > 2)
              .toArray();
      assertEquals(
          c.get("text").asText(), tok.decode(generated, true).strip(), c.get("name").asText());
      checked++;
    }
    assertEquals(root.get("cases").size(), checked);
  }
}

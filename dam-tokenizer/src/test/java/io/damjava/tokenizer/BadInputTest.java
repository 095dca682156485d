package io.damjava.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Malformed input: a clear exception or the documented replacement, never a hang. */
class BadInputTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  static Tokenizer llamaLike() throws IOException {
    return SentencePieceGoldenTest.model("bpe_llama_like");
  }

  /** A tiny tokenizer.json with byte fallback: vocab <unk> <s> </s>, 256 bytes, a, b, ab, ▁, ▁a. */
  static ObjectNode tinyJson() throws IOException {
    StringBuilder vocab = new StringBuilder("{\"<unk>\":0,\"<s>\":1,\"</s>\":2");
    for (int b = 0; b < 256; b++) {
      vocab.append(String.format(",\"<0x%02X>\":%d", b, 3 + b));
    }
    vocab.append(",\"a\":259,\"b\":260,\"ab\":261,\"\u2581\":262,\"\u2581a\":263}");
    String json =
        "{\"added_tokens\":[{\"id\":0,\"content\":\"<unk>\",\"special\":true},"
            + "{\"id\":1,\"content\":\"<s>\",\"special\":true},"
            + "{\"id\":2,\"content\":\"</s>\",\"special\":true}],"
            + "\"normalizer\":{\"type\":\"Sequence\",\"normalizers\":[{\"type\":\"Prepend\","
            + "\"prepend\":\"\u2581\"},{\"type\":\"Replace\",\"pattern\":{\"String\":\" \"},"
            + "\"content\":\"\u2581\"}]},\"pre_tokenizer\":null,"
            + "\"post_processor\":{\"type\":\"TemplateProcessing\",\"single\":[{\"SpecialToken\":"
            + "{\"id\":\"<s>\",\"type_id\":0}},{\"Sequence\":{\"id\":\"A\",\"type_id\":0}}],"
            + "\"special_tokens\":{\"<s>\":{\"id\":\"<s>\",\"ids\":[1],\"tokens\":[\"<s>\"]}}},"
            + "\"decoder\":{\"type\":\"Sequence\",\"decoders\":[{\"type\":\"Replace\",\"pattern\":"
            + "{\"String\":\"\u2581\"},\"content\":\" \"},{\"type\":\"ByteFallback\"},{\"type\":"
            + "\"Fuse\"},{\"type\":\"Strip\",\"content\":\" \",\"start\":1,\"stop\":0}]},"
            + "\"model\":{\"type\":\"BPE\",\"unk_token\":\"<unk>\",\"fuse_unk\":true,"
            + "\"byte_fallback\":true,\"vocab\":"
            + vocab
            + ",\"merges\":[\"a b\",[\"\u2581\",\"a\"]]}}";
    return (ObjectNode) MAPPER.readTree(json);
  }

  @Test
  void tinyJsonWorks() throws IOException {
    Tokenizer t = Tokenizer.fromTokenizerJson(tinyJson().toString());
    // rank 0 ("a b") wins over rank 1 ("▁ a"), so "▁a" is never formed here
    assertArrayEquals(new int[] {1, 262, 261, 262, 3 + (int) 'c'}, t.encode("ab c", true));
    assertEquals("ab c", t.decode(t.encode("ab c", true), true));
  }

  @Test
  void loneSurrogatesAreEncodedAsReplacementCharacter() throws IOException {
    Tokenizer sp = llamaLike();
    Tokenizer hf = Tokenizer.fromTokenizerJson(tinyJson().toString());
    for (Tokenizer t : new Tokenizer[] {sp, hf}) {
      assertArrayEquals(t.encode("a\uFFFDb", true), t.encode("a\uD800b", true));
      assertArrayEquals(t.encode("a\uFFFD", true), t.encode("a\uDC00", true));
      assertArrayEquals(t.encode("\uFFFD\uFFFD", true), t.encode("\uDC00\uD800", true));
      assertArrayEquals(t.encode("x\uFFFD", true), t.encode("x\uD83D", true)); // cut emoji
    }
  }

  @Test
  void megabyteStringsFinish() throws IOException {
    Tokenizer sp = llamaLike();
    Random r = new Random(1);
    StringBuilder sb = new StringBuilder();
    String[] words = {"the ", "dog ", "日本語 ", "🦙", "  ", "\t", "qzx ", "café "};
    while (sb.length() < 1_000_000) {
      sb.append(words[r.nextInt(words.length)]);
    }
    String s = sb.toString();
    assertEquals(s, sp.decode(sp.encode(s, true), true));
    String same = "a".repeat(1_000_000); // one long symbol run
    assertTrue(sp.encode(same, false).length > 0);
    Tokenizer hf = Tokenizer.fromTokenizerJson(tinyJson().toString());
    assertEquals(500_001, hf.encode("ab".repeat(500_000), false).length);
  }

  @Test
  void outOfRangeIdsThrow() throws IOException {
    for (Tokenizer t :
        new Tokenizer[] {llamaLike(), Tokenizer.fromTokenizerJson(tinyJson().toString())}) {
      assertThrows(IllegalArgumentException.class, () -> t.decode(new int[] {5, -1}, true));
      assertThrows(
          IllegalArgumentException.class, () -> t.decode(new int[] {t.vocabSize()}, false));
      assertThrows(IllegalArgumentException.class, () -> t.idToPiece(-200));
      IncrementalDetokenizer d = new IncrementalDetokenizer(t);
      assertThrows(IllegalArgumentException.class, () -> d.accept(Integer.MAX_VALUE));
    }
  }

  @Test
  void truncatedModelsFailClearly() throws IOException {
    byte[] model = SentencePieceGoldenTest.resource("bpe_llama_like.model");
    int failures = 0;
    for (int len = 0; len < model.length; len += 97) {
      byte[] cut = Arrays.copyOf(model, len);
      try {
        Tokenizer.fromSentencePieceModel(cut);
      } catch (TokenizerFormatException e) {
        failures++;
        assertTrue(e.getMessage().startsWith("tokenizer.model"), e.getMessage());
      }
    }
    assertTrue(failures > 0);
    TokenizerFormatException e =
        assertThrows(
            TokenizerFormatException.class,
            () -> Tokenizer.fromSentencePieceModel(Arrays.copyOf(model, model.length - 3)));
    assertTrue(e.getMessage().contains("truncated") || e.getMessage().contains("past the end"));
    byte[] garbage = new byte[4096];
    new Random(3).nextBytes(garbage);
    assertThrows(TokenizerFormatException.class, () -> Tokenizer.fromSentencePieceModel(garbage));
    assertThrows(
        TokenizerFormatException.class, () -> Tokenizer.fromSentencePieceModel(new byte[0]));
  }

  @Test
  void unigramIsRejected() throws IOException {
    TokenizerFormatException e =
        assertThrows(
            TokenizerFormatException.class,
            () ->
                Tokenizer.fromSentencePieceModel(
                    SentencePieceGoldenTest.resource("unigram.model")));
    assertTrue(e.getMessage().contains("UNIGRAM"), e.getMessage());
    assertTrue(e.getMessage().contains("only BPE"), e.getMessage());
  }

  @Test
  void nfkcNormalizerIsRejected() throws IOException {
    // Appending a second normalizer_spec (field 3) merges into the first, as protobuf does.
    ByteArrayOutputStream spec = new ByteArrayOutputStream();
    byte[] name = "nmt_nfkc".getBytes(StandardCharsets.UTF_8);
    spec.write(1 << 3 | 2);
    spec.write(name.length);
    spec.write(name, 0, name.length);
    spec.write(2 << 3 | 2);
    spec.write(2);
    spec.write(new byte[] {1, 2}, 0, 2);
    ByteArrayOutputStream model = new ByteArrayOutputStream();
    model.write(SentencePieceGoldenTest.resource("bpe_llama_like.model"));
    model.write(3 << 3 | 2);
    model.write(spec.size());
    model.write(spec.toByteArray());
    TokenizerFormatException e =
        assertThrows(
            TokenizerFormatException.class,
            () -> Tokenizer.fromSentencePieceModel(model.toByteArray()));
    assertTrue(e.getMessage().contains("nmt_nfkc"), e.getMessage());
  }

  @Test
  void missingJsonFieldsNameTheirPath() throws IOException {
    assertJsonError(j -> j.remove("model"), "$.model");
    assertJsonError(j -> ((ObjectNode) j.get("model")).remove("vocab"), "$.model.vocab");
    assertJsonError(j -> ((ObjectNode) j.get("model")).remove("merges"), "$.model.merges");
    assertJsonError(j -> ((ObjectNode) j.get("model")).put("type", "Unigram"), "only BPE");
    assertJsonError(j -> j.remove("decoder"), "$.decoder");
    assertJsonError(
        j -> ((ObjectNode) j.withArray("added_tokens").get(1)).remove("id"),
        "$.added_tokens[1].id");
    assertJsonError(
        j -> ((ObjectNode) j.get("post_processor")).remove("special_tokens"),
        "$.post_processor.special_tokens");
    assertJsonError(
        j -> ((ObjectNode) j.get("model")).withArray("merges").add("a zzz"), "$.model.merges[2]");
    assertJsonError(
        j -> ((ObjectNode) j.get("normalizer")).put("type", "NFKC"), "$.normalizer.type");
    TokenizerFormatException e =
        assertThrows(TokenizerFormatException.class, () -> Tokenizer.fromTokenizerJson("{\"mo"));
    assertTrue(e.getMessage().contains("not valid JSON"));
  }

  interface Edit {
    void apply(ObjectNode json);
  }

  static void assertJsonError(Edit edit, String expected) throws IOException {
    ObjectNode json = tinyJson();
    edit.apply(json);
    TokenizerFormatException e =
        assertThrows(
            TokenizerFormatException.class, () -> Tokenizer.fromTokenizerJson(json.toString()));
    assertTrue(e.getMessage().contains(expected), () -> e.getMessage() + " lacks " + expected);
  }
}

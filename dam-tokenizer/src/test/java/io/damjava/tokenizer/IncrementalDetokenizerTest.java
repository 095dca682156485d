package io.damjava.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Streaming decode: whole code points only, and the pieces always add up to the full decode. */
class IncrementalDetokenizerTest {

  static List<Tokenizer> tokenizers() throws IOException {
    List<Tokenizer> list = new ArrayList<>();
    list.add(SentencePieceGoldenTest.model("bpe_llama_like"));
    list.add(SentencePieceGoldenTest.model("bpe_nodummy_rmws"));
    list.add(SentencePieceGoldenTest.model("bpe_dummy_rmws"));
    list.add(Tokenizer.fromTokenizerJson(BadInputTest.tinyJson().toString()));
    if (LlamaFixture.available()) {
      list.add(Tokenizer.load(LlamaFixture.tokenizerJsonPath()));
    }
    return list;
  }

  /** Streams ids, checking that every emitted chunk is whole code points; returns the text. */
  static String stream(Tokenizer t, int[] ids) {
    IncrementalDetokenizer d = new IncrementalDetokenizer(t);
    StringBuilder all = new StringBuilder();
    for (int id : ids) {
      String piece = d.accept(id);
      assertWhole(piece);
      all.append(piece);
    }
    String tail = d.finish();
    assertWhole(tail);
    return all.append(tail).toString();
  }

  static void assertWhole(String s) {
    if (!s.isEmpty()) {
      assertTrue(!Character.isLowSurrogate(s.charAt(0)), "starts inside a surrogate pair");
      assertTrue(
          !Character.isHighSurrogate(s.charAt(s.length() - 1)), "ends inside a surrogate pair");
    }
  }

  @Test
  void emojiCjkAndTextStreamLikeTheFullDecode() throws IOException {
    String[] texts = {
      "日本語 🦙",
      "  two leading",
      "👩\u200d👩\u200d👧 family",
      "café e\u0301",
      "\n\nnewlines\t",
      "𝔘𝔫𝔦",
      "A brown dog sitting on grass."
    };
    for (Tokenizer t : tokenizers()) {
      for (String text : texts) {
        int[] ids = t.encode(text, true);
        assertEquals(t.decode(ids, true), stream(t, ids), text);
      }
    }
  }

  @Test
  void byteFallbackIsHeldUntilTheCharacterIsComplete() throws IOException {
    Tokenizer t = SentencePieceGoldenTest.model("bpe_llama_like");
    int e2 = t.pieceToId("<0xE2>");
    int x82 = t.pieceToId("<0x82>");
    int xac = t.pieceToId("<0xAC>");
    IncrementalDetokenizer d = new IncrementalDetokenizer(t);
    assertEquals("", d.accept(e2));
    assertEquals("", d.accept(x82));
    assertEquals("\u20ac", d.accept(xac)); // €
    // cut mid-character: the stream ends (or a normal piece arrives) after two of three bytes
    d.reset();
    assertEquals("", d.accept(e2));
    assertEquals("", d.accept(x82));
    assertEquals("\uFFFD\uFFFD", d.finish());
    assertEquals("\uFFFD\uFFFD", t.decode(new int[] {e2, x82}, true));
  }

  @Test
  void huggingFaceInvalidRunBecomesOneReplacementPerByte() throws IOException {
    Tokenizer t = Tokenizer.fromTokenizerJson(BadInputTest.tinyJson().toString());
    int[] ids = {3 + 0xE6, 3 + 0x97, 3 + 0xA5, 3 + 0xFF, 259}; // 日 then a stray 0xFF, then "a"
    assertEquals("\uFFFD\uFFFD\uFFFD\uFFFDa", t.decode(ids, true));
    assertEquals(t.decode(ids, true), stream(t, ids));
    // sentencepiece keeps the valid character and replaces only the bad byte
    Tokenizer sp = SentencePieceGoldenTest.model("bpe_llama_like");
    int[] spIds = {
      sp.pieceToId("<0xE6>"), sp.pieceToId("<0x97>"), sp.pieceToId("<0xA5>"), sp.pieceToId("<0xFF>")
    };
    assertEquals("\u65e5\uFFFD", sp.decode(spIds, true));
    assertEquals(sp.decode(spIds, true), stream(sp, spIds));
  }

  @Test
  void randomIdSequencesConcatenateToTheFullDecode() throws IOException {
    Random r = new Random(42);
    for (Tokenizer t : tokenizers()) {
      int byteBase = t.pieceToId("<0x00>");
      for (int n = 0; n < 1500; n++) {
        int[] ids = new int[r.nextInt(16)];
        for (int k = 0; k < ids.length; k++) {
          ids[k] =
              r.nextInt(3) == 0 && byteBase >= 0
                  ? byteBase + (r.nextBoolean() ? 0xE0 + r.nextInt(0x20) : 0x80 + r.nextInt(0x40))
                  : r.nextInt(t.vocabSize());
        }
        assertEquals(t.decode(ids, true), stream(t, ids), () -> java.util.Arrays.toString(ids));
      }
    }
  }

  @Test
  void leadingSpaceIsStrippedOnceEvenAfterBos() throws IOException {
    for (Tokenizer t : tokenizers()) {
      int[] ids = t.encode("the dog", true);
      IncrementalDetokenizer d = new IncrementalDetokenizer(t);
      StringBuilder sb = new StringBuilder();
      for (int id : ids) {
        d.accept(id, sb);
      }
      assertEquals("the dog", sb.append(d.finish()).toString());
    }
  }
}

package io.damjava.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The real Llama-2 vocabulary through the tokenizer.json path. */
class LlamaVocabularyTest {
  private static Tokenizer llama;

  @BeforeAll
  static void load() throws IOException {
    assumeTrue(LlamaFixture.available(), LlamaFixture.skipReason());
    llama = Tokenizer.load(LlamaFixture.tokenizerJsonPath());
  }

  @Test
  void goldenIds() {
    assertArrayEquals(
        new int[] {1, 15043, 29892, 590, 11203, 338, 274, 1082},
        llama.encode("Hello, my dog is cute", true));
    assertArrayEquals(
        new int[] {1, 319, 17354, 11203, 16246, 373, 17455, 29889},
        llama.encode("A brown dog sitting on grass.", true));
    assertArrayEquals(
        new int[] {1, 29871, 30325, 30346, 30968, 29871, 243, 162, 169, 156},
        llama.encode("日本語 🦙", true));
  }

  @Test
  void decodeRoundTrip() {
    for (String s : new String[] {"Hello, my dog is cute", "日本語 🦙", "a\n\tb  c"}) {
      assertEquals(s, llama.decode(llama.encode(s, true), true));
    }
    assertEquals("<s> Hello", llama.decode(llama.encode("Hello", true), false));
  }

  @Test
  void specialIds() {
    assertEquals(32000, llama.vocabSize());
    assertEquals(1, llama.bosId());
    assertEquals(2, llama.eosId());
    assertEquals(0, llama.unkId());
    assertEquals("<0x0A>", llama.idToPiece(13));
    assertEquals(29871, llama.pieceToId("\u2581"));
  }

  @Test
  void mergesAsArraysGiveTheSameIds() {
    Tokenizer arrays = Tokenizer.fromTokenizerJson(LlamaFixture.tokenizerJson(true));
    String s = "The quick brown fox jumps over the lazy dog. 日本語 🦙 ÿ";
    assertArrayEquals(llama.encode(s, true), arrays.encode(s, true));
  }

  @Test
  void damImagePromptSplicesImageBetweenSpaceAndNewline() {
    int[] ids = new PromptBuilder(llama).build(PromptTemplate.IMAGE, "Describe.", 1);
    // "... USER: " ends with the lone "▁" (29871); the chunk "\nDescribe." starts "▁", "<0x0A>".
    int image = indexOf(ids, PromptTemplate.IMAGE_TOKEN_INDEX);
    assertEquals(1, ids[0]);
    assertEquals(29871, ids[image - 1]);
    assertEquals(29871, ids[image + 1]);
    assertEquals(13, ids[image + 2]);
    int[] system = llama.encode(PromptTemplate.SYSTEM_V1 + " USER:", true);
    for (int i = 0; i < system.length; i++) {
      assertEquals(system[i], ids[i], "system prompt id " + i);
    }
    // Ends with "ASSISTANT:" = ▁ASS IST ANT :
    assertArrayEquals(
        new int[] {319, 1799, 9047, 13566, 29901},
        java.util.Arrays.copyOfRange(ids, ids.length - 5, ids.length));
  }

  @Test
  void videoPromptHasEightConsecutiveImages() {
    int[] ids = new PromptBuilder(llama).build(PromptTemplate.JOINT_VIDEO, "Go.", 8);
    int first = indexOf(ids, -200);
    for (int k = 0; k < 8; k++) {
      assertEquals(-200, ids[first + k]);
    }
    assertTrue(ids[first + 8] != -200);
  }

  @Test
  void megabyteStringFinishes() {
    StringBuilder sb = new StringBuilder();
    java.util.Random r = new java.util.Random(7);
    while (sb.length() < 1_000_000) {
      sb.append("word").append(r.nextInt(1000)).append(r.nextBoolean() ? " " : "日本 ");
    }
    int[] ids = llama.encode(sb.toString(), false);
    assertEquals(sb.toString(), llama.decode(ids, true));
    // a single run with no merges at all
    String xs = "\u0001".repeat(1_000_000);
    assertEquals(1_000_000, llama.encode(xs, false).length - 1);
  }

  static int indexOf(int[] a, int v) {
    for (int i = 0; i < a.length; i++) {
      if (a[i] == v) {
        return i;
      }
    }
    return -1;
  }
}

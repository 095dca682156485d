package io.damjava.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import org.junit.jupiter.api.Test;

/** Merge ranks, and a vocabulary where a merge crosses a space (so text must not be split). */
class MergeOrderTest {

  @Test
  void mergeAcrossSpaceIsHonoured() throws IOException {
    ObjectNode json = BadInputTest.tinyJson();
    ObjectNode model = (ObjectNode) json.get("model");
    ((ObjectNode) model.get("vocab")).put("a\u2581", 264);
    model.withArray("merges").insert(0, "a \u2581"); // rank 0: "a▁" beats "▁a"
    Tokenizer t = Tokenizer.fromTokenizerJson(json.toString());
    // "▁a▁a": a▁ (rank 0) first, then nothing else merges: ▁, a▁, a
    assertArrayEquals(new int[] {262, 264, 259}, t.encode("a a", false));
    // "▁a▁▁a": a▁ first, then ▁ a at the end: ▁, a▁, ▁a
    assertArrayEquals(new int[] {262, 264, 263}, t.encode("a  a", false));
  }

  @Test
  void withoutThatMergeSpacesBoundTheMerges() throws IOException {
    Tokenizer t = Tokenizer.fromTokenizerJson(BadInputTest.tinyJson().toString());
    // "▁ a" is rank 1: ▁a ▁a
    assertArrayEquals(new int[] {263, 263}, t.encode("a a", false));
  }
}

package io.damjava.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The branches of the official parse_pred, one case each. */
class AnswerParserTest {
  private static final List<String> C =
      List.of("The hat is not mentioned.", "The hat is red.", "The hat is red and blue.");

  private static int parse(String answer) {
    return AnswerParser.parse(answer, C, "k", new ArrayList<String>()::add);
  }

  @Test
  void branches() {
    assertEquals(1, parse("  the HAT is red. "), "exact text");
    assertEquals(2, parse("C. The hat is red and blue."), "letter and text");
    assertEquals(0, parse("a"), "lone letter");
    assertEquals(0, parse("I'd say: The hat is not mentioned. Yes"), "one contained choice");
    assertEquals(1, parse("B. something else"), "leading letter and dot");
    // "red." occurs inside both 1 and 2 -> the last occurrence, then the longest.
    assertEquals(2, parse("Maybe The hat is red. or The hat is red and blue."), "last occurrence");
    assertEquals(2, parse("the hat is red and"), "answer inside the longest choice");
    assertEquals(1, parse("b\nbecause"), "letter then newline");
    assertEquals(-1, parse("no idea"), "no match");
    assertEquals(-1, parse(""), "empty");
    assertEquals(-1, parse("e"), "a letter that is no choice");
    assertEquals(
        0, AnswerParser.parse("Yes.", List.of("Yes", "No"), "k", s -> {}), "recognition yes");
  }
}

package io.damjava.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Every id and every decode must agree with Hugging Face tokenizers (through DJL 0.38.0). */
class DjlDifferentialTest {
  static final int COUNT = 10_000;

  @Test
  void agreesWithHuggingFaceTokenizers() throws Exception {
    assumeTrue(LlamaFixture.available(), LlamaFixture.skipReason());
    Tokenizer ours = Tokenizer.load(LlamaFixture.tokenizerJsonPath());
    List<String> inputs = generate(new Random(20250601), COUNT);
    try (HuggingFaceTokenizer djl =
        HuggingFaceTokenizer.newInstance(LlamaFixture.tokenizerJsonPath())) {
      for (String s : inputs) {
        for (boolean special : new boolean[] {true, false}) {
          long[] expected = djl.encode(s, special, false).getIds();
          int[] actual = ours.encode(s, special);
          assertArrayEquals(toInt(expected), actual, () -> "encode " + describe(s));
        }
        long[] ids = djl.encode(s, true, false).getIds();
        for (boolean skip : new boolean[] {true, false}) {
          assertEquals(
              djl.decode(ids, skip), ours.decode(toInt(ids), skip), () -> "decode " + describe(s));
        }
      }
      // decode of arbitrary id sequences (invalid byte runs, ids in odd orders)
      Random r = new Random(99);
      for (int i = 0; i < 2000; i++) {
        long[] ids = new long[r.nextInt(12)];
        for (int k = 0; k < ids.length; k++) {
          ids[k] =
              r.nextInt(4) == 0 ? 3 + r.nextInt(256) : r.nextInt(r.nextBoolean() ? 400 : 32000);
        }
        for (boolean skip : new boolean[] {true, false}) {
          assertEquals(
              djl.decode(ids, skip),
              ours.decode(toInt(ids), skip),
              () -> java.util.Arrays.toString(ids));
        }
      }
    }
  }

  static int[] toInt(long[] a) {
    int[] out = new int[a.length];
    for (int i = 0; i < a.length; i++) {
      out[i] = Math.toIntExact(a[i]);
    }
    return out;
  }

  static String describe(String s) {
    StringBuilder sb = new StringBuilder("\"");
    s.codePoints()
        .forEach(
            cp ->
                sb.append(
                    cp < 0x7f && cp >= 0x20
                        ? Character.toString(cp)
                        : String.format("\\u{%x}", cp)));
    return sb.append('"').toString();
  }

  private static final String[] PIECES = {
    " ",
    "  ",
    "   ",
    "\t",
    "\n",
    "\r\n",
    "\n\n",
    " \n ",
    "\u00a0",
    "\u3000",
    "\u2581",
    "<s>",
    "</s>",
    "<unk>",
    "<s",
    "s>",
    "0",
    "42",
    "2024",
    "3.14",
    "Hello",
    "hello",
    "world",
    ",",
    ".",
    "!",
    "?",
    "'",
    "\"",
    "é",
    "e\u0301",
    "a\u0308\u0301",
    "\u0301",
    "ñ",
    "ß",
    "ﬁ",
    "Ω",
    "日本語",
    "東京",
    "한국어",
    "Привет",
    "שלום",
    "مرحبا",
    "ไทย",
    "😀",
    "🦙",
    "👩\u200d👩\u200d👧\u200d👦",
    "🏳️\u200d🌈",
    "👍🏽",
    "🇯🇵",
    "𝔘𝔫𝔦",
    "\uD840\uDC00",
    "\uDB40\uDC41",
    "\uFFFD",
    "\uFEFF",
    "\uFFFF",
    "\u200b",
    "the",
    "dog",
    "describe",
    "masked",
    "region",
    "ASSISTANT:",
    "USER:",
    "<image>",
    "<0x0A>"
  };

  static List<String> generate(Random r, int n) {
    List<String> out = new ArrayList<>(n);
    out.add("");
    out.add(" ");
    out.add("<s>");
    out.add("</s></s>");
    out.add(" <s> a </s> ");
    while (out.size() < n) {
      StringBuilder sb = new StringBuilder();
      int parts = r.nextInt(8);
      for (int i = 0; i < parts; i++) {
        int k = r.nextInt(10);
        if (k < 6) {
          sb.append(PIECES[r.nextInt(PIECES.length)]);
        } else {
          sb.appendCodePoint(randomCodePoint(r));
        }
        if (r.nextInt(3) == 0) {
          sb.append(' ');
        }
      }
      out.add(sb.toString());
    }
    return out;
  }

  /** A code point from every plane in use, never a surrogate and never NUL. */
  static int randomCodePoint(Random r) {
    while (true) {
      int cp =
          switch (r.nextInt(8)) {
            case 0 -> 0x01 + r.nextInt(0x7f);
            case 1 -> 0x80 + r.nextInt(0x780);
            case 2 -> 0x800 + r.nextInt(0xf800);
            case 3 -> 0x1f300 + r.nextInt(0x700); // emoji
            case 4 -> 0x10000 + r.nextInt(0x10000); // SMP
            case 5 -> 0x20000 + r.nextInt(0x20000); // SIP / TIP
            case 6 -> 0xe0000 + r.nextInt(0x200); // tags, variation selectors
            default -> 0xf0000 + r.nextInt(0x20000); // private use planes 15-16
          };
      if (cp < 0xd800 || cp > 0xdfff) {
        return cp;
      }
    }
  }
}

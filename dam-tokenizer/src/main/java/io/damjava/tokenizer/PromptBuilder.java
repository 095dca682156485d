package io.damjava.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Turns a DAM prompt into input ids the way DAM's {@code tokenizer_image_token} does with the slow
 * {@code LlamaTokenizer(legacy=False)}: the prompt is split on {@code <image>}, every chunk is
 * tokenized with BOS, every chunk after the first loses its first id, and each {@code <image>}
 * becomes {@link PromptTemplate#IMAGE_TOKEN_INDEX}. See docs/tokenizer.md for the per-chunk rule.
 * Immutable and thread-safe.
 */
public final class PromptBuilder {
  private final BpeTokenizerBase tokenizer;
  private final List<Map.Entry<String, Integer>> specials;
  private final int unkLength;
  private final int spaceId;

  /**
   * Creates a builder.
   *
   * @param tokenizer the Llama tokenizer of the checkpoint
   */
  public PromptBuilder(Tokenizer tokenizer) {
    this.tokenizer = (BpeTokenizerBase) tokenizer;
    List<Map.Entry<String, Integer>> list = new ArrayList<>(this.tokenizer.specialTokens());
    // longest first, so that the leftmost match is also the longest (a trie split)
    list.sort((a, b) -> Integer.compare(b.getKey().length(), a.getKey().length()));
    this.specials = List.copyOf(list);
    this.unkLength = this.tokenizer.encodeWithoutPrefix(this.tokenizer.unkPiece()).length;
    this.spaceId = tokenizer.pieceToId(String.valueOf(BpeTokenizerBase.SPACE_SYMBOL));
  }

  /** Returns the ids of {@code template.prompt(instruction, images)}. */
  public int[] build(PromptTemplate template, String instruction, int images) {
    return encodePrompt(template.prompt(instruction, images));
  }

  /**
   * Returns the ids of a whole prompt string: chunks around {@code <image>} tokenized with BOS, BOS
   * dropped from every chunk after the first, -200 for each {@code <image>}.
   */
  public int[] encodePrompt(String prompt) {
    IntList out = new IntList(prompt.length() / 3 + 8);
    int from = 0;
    boolean first = true;
    while (true) {
      int at = prompt.indexOf(PromptTemplate.IMAGE_TAG, from);
      String chunk = at < 0 ? prompt.substring(from) : prompt.substring(from, at);
      int[] ids = encodeChunk(chunk);
      for (int i = first ? 0 : 1; i < ids.length; i++) {
        out.add(ids[i]);
      }
      first = false;
      if (at < 0) {
        break;
      }
      out.add(PromptTemplate.IMAGE_TOKEN_INDEX);
      from = at + PromptTemplate.IMAGE_TAG.length();
    }
    return out.toArray();
  }

  /**
   * {@code tokenizer(chunk).input_ids} of a slow LlamaTokenizer with {@code legacy=False}, {@code
   * add_prefix_space=True}, {@code add_bos_token=True}, {@code add_eos_token=False}.
   */
  public int[] encodeChunk(String chunk) {
    IntList tokens = new IntList(chunk.length() / 3 + 4);
    if (!chunk.isEmpty()) {
      String text =
          BpeTokenizerBase.SPACE_SYMBOL + chunk.replace(BpeTokenizerBase.SPACE_SYMBOL, ' ');
      int segmentStart = 0;
      int i = 0;
      while (i < text.length()) {
        Map.Entry<String, Integer> special = specialAt(text, i);
        if (special == null) {
          i++;
          continue;
        }
        slowTokenize(text.substring(segmentStart, i), tokens);
        tokens.add(special.getValue());
        i += special.getKey().length();
        segmentStart = i;
      }
      slowTokenize(text.substring(segmentStart), tokens);
    }
    IntList out = new IntList(tokens.size() + 1);
    if (tokenizer.bosId() >= 0) {
      out.add(tokenizer.bosId());
    }
    int start = 0;
    if (tokens.size() > 1 && tokens.get(0) == spaceId && isSpecial(tokens.get(1))) {
      start = 1;
    }
    for (int k = start; k < tokens.size(); k++) {
      out.add(tokens.get(k));
    }
    return out.toArray();
  }

  private boolean isSpecial(int id) {
    for (Map.Entry<String, Integer> e : specials) {
      if (e.getValue() == id) {
        return true;
      }
    }
    return false;
  }

  private Map.Entry<String, Integer> specialAt(String text, int i) {
    for (Map.Entry<String, Integer> e : specials) {
      if (text.startsWith(e.getKey(), i)) {
        return e;
      }
    }
    return null;
  }

  /** transformers' {@code LlamaTokenizer._tokenize} with {@code legacy=False}. */
  private void slowTokenize(String text, IntList out) {
    if (text.isEmpty()) {
      return;
    }
    int[] ids;
    int skip = 0;
    if (text.charAt(0) == BpeTokenizerBase.SPACE_SYMBOL || text.charAt(0) == ' ') {
      ids = tokenizer.encodeWithoutPrefix(tokenizer.unkPiece() + text);
      if (ids.length >= unkLength) {
        skip = unkLength;
      }
    } else {
      ids = tokenizer.encodeWithoutPrefix(text);
    }
    for (int k = skip; k < ids.length; k++) {
      out.add(ids[k]);
    }
  }
}

package io.damjava.tokenizer;

/**
 * Per-id facts that decoding needs, precomputed once per tokenizer so that decoding one token is a
 * few array reads.
 */
final class DecodeTable {
  /** Which reference library's decoding rules apply. */
  enum Flavor {
    /** sentencepiece {@code DecodeIds}: per-character U+FFFD, "bos whitespace" rule. */
    SENTENCEPIECE,
    /** Hugging Face tokenizers decoders: whole byte run becomes U+FFFD, Strip/Metaspace rules. */
    HUGGING_FACE
  }

  final Flavor flavor;

  /** Piece text with U+2581 already turned into a space (or the unk surface, or ""). */
  final String[] text;

  /** Same as text minus one leading space where the piece starts with U+2581, else null. */
  final String[] textWithoutLeadingSpace;

  /** Byte value 0..255 of a byte-fallback piece, or -1. */
  final int[] byteValue;

  /** True for ids that {@code skipSpecial} removes. */
  final boolean[] special;

  /** Text of special ids when they are not skipped. */
  final String[] specialText;

  /**
   * sentencepiece: whether the "bos whitespace" rule can consume a leading U+2581 (add_dummy_prefix
   * or remove_extra_whitespaces); also whether every leading space piece is stripped
   * (remove_extra_whitespaces). Hugging Face: number of leading {@code stripChar} to strip from the
   * whole output (Strip decoder after Fuse).
   */
  final boolean bosWsRule;

  final boolean stripAllLeading;
  final int stripStart;
  final char stripChar;

  /** Hugging Face Metaspace decoder: the first token loses every U+2581 instead of a space. */
  final boolean metaspaceFirst;

  /** For the Metaspace first-token rule: raw piece text with U+2581 removed. */
  final String[] textWithoutMetaspace;

  /**
   * sentencepiece: the unknown piece's id, which {@code skipSpecial} also removes, as transformers'
   * slow tokenizer drops every id of {@code all_special_ids} (unk included); -1 for none.
   */
  final int unkId;

  DecodeTable(
      Flavor flavor,
      String[] text,
      String[] textWithoutLeadingSpace,
      int[] byteValue,
      boolean[] special,
      String[] specialText,
      boolean bosWsRule,
      boolean stripAllLeading,
      int stripStart,
      char stripChar,
      boolean metaspaceFirst,
      String[] textWithoutMetaspace,
      int unkId) {
    this.flavor = flavor;
    this.text = text;
    this.textWithoutLeadingSpace = textWithoutLeadingSpace;
    this.byteValue = byteValue;
    this.special = special;
    this.specialText = specialText;
    this.bosWsRule = bosWsRule;
    this.stripAllLeading = stripAllLeading;
    this.stripStart = stripStart;
    this.stripChar = stripChar;
    this.metaspaceFirst = metaspaceFirst;
    this.textWithoutMetaspace = textWithoutMetaspace;
    this.unkId = unkId;
  }

  int size() {
    return text.length;
  }
}

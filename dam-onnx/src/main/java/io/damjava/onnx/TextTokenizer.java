package io.damjava.onnx;

/**
 * What the engine needs from a tokenizer: a seam over dam-tokenizer ({@link TextTokenizers}) that
 * tests can fill with a toy. Implementations are immutable and thread-safe; {@link #newStream()}
 * returns per-call state.
 */
interface TextTokenizer {
  /** Ids of a text with BOS prepended, as Hugging Face's slow Llama tokenizer {@code tok(text)}. */
  int[] encodeWithBos(String text);

  /** Text of ids with special tokens skipped (not stripped). */
  String decode(int[] ids);

  /** A UTF-8-safe incremental detokenizer for one generation. */
  Stream newStream();

  /** Incremental detokenizer: text is only released at whole code points. */
  interface Stream {
    /** The text that token {@code id} completes; empty while a code point is pending. */
    String push(int id);

    /** The text still held back at the end (incomplete bytes become U+FFFD). */
    String finish();
  }
}

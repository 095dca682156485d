package io.damjava.tokenizer;

/**
 * Streaming detokenizer: feed generated ids one at a time and receive text as soon as it is final.
 * Text is released only as whole code points (byte-fallback pieces such as {@code <0xE2>} are held
 * until their character is complete), the leading-space rule of the full decode is applied, and
 * special tokens are skipped.
 *
 * <p>Contract: for any id sequence, the concatenation of every {@link #accept(int)} result followed
 * by {@link #finish()} equals {@code tokenizer.decode(ids, true)}; malformed byte sequences become
 * U+FFFD exactly as there. Each call is O(1) amortised. Not thread-safe: use one instance per
 * generation stream.
 */
public final class IncrementalDetokenizer {
  private final DecodeTable table;
  private DecodeStream stream;
  private final StringBuilder scratch = new StringBuilder(16);

  /**
   * Creates a detokenizer for one stream.
   *
   * @param tokenizer the tokenizer whose {@code decode(ids, true)} this stream reproduces
   */
  public IncrementalDetokenizer(Tokenizer tokenizer) {
    this.table = ((BpeTokenizerBase) tokenizer).table;
    this.stream = new DecodeStream(table, true);
  }

  /**
   * Feeds one id and appends the text that became final to {@code out} (possibly nothing).
   *
   * @throws IllegalArgumentException if the id is out of range
   */
  public void accept(int id, StringBuilder out) {
    stream.accept(id, out);
  }

  /**
   * Feeds one id and returns the text that became final (often empty).
   *
   * @throws IllegalArgumentException if the id is out of range
   */
  public String accept(int id) {
    scratch.setLength(0);
    stream.accept(id, scratch);
    return scratch.length() == 0 ? "" : scratch.toString();
  }

  /** Ends the stream: returns the text still held back (incomplete bytes become U+FFFD). */
  public String finish() {
    scratch.setLength(0);
    stream.finish(scratch);
    stream = new DecodeStream(table, true);
    return scratch.toString();
  }

  /** Forgets all state, as if newly created. */
  public void reset() {
    stream = new DecodeStream(table, true);
  }
}

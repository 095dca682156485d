package io.damjava.tokenizer;

/** Thrown when a tokenizer file is malformed, truncated or uses an unsupported feature. */
public final class TokenizerFormatException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates an exception.
   *
   * @param message what is wrong and where (a byte offset or a JSON path)
   */
  public TokenizerFormatException(String message) {
    super(message);
  }
}

package io.damjava.eval;

import io.damjava.api.DamException;

/**
 * The judge could not be asked or gave an answer the scorer cannot use (no connection, a timeout,
 * an HTTP error, a body that is no chat completion, a recognition answer that is neither Yes nor
 * No). Judgements made before it are kept in the cache, so a re-run continues from there.
 */
public class JudgeException extends DamException {
  private static final long serialVersionUID = 1L;

  public JudgeException(String message) {
    super(message);
  }

  public JudgeException(String message, Throwable cause) {
    super(message, cause);
  }
}

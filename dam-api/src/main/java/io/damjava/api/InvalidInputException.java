package io.damjava.api;

/** The caller's input cannot be described: the message names the problem and the bad value. */
public class InvalidInputException extends DamException {
  private static final long serialVersionUID = 1L;

  public InvalidInputException(String message) {
    super(message);
  }

  public InvalidInputException(String message, Throwable cause) {
    super(message, cause);
  }
}

package io.damjava.api;

/** The runtime failed while running a model graph; the message names the stage and graph. */
public class InferenceException extends DamException {
  private static final long serialVersionUID = 1L;

  public InferenceException(String message) {
    super(message);
  }

  public InferenceException(String message, Throwable cause) {
    super(message, cause);
  }
}

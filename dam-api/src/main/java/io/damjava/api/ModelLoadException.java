package io.damjava.api;

/**
 * A model could not be loaded: missing engine on the class path, missing files, an execution
 * provider that is not available.
 */
public class ModelLoadException extends DamException {
  private static final long serialVersionUID = 1L;

  public ModelLoadException(String message) {
    super(message);
  }

  public ModelLoadException(String message, Throwable cause) {
    super(message, cause);
  }
}

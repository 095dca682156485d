package io.damjava.api;

/**
 * Root of every exception this library throws on purpose. Unchecked: callers catch the subtype they
 * can act on.
 *
 * <ul>
 *   <li>{@link InvalidInputException}: the caller passed something unusable (empty mask, size
 *       mismatch, point outside the image...). Fix the input and call again.
 *   <li>{@link ModelLoadException} and its subtype {@link InvalidBundleException}: the model could
 *       not be opened. Fix the bundle or the class path.
 *   <li>{@link InferenceException}: the runtime failed while running a graph.
 * </ul>
 */
public class DamException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public DamException(String message) {
    super(message);
  }

  public DamException(String message, Throwable cause) {
    super(message, cause);
  }
}

package io.damjava.api;

/**
 * A bundle directory is corrupt or inconsistent: a bad manifest field (named by its JSON path), a
 * missing file, a checksum mismatch.
 */
public class InvalidBundleException extends ModelLoadException {
  private static final long serialVersionUID = 1L;

  public InvalidBundleException(String message) {
    super(message);
  }

  public InvalidBundleException(String message, Throwable cause) {
    super(message, cause);
  }
}

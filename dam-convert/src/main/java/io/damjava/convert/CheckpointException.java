package io.damjava.convert;

import io.damjava.api.DamException;

/**
 * A checkpoint cannot be converted: a missing or corrupt file, a tensor that is absent or has the
 * wrong shape or dtype, a config that disagrees with the weights. The message names the file and,
 * where there is one, the tensor.
 */
public class CheckpointException extends DamException {
  private static final long serialVersionUID = 1L;

  public CheckpointException(String message) {
    super(message);
  }

  public CheckpointException(String message, Throwable cause) {
    super(message, cause);
  }
}

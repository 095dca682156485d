package io.damjava.convert;

import io.damjava.api.DamException;

/**
 * A conversion does not fit on the disk of its output folder: refused before writing when even the
 * smallest bundle of that precision cannot fit, or stopped when a write fails on a full disk. The
 * partial output is removed; the message says how much space there is and what to do.
 */
public class DiskFullException extends DamException {
  private static final long serialVersionUID = 1L;

  public DiskFullException(String message, Throwable cause) {
    super(message, cause);
  }
}

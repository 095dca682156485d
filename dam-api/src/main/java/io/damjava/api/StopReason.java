package io.damjava.api;

/** Why generation ended. */
public enum StopReason {
  /** The model produced the end-of-sequence token. */
  EOS,
  /** {@link GenerationOptions#maxNewTokens()} tokens were generated. */
  MAX_TOKENS,
  /** The call was cancelled through its {@link Cancellation}. */
  CANCELLED
}

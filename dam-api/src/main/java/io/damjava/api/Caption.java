package io.damjava.api;

import java.util.Arrays;
import java.util.Objects;

/**
 * The description of one region: its text, the generated token ids, why generation stopped and how
 * long each stage took. Immutable.
 *
 * <pre>{@code
 * Caption c = dam.describe(image, mask);
 * System.out.println(c.text() + " (" + c.tokenCount() + " tokens, " + c.stopReason() + ")");
 * }</pre>
 */
public final class Caption {
  private final String text;
  private final int[] tokenIds;
  private final int promptTokens;
  private final StopReason stopReason;
  private final Timings timings;

  /**
   * @param text the decoded description, special tokens skipped and surrounding spaces stripped
   * @param tokenIds the generated ids, EOS excluded (copied)
   * @param stopReason why generation stopped
   * @param timings time per stage
   */
  public Caption(String text, int[] tokenIds, StopReason stopReason, Timings timings) {
    this(text, tokenIds, 0, stopReason, timings);
  }

  /**
   * @param text the decoded description, special tokens skipped and surrounding spaces stripped
   * @param tokenIds the generated ids, EOS excluded (copied)
   * @param promptTokens length of the spliced prompt the decoder read (text and image positions)
   * @param stopReason why generation stopped
   * @param timings time per stage
   */
  public Caption(
      String text, int[] tokenIds, int promptTokens, StopReason stopReason, Timings timings) {
    if (promptTokens < 0) {
      throw new IllegalArgumentException("promptTokens must be >= 0, got " + promptTokens);
    }
    this.promptTokens = promptTokens;
    this.text = Objects.requireNonNull(text, "text");
    this.tokenIds = Objects.requireNonNull(tokenIds, "tokenIds").clone();
    this.stopReason = Objects.requireNonNull(stopReason, "stopReason");
    this.timings = Objects.requireNonNull(timings, "timings");
  }

  public String text() {
    return text;
  }

  /** A copy of the generated token ids (EOS excluded). */
  public int[] tokenIds() {
    return tokenIds.clone();
  }

  public int tokenCount() {
    return tokenIds.length;
  }

  /**
   * Positions of the prompt the decoder read: text tokens plus 196 per image or frame; 0 when the
   * engine did not report it.
   */
  public int promptTokens() {
    return promptTokens;
  }

  public StopReason stopReason() {
    return stopReason;
  }

  public Timings timings() {
    return timings;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Caption c
        && text.equals(c.text)
        && Arrays.equals(tokenIds, c.tokenIds)
        && promptTokens == c.promptTokens
        && stopReason == c.stopReason
        && timings.equals(c.timings);
  }

  @Override
  public int hashCode() {
    return Objects.hash(text, Arrays.hashCode(tokenIds), promptTokens, stopReason, timings);
  }

  @Override
  public String toString() {
    return "Caption[" + stopReason + ", " + tokenIds.length + " tokens: " + text + "]";
  }
}

package io.damjava.api;

/**
 * Receives a description while it is generated. Called on the generating thread; keep it fast.
 *
 * <p>The concatenation of every {@link #onText} argument equals the final {@link Caption#text()}
 * before stripping: text is only emitted at whole UTF-8 code points.
 *
 * <pre>{@code
 * dam.describe(DescribeRequest.of(image, region).listener(System.out::print));
 * }</pre>
 */
@FunctionalInterface
public interface CaptionListener {
  /** A new piece of text (never empty). */
  void onText(String delta);

  /** Every generated token id, in order, before its text is known. Default: ignored. */
  default void onToken(int tokenId) {}
}

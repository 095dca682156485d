package io.damjava.eval;

/** Answers one prompt; the official scorer asks each question in its own single-turn chat. */
@FunctionalInterface
public interface Judge {
  /**
   * The judge's reply to one user message.
   *
   * @throws JudgeException if no reply came
   */
  String ask(String prompt);
}

package io.damjava.eval;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * Maps a judge's free-text answer to a choice index, branch for branch as {@code parse_pred} of the
 * official {@code eval_model_outputs.py}: exact text or letter, a single contained choice, a
 * leading "X.", the last (then longest) of several contained choices, the answer contained in a
 * choice (longest), a lone letter; else no match. Where the Python would raise (an empty answer, a
 * one-letter answer that is no choice), this returns no match.
 */
public final class AnswerParser {
  private static final String LABELS = "abcde";

  private AnswerParser() {}

  /** The chosen index, or -1 for no match; {@code log} gets the script's notices. */
  public static int parse(String answer, List<String> choices, String key, Consumer<String> log) {
    String pred = answer.strip().toLowerCase(Locale.ROOT);
    List<int[]> substr = new ArrayList<>(); // index, position, length
    for (int index = 0; index < choices.size(); index++) {
      String choice = choices.get(index).strip().toLowerCase(Locale.ROOT);
      char prefix = LABELS.charAt(index);
      if (choice.equals(pred) || pred.equals(prefix + ". " + choice) || pred.equals("" + prefix)) {
        return index;
      }
      if (pred.contains(choice)) {
        substr.add(new int[] {index, pred.indexOf(choice), choice.length()});
      }
    }
    if (substr.size() == 1) {
      return substr.get(0)[0];
    }
    if (pred.isEmpty()) {
      log.accept("*WARNING*: " + key + ": empty answer, choices: " + choices);
      return -1;
    }
    if (LABELS.indexOf(pred.charAt(0)) >= 0) {
      if (pred.length() < 2) {
        // Python raises IndexError on pred[1] here.
        log.accept("*WARNING*: " + key + ": answer '" + pred + "' is no choice of " + choices);
        return -1;
      }
      if (pred.charAt(1) == '.') {
        return LABELS.indexOf(pred.charAt(0));
      }
    }
    if (!substr.isEmpty()) {
      // More than one: the last occurrence, then the longest at that position (first wins ties).
      int[] best = substr.get(0);
      for (int[] s : substr) {
        if (s[1] > best[1]) {
          best = s;
        }
      }
      int pos = best[1];
      int[] longest = null;
      for (int[] s : substr) {
        if (s[1] == pos && (longest == null || s[2] > longest[2])) {
          longest = s;
        }
      }
      log.accept(key + ": more than one occurrence found: pred " + pred + ", choices " + choices);
      return longest[0];
    }
    int ret = -1;
    int retLen = -1;
    for (int index = 0; index < choices.size(); index++) {
      String choice = choices.get(index).strip().toLowerCase(Locale.ROOT);
      if (choice.contains(pred) && choice.length() > retLen) {
        ret = index;
        retLen = choice.length();
      }
    }
    if (ret >= 0) {
      return ret;
    }
    if (LABELS.indexOf(pred.charAt(0)) >= 0
        && (pred.strip().length() == 1 || pred.charAt(1) == '\n')) {
      log.accept(key + ": chosen " + LABELS.indexOf(pred.charAt(0)) + " for pred: " + pred);
      return LABELS.indexOf(pred.charAt(0));
    }
    log.accept("*WARNING*: " + key + ": no match found. Pred: " + pred + ", choices: " + choices);
    return -1;
  }
}

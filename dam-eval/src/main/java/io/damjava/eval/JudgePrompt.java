package io.damjava.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The judge's prompt and the recognition question, as the official DLC-Bench scorer writes them.
 *
 * <p>The prompt text below is quoted byte for byte from {@code prompt_eval} in {@code
 * evaluation/eval_model_outputs.py} of <a
 * href="https://github.com/NVlabs/describe-anything">NVlabs/describe-anything</a>, Copyright 2025
 * NVIDIA CORPORATION &amp; AFFILIATES, licensed under the Apache License 2.0; the recognition
 * question likewise. Scores depend on these exact bytes, so they are not reworded.
 */
public final class JudgePrompt {
  /** Quoted from eval_model_outputs.py (Apache-2.0), see the class comment. */
  static final String PROMPT_HEAD =
      "Answer the multiple-choice question based on the text description of an object in an"
          + " image. You need to follow these rules:\n"
          + "1. Do not output any reasoning. Do not perform correction. Please output exactly one"
          + " answer from the choices for each question. Do not repeat the question.\n"
          + "2. There is no need for exact matching. Please choose the closest option based on the"
          + " description.\n"
          + "\n"
          + "The description is:\n";

  static final String PROMPT_MIDDLE =
      "\n\nFrom the description above, please answer the following question with one of the"
          + " choices:\n";

  private static final Map<String, String> PHRASES = loadPhrases();
  private static final Set<Character> VOWELS = Set.of('a', 'e', 'i', 'o', 'u');

  private JudgePrompt() {}

  /** The prompt for one question about one description. */
  public static String prompt(String description, Question q) {
    StringBuilder s = new StringBuilder(q.question()).append('\n');
    for (int i = 0; i < q.choices().size(); i++) {
      s.append("ABCDE".charAt(i)).append(". ").append(q.choices().get(i).text()).append('\n');
    }
    return PROMPT_HEAD + description + PROMPT_MIDDLE + s.toString().strip() + "\n";
  }

  /** Whether the class phrase table (from python3-inflect) knows this class name. */
  public static boolean knows(String className) {
    return PHRASES.containsKey(className);
  }

  /**
   * The recognition question for a class: "are {name}" for plural names, "is {a|an} {name}"
   * otherwise, as the official script forms them with inflect. Names outside the committed table
   * fall back to a plain rule (plural if it ends in a single s, "an" before a vowel letter).
   */
  public static String recognitionQuestion(String className) {
    String phrase = PHRASES.get(className);
    if (phrase == null) {
      phrase = fallbackPhrase(className);
    }
    if (phrase.equals("plural")) {
      return "Is it likely that the objects in the description are "
          + className
          + " or objects of a similar type? Again, It does not have to be an exact match.";
    }
    return "Is it likely that the object in the description is "
        + phrase
        + " or an object of a similar type? Again, It does not have to be an exact match.";
  }

  static String fallbackPhrase(String name) {
    String n = name.toLowerCase(Locale.ROOT);
    if (n.endsWith("s") && !n.endsWith("ss") && !n.equals("bus")) {
      return "plural";
    }
    return (!n.isEmpty() && VOWELS.contains(n.charAt(0)) ? "an " : "a ") + name;
  }

  private static Map<String, String> loadPhrases() {
    try (InputStream in = JudgePrompt.class.getResourceAsStream("class-phrases.json")) {
      if (in == null) {
        throw new IllegalStateException("class-phrases.json is missing from dam-eval's jar");
      }
      Map<String, String> m = new HashMap<>();
      JsonNode phrases = new ObjectMapper().readTree(in).get("phrases");
      phrases.fields().forEachRemaining(e -> m.put(e.getKey(), e.getValue().asText()));
      return Map.copyOf(m);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}

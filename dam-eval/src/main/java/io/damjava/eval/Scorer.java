package io.damjava.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Scores one description, as {@code evaluate} of the official scorer: ask each question (or reuse a
 * cached response), parse the answer, take the chosen choice's score (0 when nothing matched), and
 * gate on recognition: if the judge says the description is not of the annotated class, every
 * positive and negative score is capped at 0. The result is the script's per-annotation record.
 */
public final class Scorer {
  private static final JsonNodeFactory F = JsonNodeFactory.instance;

  private Scorer() {}

  /**
   * Scores one annotation.
   *
   * @param questions the recognition question first, then the annotation's qa.json questions
   * @param cached responses from an earlier run, by question index (entries may be null), or null
   * @param judge asked for every question without a cached response
   * @return the record the official {@code _eval.json} keeps for the annotation, without "pred"
   * @throws JudgeException if the recognition answer is neither Yes nor No (the script raises too)
   */
  public static ObjectNode evaluate(
      String key,
      String description,
      List<Question> questions,
      List<String> cached,
      Judge judge,
      Consumer<String> log) {
    if (questions.isEmpty() || !questions.get(0).type().equals("recognition")) {
      throw new IllegalArgumentException(key + ": the recognition question must come first");
    }
    List<String> prompts = new ArrayList<>();
    List<String> responses = new ArrayList<>();
    for (int i = 0; i < questions.size(); i++) {
      String prompt = JudgePrompt.prompt(description, questions.get(i));
      String response =
          cached != null && i < cached.size() && cached.get(i) != null
              ? cached.get(i)
              : judge.ask(prompt);
      prompts.add(prompt);
      responses.add(response);
    }
    ArrayNode positives = F.arrayNode();
    ArrayNode negatives = F.arrayNode();
    ArrayNode recognition = F.arrayNode();
    double sumPos = 0;
    double sumNeg = 0;
    int nPos = 0;
    int nNeg = 0;
    Boolean recognized = null;
    for (int i = 0; i < questions.size(); i++) {
      Question q = questions.get(i);
      String answer = responses.get(i).strip();
      int index = AnswerParser.parse(answer, q.choiceTexts(), key, log);
      if (index >= q.choices().size()) {
        log.accept(key + ": answer '" + answer + "' names choice " + index + " of " + q.choices());
        index = -1;
      }
      JsonNode result = index < 0 ? IntNode.valueOf(0) : q.choices().get(index).value();
      ObjectNode detail = q.source().deepCopy();
      detail.put("pred_answer", answer);
      if (index < 0) {
        detail.putNull("pred_index");
      } else {
        detail.put("pred_index", index);
      }
      switch (q.type()) {
        case "recognition" -> {
          if (result.isTextual() && result.asText().equals("correct")) {
            recognized = true;
          } else if (result.isTextual() && result.asText().equals("incorrect")) {
            recognized = false;
            log.accept("Recognition is incorrect for key " + key + ", scores capped at 0");
          } else {
            throw new JudgeException(
                key
                    + ": the judge's answer to the recognition question is neither Yes nor No: '"
                    + answer
                    + "'. Judgements so far are cached; check the judge (--judge-model, its chat"
                    + " template) and run again.");
          }
          detail.set("eval_result", result);
          recognition.add(detail);
        }
        case "positive", "negative" -> {
          if (recognized == null) {
            throw new IllegalArgumentException(key + ": a question comes before recognition");
          }
          if (!result.isNumber()) {
            throw new JudgeException(key + ": question " + i + " scores are not numbers: " + q);
          }
          if (!recognized && !(result.asDouble() < 0)) {
            result = IntNode.valueOf(0); // Python's min(0, x) keeps the int 0 unless x < 0
          }
          detail.put("question_index", i - 1);
          detail.set("eval_result", result);
          if (q.type().equals("positive")) {
            sumPos += result.asDouble();
            nPos++;
            positives.add(detail);
          } else {
            sumNeg += result.asDouble();
            nNeg++;
            negatives.add(detail);
          }
        }
        default -> throw new IllegalArgumentException(key + ": question type " + q.type());
      }
    }
    if (nPos == 0) {
      throw new JudgeException(key + ": no positive question (the script divides by zero)");
    }
    ObjectNode info = F.objectNode();
    info.set("details_positives", positives);
    info.set("details_negatives", negatives);
    info.set("details_recognition", recognition);
    ArrayNode p = info.putArray("prompt");
    prompts.forEach(p::add);
    ArrayNode r = info.putArray("response");
    responses.forEach(r::add);
    info.put("score", (sumPos + sumNeg) / (nPos + nNeg));
    info.put("score_pos", sumPos / nPos);
    if (nNeg > 0) {
      info.put("score_neg", sumNeg / nNeg);
    } else {
      info.putNull("score_neg");
    }
    info.put("neg_valid_num", nNeg);
    info.put("recognition_result", recognized);
    return info;
  }
}

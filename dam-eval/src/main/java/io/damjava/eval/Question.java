package io.damjava.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.damjava.api.InvalidInputException;
import java.util.List;

/**
 * One multiple-choice question about a description, as in DLC-Bench's qa.json: {@code {"question":
 * ..., "choices": [[text, score], ...], "type": "positive"|"negative"|"recognition"}}. A choice's
 * score is a number, or for the recognition question {@code "correct"} / {@code "incorrect"}.
 *
 * @param source the question's JSON object as read (other fields are kept when written back)
 */
public record Question(String question, List<Choice> choices, String type, ObjectNode source) {

  /** One answer option and what choosing it scores. */
  public record Choice(String text, JsonNode value) {}

  /** Reads one qa.json entry; {@code where} names it in error messages. */
  public static Question of(JsonNode node, String where) {
    if (node == null || !node.isObject()) {
      throw new InvalidInputException(where + ": a question must be an object, got " + node);
    }
    JsonNode q = node.get("question");
    JsonNode cs = node.get("choices");
    JsonNode t = node.get("type");
    if (q == null || !q.isTextual() || cs == null || !cs.isArray() || t == null || !t.isTextual()) {
      throw new InvalidInputException(
          where + ": a question needs \"question\", \"choices\" and \"type\", got " + node);
    }
    if (cs.isEmpty() || cs.size() > 5) {
      throw new InvalidInputException(where + ": 1 to 5 choices (A-E), got " + cs.size());
    }
    List<Choice> choices = new java.util.ArrayList<>();
    for (JsonNode c : cs) {
      if (!c.isArray() || c.size() != 2 || !c.get(0).isTextual()) {
        throw new InvalidInputException(where + ": a choice is [text, score], got " + c);
      }
      choices.add(new Choice(c.get(0).asText(), c.get(1)));
    }
    String type = t.asText();
    if (!type.equals("positive") && !type.equals("negative") && !type.equals("recognition")) {
      throw new InvalidInputException(
          where + ": type must be positive, negative or recognition, got " + type);
    }
    return new Question(q.asText(), List.copyOf(choices), type, ((ObjectNode) node).deepCopy());
  }

  /** The recognition question the official script puts first: Yes = correct, No = incorrect. */
  public static Question recognition(String text) {
    JsonNodeFactory f = JsonNodeFactory.instance;
    ObjectNode o = f.objectNode();
    o.put("question", text);
    o.putArray("choices").add(f.arrayNode().add("Yes").add("correct"));
    o.withArray("choices").add(f.arrayNode().add("No").add("incorrect"));
    o.put("type", "recognition");
    return of(o, "recognition question");
  }

  /** The choice texts, in order. */
  public List<String> choiceTexts() {
    return choices.stream().map(Choice::text).toList();
  }
}

package io.damjava.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Re-scores the official cached judge responses for the released DAM-3B (see
 * resources/official/SOURCE.md) without asking any judge, and checks the README's result.
 */
class OfficialCacheTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern CLASS =
      Pattern.compile(
          "Is it likely that the (?:objects in the description are (.*) or objects"
              + "|object in the description is an? (.*) or an object) of a similar type\\?.*");

  @TempDir Path tmp;

  static ObjectNode officialCache() throws IOException {
    try (InputStream in =
        new GZIPInputStream(
            OfficialCacheTest.class.getResourceAsStream("/official/dam_3b_v1_eval.json.gz"))) {
      return (ObjectNode) JSON.readTree(in);
    }
  }

  /** The questions of one key, rebuilt from the cache's details: recognition, then qa order. */
  static List<Question> questions(JsonNode entry) {
    List<Question> qs = new ArrayList<>();
    qs.add(Question.of(strip(entry.get("details_recognition").get(0)), "recognition"));
    List<JsonNode> rest = new ArrayList<>();
    entry.get("details_positives").forEach(rest::add);
    entry.get("details_negatives").forEach(rest::add);
    rest.sort(Comparator.comparingInt(d -> d.get("question_index").asInt()));
    for (JsonNode d : rest) {
      qs.add(Question.of(strip(d), "qa"));
    }
    return qs;
  }

  private static ObjectNode strip(JsonNode detail) {
    ObjectNode o = detail.deepCopy();
    o.remove(List.of("pred_answer", "pred_index", "question_index", "eval_result"));
    return o;
  }

  @Test
  void reproducesTheReadmeResultWithoutAJudge() throws IOException {
    ObjectNode official = officialCache();
    Map<String, List<Question>> questions = new LinkedHashMap<>();
    official
        .fields()
        .forEachRemaining(
            e -> {
              if (e.getValue().isObject()) {
                questions.put(e.getKey(), questions(e.getValue()));
              }
            });
    assertEquals(100, questions.size());
    Path cache = tmp.resolve("dam_3b_v1_eval.json");
    JsonFiles.write(cache, official);
    JsonNode preds;
    try (InputStream in = getClass().getResourceAsStream("/official/dam_3b_v1.json")) {
      preds = JSON.readTree(in);
    }
    Judge none =
        p -> {
          throw new AssertionError("the judge was called although every answer is cached");
        };
    List<String> log = new ArrayList<>();
    DlcBenchScorer.Result r =
        new DlcBenchScorer(questions, log::add)
            .score(preds, cache, none, DlcBenchScorer.DEFAULT_JUDGE, EvalProgress.NONE);

    assertEquals("0.510", DlcBenchScorer.fmt(r.avgPos()));
    assertEquals("0.830", DlcBenchScorer.fmt(r.avgNeg()));
    assertEquals("0.670", DlcBenchScorer.fmt(r.avg()));
    assertTrue(r.summary().endsWith("0.510,\t0.830,\t0.670"), r.summary());
    // Bit for bit the averages the official script stored.
    assertEquals(official.get("avg_pos").asDouble(), r.avgPos());
    assertEquals(official.get("avg_neg").asDouble(), r.avgNeg());

    ObjectNode ours = (ObjectNode) JSON.readTree(cache.toFile());
    for (String key : questions.keySet()) {
      JsonNode theirs = official.get(key);
      JsonNode mine = ours.get(key);
      for (String f : List.of("score", "score_pos", "score_neg", "neg_valid_num")) {
        assertEquals(theirs.get(f), mine.get(f), key + " " + f);
      }
      assertEquals(theirs.get("recognition_result"), mine.get("recognition_result"), key);
      // The prompt, byte for byte, and every parsed answer and its score.
      assertEquals(theirs.get("prompt"), mine.get("prompt"), key + " prompt");
      for (String d : List.of("details_recognition", "details_positives", "details_negatives")) {
        for (int i = 0; i < theirs.get(d).size(); i++) {
          for (String f : List.of("pred_index", "eval_result")) {
            assertEquals(
                theirs.get(d).get(i).get(f).asDouble(),
                mine.get(d).get(i).get(f).asDouble(),
                key + " " + d + "[" + i + "]." + f);
          }
        }
      }
    }
  }

  @Test
  void classPhraseTableFormsTheOfficialRecognitionQuestions() throws IOException {
    ObjectNode official = officialCache();
    int checked = 0;
    for (var it = official.fields(); it.hasNext(); ) {
      var e = it.next();
      if (!e.getValue().isObject()) {
        continue;
      }
      String q = e.getValue().get("details_recognition").get(0).get("question").asText();
      Matcher m = CLASS.matcher(q);
      assertTrue(m.matches(), q);
      String name = m.group(1) != null ? m.group(1) : m.group(2);
      assertTrue(JudgePrompt.knows(name), name);
      assertEquals(q, JudgePrompt.recognitionQuestion(name));
      checked++;
    }
    assertEquals(100, checked);
    assertTrue(Files.exists(tmp));
  }
}

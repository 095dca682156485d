package io.damjava.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.damjava.api.InvalidInputException;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Scores a model-outputs file as the official {@code eval_model_outputs.py}: every qa.json key in
 * order, judge responses cached in {@code <outputs>_eval.json} (rewritten after each annotation and
 * reused on re-runs), the average positive score over annotations, the average negative score over
 * annotations that have negatives, and their mean.
 */
public final class DlcBenchScorer {
  /** The judge the official README uses. */
  public static final String DEFAULT_JUDGE = "meta-llama/Meta-Llama-3.1-8B-Instruct";

  private final Map<String, List<Question>> questions;
  private final Consumer<String> log;

  /** Overall scores, and the per-annotation ones, each naming the judge that produced them. */
  public record Result(
      String judgeModel,
      double avgPos,
      double avgNeg,
      int count,
      Map<String, Double> score,
      Map<String, Double> scorePos,
      Map<String, Double> scoreNeg) {
    /** Mean of the positive and negative averages. */
    public double avg() {
      return (avgPos + avgNeg) / 2;
    }

    /** The script's summary line: three scores rounded as Python's {@code :.3f}. */
    public String summary() {
      return "Summary (Pos\tNeg\tAvg(Pos, Neg)):\t"
          + fmt(avgPos)
          + ",\t"
          + fmt(avgNeg)
          + ",\t"
          + fmt(avg());
    }

    /** The printed table. */
    public String table() {
      return "DLC-Bench, judged by "
          + judgeModel
          + " ("
          + count
          + " annotations)\n"
          + "Average Positive Score: "
          + fmt(avgPos)
          + "\nAverage Negative Score: "
          + fmt(avgNeg)
          + "\nAverage of Positive and Negative Scores: "
          + fmt(avg())
          + "\n"
          + summary()
          + "\n";
    }

    /** Results as JSON. */
    public ObjectNode toJson() {
      ObjectNode o = JsonFiles.JSON.createObjectNode();
      o.put("benchmark", "DLC-Bench");
      o.put("judge_model", judgeModel);
      o.put("count", count);
      o.put("avg_pos", avgPos);
      o.put("avg_neg", avgNeg);
      o.put("avg", avg());
      ObjectNode per = o.putObject("per_annotation");
      for (String k : score.keySet()) {
        ObjectNode s = per.putObject(k);
        s.put("score", score.get(k));
        s.put("score_pos", scorePos.get(k));
        s.put("score_neg", scoreNeg.get(k));
      }
      return o;
    }
  }

  /**
   * @param questions annotation id to the questions the judge is asked (recognition first), in the
   *     order of qa.json
   */
  public DlcBenchScorer(Map<String, List<Question>> questions, Consumer<String> log) {
    this.questions = questions;
    this.log = log;
  }

  /** For a benchmark folder. */
  public static DlcBenchScorer of(DlcBench bench, Consumer<String> log) {
    Map<String, List<Question>> qs = new LinkedHashMap<>();
    for (String k : bench.qa().keySet()) {
      qs.put(k, bench.questions(k));
    }
    return new DlcBenchScorer(qs, log);
  }

  /** Python's {@code f"{x:.3f}"}: the double's exact value rounded half-even. */
  public static String fmt(double x) {
    return new BigDecimal(x).setScale(3, RoundingMode.HALF_EVEN).toPlainString();
  }

  /**
   * The judge cache next to a model-outputs file: {@code dam_3b_v1.json -> dam_3b_v1_eval.json}.
   */
  public static Path cacheFile(Path outputs) {
    String name = outputs.getFileName().toString();
    int dot = name.lastIndexOf('.');
    String stem = dot > 0 ? name.substring(0, dot) : name;
    return outputs.resolveSibling(stem + "_eval.json");
  }

  /**
   * Scores predictions, asking the judge only what the cache does not hold.
   *
   * @param predictions annotation id to description (the model-outputs JSON)
   * @param cacheFile the {@code _eval.json}; created if missing
   * @throws InvalidInputException if a prediction is missing or is an "Error:" entry, or the cache
   *     was made by another judge
   * @throws JudgeException if the judge fails; what was judged before stays cached
   */
  public Result score(
      JsonNode predictions, Path cacheFile, Judge judge, String judgeModel, EvalProgress progress) {
    ObjectNode cache = JsonFiles.readObjectOrEmpty(cacheFile);
    JsonNode cachedJudge = cache.get("judge_model");
    if (cachedJudge != null && !cachedJudge.asText().equals(judgeModel)) {
      throw new InvalidInputException(
          cacheFile
              + " holds answers of judge "
              + cachedJudge.asText()
              + ", not "
              + judgeModel
              + "; scores of different judges do not mix: pass --out to another folder, or move"
              + " the file away");
    }
    cache.put("judge_model", judgeModel);
    Map<String, Double> score = new LinkedHashMap<>();
    Map<String, Double> pos = new LinkedHashMap<>();
    Map<String, Double> neg = new LinkedHashMap<>();
    int done = 0;
    for (Map.Entry<String, List<Question>> e : questions.entrySet()) {
      String key = e.getKey();
      JsonNode p = predictions.get(key);
      if (p == null || !p.isTextual()) {
        throw new InvalidInputException(
            "annotation " + key + " has no description in the model outputs; generate it first");
      }
      String pred = p.asText();
      if (pred.startsWith("Error:")) {
        throw new InvalidInputException("annotation " + key + " has an error as output: " + pred);
      }
      List<String> cached = null;
      JsonNode entry = cache.get(key);
      if (entry != null && entry.path("response").isArray()) {
        if (entry.path("pred").asText().equals(pred)) {
          cached = new ArrayList<>();
          for (JsonNode r : entry.get("response")) {
            cached.add(r.isTextual() ? r.asText() : null);
          }
        } else {
          log.accept(key + ": the description changed since it was judged; judging it again");
        }
      }
      ObjectNode info = Scorer.evaluate(key, pred, e.getValue(), cached, judge, log);
      ObjectNode record = JsonFiles.JSON.createObjectNode();
      record.put("pred", pred);
      record.setAll(info);
      cache.set(key, record);
      JsonFiles.write(cacheFile, cache);
      score.put(key, info.get("score").asDouble());
      pos.put(key, info.get("score_pos").asDouble());
      neg.put(key, info.get("score_neg").isNull() ? null : info.get("score_neg").asDouble());
      progress.update("judging", ++done, questions.size());
    }
    double sumPos = 0;
    for (double v : pos.values()) {
      sumPos += v;
    }
    double sumNeg = 0;
    int nNeg = 0;
    for (Double v : neg.values()) {
      if (v != null) {
        sumNeg += v;
        nNeg++;
      }
    }
    if (pos.isEmpty() || nNeg == 0) {
      throw new InvalidInputException("nothing to average: the benchmark has no scored negatives");
    }
    Result r =
        new Result(judgeModel, sumPos / pos.size(), sumNeg / nNeg, pos.size(), score, pos, neg);
    cache.put("avg_pos", r.avgPos());
    cache.put("avg_neg", r.avgNeg());
    JsonFiles.write(cacheFile, cache);
    return r;
  }
}

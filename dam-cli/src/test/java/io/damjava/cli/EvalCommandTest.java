package io.damjava.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpServer;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicReference;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code dam eval dlc-bench} end to end: a small synthetic benchmark in the official format, the
 * tiny bundle describing it, and a judge served on loopback by the test.
 */
class EvalCommandTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path tmp;
  private HttpServer server;
  private final List<JsonNode> requests = new ArrayList<>();

  /** "ok", "slow" (sleeps past the timeout) or "garbage". */
  private final AtomicReference<String> mode = new AtomicReference<>("ok");

  @BeforeEach
  void startJudge() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext(
        "/v1/chat/completions",
        ex -> {
          JsonNode req = JSON.readTree(ex.getRequestBody());
          String prompt = req.get("messages").get(0).get("content").asText();
          String answer;
          if (mode.get().equals("slow")) {
            sleep(3000);
          }
          synchronized (requests) {
            requests.add(req);
          }
          if (prompt.contains("Is it likely that the object")) {
            answer =
                mode.get().equals("garbage")
                    ? "Perhaps?"
                    : prompt.contains("scissors") ? "No" : "Yes";
          } else {
            answer = "B";
          }
          ObjectNode body = JSON.createObjectNode();
          body.putArray("choices").addObject().putObject("message").put("content", answer);
          byte[] b = body.toString().getBytes(StandardCharsets.UTF_8);
          ex.getResponseHeaders().add("Content-Type", "application/json");
          ex.sendResponseHeaders(200, b.length);
          try (OutputStream o = ex.getResponseBody()) {
            o.write(b);
          }
        });
    server.start();
  }

  @AfterEach
  void stopJudge() {
    server.stop(0);
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private String judgeUrl() {
    return "http://127.0.0.1:" + server.getAddress().getPort() + "/v1";
  }

  private int calls() {
    synchronized (requests) {
      return requests.size();
    }
  }

  @Test
  void generatesJudgesScoresAndReusesEverythingOnARerun() throws IOException {
    Path data = bench(tmp.resolve("DLC-bench"));
    Path out = tmp.resolve("results");
    Fixtures.Result r = run(data, out);
    assertEquals(0, r.code(), r.err());

    JsonNode outputs = JSON.readTree(out.resolve("tiny.json").toFile());
    for (String k : List.of("101", "102", "201")) {
      assertTrue(outputs.get(k).isTextual(), k + " in " + outputs);
    }
    assertEquals("<image>\nDescribe the masked region in detail.", outputs.get("query").asText());
    // Recognition + qa questions: 101 has 3, 102 has 2, 201 has 1.
    assertEquals(4 + 3 + 2, calls());
    JsonNode first = requests.get(0);
    assertEquals("test-judge", first.get("model").asText());
    assertEquals(0.0, first.get("temperature").asDouble());
    assertEquals(300, first.get("max_tokens").asInt());
    assertTrue(
        first
            .get("messages")
            .get(0)
            .get("content")
            .asText()
            .startsWith("Answer the multiple-choice question based on the text description"));

    // 101: pos 0.5, 0.5, neg -1. 102 (not recognized): pos 0.5 -> 0, neg -1. 201: pos 0.5.
    JsonNode cache = JSON.readTree(out.resolve("tiny_eval.json").toFile());
    assertEquals(0.5, cache.get("101").get("score_pos").asDouble());
    assertEquals(-1.0, cache.get("101").get("score_neg").asDouble());
    assertEquals(0.0, cache.get("101").get("score").asDouble());
    assertEquals(false, cache.get("102").get("recognition_result").asBoolean());
    assertEquals(0.0, cache.get("102").get("score_pos").asDouble());
    assertTrue(cache.get("201").get("score_neg").isNull());
    assertEquals(outputs.get("101").asText(), cache.get("101").get("pred").asText());
    assertEquals(4, cache.get("101").get("response").size());
    assertTrue(r.out().contains("judged by test-judge"), r.out());
    assertTrue(
        r.out().contains("Summary (Pos\tNeg\tAvg(Pos, Neg)):\t0.333,\t-1.000,\t-0.333"), r.out());
    JsonNode results = JSON.readTree(out.resolve("tiny_results.json").toFile());
    assertEquals("test-judge", results.get("judge_model").asText());
    assertEquals(1.0 / 3, results.get("avg_pos").asDouble(), 1e-15);

    // A re-run generates nothing and asks the judge nothing.
    Fixtures.Result again = run(data, out);
    assertEquals(0, again.code(), again.err());
    assertEquals(9, calls());
    assertEquals(outputs, JSON.readTree(out.resolve("tiny.json").toFile()));

    // Drop one description: only it is generated and judged again.
    ObjectNode partial = (ObjectNode) outputs.deepCopy();
    partial.remove("201");
    Files.writeString(out.resolve("tiny.json"), partial.toString());
    Fixtures.Result resumed = run(data, out);
    assertEquals(0, resumed.code(), resumed.err());
    assertEquals(outputs, JSON.readTree(out.resolve("tiny.json").toFile()), "same seed, same text");
    assertEquals(9, calls(), "201's text is unchanged, so its cached answers are reused");

    // Scoring a finished outputs file needs neither a model nor, when all is cached, a judge.
    Fixtures.Result rescored =
        Fixtures.run(
            "eval",
            "dlc-bench",
            "--data",
            data.toString(),
            "--outputs",
            out.resolve("tiny.json").toString(),
            "--judge-model",
            "test-judge");
    assertEquals(0, rescored.code(), rescored.err());
    assertTrue(rescored.out().contains("0.333,\t-1.000,\t-0.333"), rescored.out());
    Files.delete(out.resolve("tiny_eval.json"));
    Fixtures.Result noJudge =
        Fixtures.run(
            "eval",
            "dlc-bench",
            "--data",
            data.toString(),
            "--outputs",
            out.resolve("tiny.json").toString(),
            "--judge-model",
            "test-judge");
    assertEquals(DamCli.FAILURE, noJudge.code(), noJudge.err());
    assertTrue(noJudge.err().contains("no --judge-url was given"), noJudge.err());
    // Another judge's cache is refused rather than mixed.
    Fixtures.Result other = runJudged(data, out, "another-judge");
    assertEquals(0, other.code(), other.err());
    Fixtures.Result mixed = run(data, out);
    assertEquals(DamCli.BAD_INPUT, mixed.code(), mixed.err());
    assertTrue(mixed.err().contains("holds answers of judge another-judge"), mixed.err());
  }

  @Test
  void aJudgeTimeoutOrGarbageLeavesTheCacheIntactAndTheRunResumable() throws IOException {
    Path data = bench(tmp.resolve("DLC-bench"));
    Path out = tmp.resolve("results");
    mode.set("garbage");
    Fixtures.Result bad = run(data, out);
    assertEquals(DamCli.FAILURE, bad.code(), bad.err());
    assertTrue(bad.err().contains("neither Yes nor No: 'Perhaps?'"), bad.err());
    assertTrue(Files.isRegularFile(out.resolve("tiny.json")), "descriptions are kept");

    mode.set("slow");
    Fixtures.Result slow = run(data, out, "--judge-timeout", "1");
    assertEquals(DamCli.FAILURE, slow.code(), slow.err());
    assertTrue(slow.err().contains("did not answer within 1 s"), slow.err());

    mode.set("ok");
    int before = calls();
    Fixtures.Result ok = run(data, out);
    assertEquals(0, ok.code(), ok.err());
    assertTrue(calls() > before);
    assertTrue(JSON.readTree(out.resolve("tiny_eval.json").toFile()).has("avg_pos"));
  }

  @Test
  void badBenchmarksAreTypedErrors() throws IOException {
    Path data = bench(tmp.resolve("missing-image"));
    Files.delete(data.resolve("images/b.png"));
    Fixtures.Result r = run(data, tmp.resolve("o1"));
    assertEquals(DamCli.BAD_INPUT, r.code(), r.err());
    assertTrue(r.err().contains("b.png") && r.err().contains("not found"), r.err());
    assertTrue(r.err().contains("2 of 3 descriptions are saved"), r.err());

    data = bench(tmp.resolve("bad-rle"));
    ObjectNode coco = (ObjectNode) JSON.readTree(data.resolve("annotations.json").toFile());
    ((ObjectNode) coco.get("annotations").get(0).get("segmentation")).put("counts", "0~~");
    Files.writeString(data.resolve("annotations.json"), coco.toString());
    r = run(data, tmp.resolve("o2"));
    assertEquals(DamCli.BAD_INPUT, r.code(), r.err());
    assertTrue(r.err().contains("annotation 101: malformed RLE"), r.err());

    data = bench(tmp.resolve("unknown-qa"));
    ObjectNode qa = (ObjectNode) JSON.readTree(data.resolve("qa.json").toFile());
    qa.set("999", qa.get("201"));
    Files.writeString(data.resolve("qa.json"), qa.toString());
    r = run(data, tmp.resolve("o3"));
    assertEquals(DamCli.BAD_INPUT, r.code(), r.err());
    assertTrue(r.err().contains("annotation 999, which annotations.json does not have"), r.err());
    assertFalse(Files.exists(tmp.resolve("o3")));
  }

  private Fixtures.Result run(Path data, Path out, String... extra) {
    return runJudged(data, out, "test-judge", extra);
  }

  private Fixtures.Result runJudged(Path data, Path out, String judgeModel, String... extra) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "eval",
                "dlc-bench",
                "--data",
                data.toString(),
                "--model",
                Fixtures.tinyImage().toString(),
                "--judge-url",
                judgeUrl(),
                "--judge-model",
                judgeModel,
                "--out",
                out.toString(),
                "--name",
                "tiny",
                "--threads",
                "1"));
    args.addAll(List.of(extra));
    return Fixtures.run(args.toArray(String[]::new));
  }

  /** Two images, three annotations, questions of every kind, in DLC-Bench's published format. */
  static Path bench(Path dir) throws IOException {
    Files.createDirectories(dir.resolve("images"));
    Random rnd = new Random(16);
    writeImage(dir.resolve("images/a.png"), 40, 30, rnd);
    writeImage(dir.resolve("images/b.png"), 36, 48, rnd);
    ObjectNode coco = JSON.createObjectNode();
    ArrayNode images = coco.putArray("images");
    images.addObject().put("id", 1).put("file_name", "a.png").put("width", 40).put("height", 30);
    images.addObject().put("id", 2).put("file_name", "b.png").put("width", 36).put("height", 48);
    ArrayNode anns = coco.putArray("annotations");
    addAnn(anns, 101, 1, box(40, 30, 5, 4, 20, 15));
    addAnn(anns, 102, 1, box(40, 30, 22, 10, 38, 28));
    addAnn(anns, 201, 2, box(36, 48, 8, 8, 30, 40));
    coco.putArray("categories").addObject().put("id", 1).put("name", "object");
    Files.writeString(dir.resolve("annotations.json"), coco.toString());
    ObjectNode names = JSON.createObjectNode();
    names.put("101", "cat").put("102", "scissors").put("201", "apple");
    Files.writeString(dir.resolve("class_names.json"), names.toString());
    ObjectNode qa = JSON.createObjectNode();
    qa.set("101", JSON.createArrayNode().add(pos("color")).add(pos("ears")).add(neg("wings")));
    qa.set("102", JSON.createArrayNode().add(pos("blades")).add(neg("wheels")));
    qa.set("201", JSON.createArrayNode().add(pos("skin")));
    Files.writeString(dir.resolve("qa.json"), qa.toString());
    return dir;
  }

  private static ObjectNode pos(String part) {
    ObjectNode q = JSON.createObjectNode();
    q.put("question", "Which of the following is applicable to the description?");
    ArrayNode c = q.putArray("choices");
    c.addArray().add("The " + part + " is not mentioned.").add(0);
    c.addArray().add("The " + part + " is mentioned, its color is not.").add(0.5);
    c.addArray().add("The " + part + " has the wrong color.").add(-1);
    c.addArray().add("The " + part + " has the right color.").add(1);
    q.put("type", "positive");
    return q;
  }

  private static ObjectNode neg(String part) {
    ObjectNode q = JSON.createObjectNode();
    q.put("question", "Which of the following is applicable to the description?");
    ArrayNode c = q.putArray("choices");
    c.addArray().add("The object has no " + part + " in the description.").add(1);
    c.addArray().add("The object has " + part + " in the description.").add(-1);
    q.put("type", "negative");
    return q;
  }

  private static void addAnn(ArrayNode anns, int id, int image, ObjectNode seg) {
    anns.addObject()
        .put("id", id)
        .put("image_id", image)
        .put("category_id", 1)
        .put("iscrowd", 0)
        .set("segmentation", seg);
  }

  /** A box mask in COCO compressed RLE (column-major runs, pycocotools' rleToString). */
  static ObjectNode box(int w, int h, int x0, int y0, int x1, int y1) {
    List<Long> runs = new ArrayList<>();
    boolean cur = false;
    long n = 0;
    for (int x = 0; x < w; x++) {
      for (int y = 0; y < h; y++) {
        boolean v = x >= x0 && x < x1 && y >= y0 && y < y1;
        if (v != cur) {
          runs.add(n);
          n = 0;
          cur = v;
        }
        n++;
      }
    }
    runs.add(n);
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < runs.size(); i++) {
      long x = runs.get(i) - (i > 2 ? runs.get(i - 2) : 0);
      boolean more = true;
      while (more) {
        long c = x & 0x1f;
        x >>= 5;
        more = (c & 0x10) != 0 ? x != -1 : x != 0;
        if (more) {
          c |= 0x20;
        }
        s.append((char) (c + 48));
      }
    }
    ObjectNode seg = JSON.createObjectNode();
    seg.putArray("size").add(h).add(w);
    seg.put("counts", s.toString());
    return seg;
  }

  private static void writeImage(Path file, int w, int h, Random rnd) throws IOException {
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        img.setRGB(x, y, rnd.nextInt(0xFFFFFF));
      }
    }
    ImageIO.write(img, "png", file.toFile());
  }
}

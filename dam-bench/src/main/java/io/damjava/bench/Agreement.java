package io.damjava.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.damjava.onnx.EngineStages;
import io.damjava.onnx.TokenProbe;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * {@code ./dam bench agree}: greedy tokens of a converted bundle for plain token-id prompts, the
 * engine side of tools/reference/precision_agreement.py (docs/PERFORMANCE.md, "Agreement with
 * NVIDIA's fp16 arithmetic").
 *
 * <pre>
 * ./dam bench agree --bundle DIR --prompts FILE --out FILE [--batch 8] [--threads 2]
 * </pre>
 *
 * {@code --prompts} is the JSON the reference writes: {@code {"prompts": [[ids]], "tokens": N,
 * "reference": [[ids]]}}. For every prompt the bundle decodes N greedy tokens (EOS not honoured)
 * and, teacher-forced along {@code reference}, records its argmax at each of those N positions.
 * Writes {@code {"tokens", "margins", "forced_argmax", "seconds"}}.
 */
public final class Agreement {
  private static final ObjectMapper JSON = new ObjectMapper();

  private Agreement() {}

  public static void main(String[] args) throws Exception {
    Path bundle = null;
    Path prompts = null;
    Path out = null;
    int batch = 8;
    int threads = 2;
    for (int i = 0; i + 1 < args.length; i += 2) {
      String v = args[i + 1];
      switch (args[i]) {
        case "--bundle" -> bundle = Path.of(v);
        case "--prompts" -> prompts = Path.of(v);
        case "--out" -> out = Path.of(v);
        case "--batch" -> batch = Integer.parseInt(v);
        case "--threads" -> threads = Integer.parseInt(v);
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    if (bundle == null || prompts == null || out == null) {
      System.err.println(
          "usage: dam bench agree --bundle DIR --prompts FILE --out FILE [--batch 8] [--threads 2]");
      System.exit(2);
    }
    JsonNode in = JSON.readTree(prompts.toFile());
    int[][] p = ints(in.get("prompts"));
    int[][] ref = in.hasNonNull("reference") ? ints(in.get("reference")) : null;
    int n = in.get("tokens").asInt();
    ObjectNode res = JSON.createObjectNode();
    ArrayNode tokens = res.putArray("tokens");
    ArrayNode margins = res.putArray("margins");
    ArrayNode forced = res.putArray("forced_argmax");
    long t0 = System.nanoTime();
    try (EngineStages e = EngineStages.open(bundle, threads)) {
      res.put("precision", e.manifest().precision().toString());
      for (int s = 0; s < p.length; s += batch) {
        int[][] rows = Arrays.copyOfRange(p, s, Math.min(p.length, s + batch));
        TokenProbe.Rows free = e.greedyTokens(rows, n, null);
        for (int b = 0; b < rows.length; b++) {
          tokens.add(array(free.argmax()[b]));
          ArrayNode m = margins.addArray();
          for (float f : free.margins()[b]) {
            m.add(f);
          }
        }
        if (ref != null) {
          TokenProbe.Rows tf =
              e.greedyTokens(rows, n, Arrays.copyOfRange(ref, s, Math.min(p.length, s + batch)));
          for (int[] a : tf.argmax()) {
            forced.add(array(a));
          }
        }
        System.err.printf("agree: %d/%d prompts%n", Math.min(p.length, s + batch), p.length);
      }
    }
    res.put("seconds", (System.nanoTime() - t0) / 1e9);
    JSON.writeValue(out.toFile(), res);
  }

  private static int[][] ints(JsonNode rows) {
    int[][] out = new int[rows.size()][];
    for (int i = 0; i < out.length; i++) {
      JsonNode r = rows.get(i);
      out[i] = new int[r.size()];
      for (int j = 0; j < out[i].length; j++) {
        out[i][j] = r.get(j).asInt();
      }
    }
    return out;
  }

  private static ArrayNode array(int[] a) {
    ArrayNode n = JSON.createArrayNode();
    for (int v : a) {
      n.add(v);
    }
    return n;
  }
}

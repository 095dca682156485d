package io.damjava.bench;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The section of a {@link Compare} report on the describe() calls measured under ONNX Runtime
 * profiling: the time inside and outside ONNX Runtime's run calls, regions per batched vision call,
 * and the operators that take each stage's node time.
 */
final class ProfiledDescribes {
  private ProfiledDescribes() {}

  /**
   * Appends the section to {@code md} and returns, by precision, the time outside ONNX Runtime as a
   * fraction of the projected full-depth describe() ({@code describeFull}, ms by precision).
   */
  static Map<String, Double> append(
      StringBuilder md,
      Map<String, JsonNode> describes,
      List<String> precisions,
      int deep,
      int captionTokens,
      Map<String, Double> describeFull) {
    md.append(
        String.format(
            Locale.ROOT,
            "### describe() measured at %d layers (%d tokens, greedy, ONNX Runtime profiling on)%n%n",
            deep,
            captionTokens));
    md.append(
        "| precision | wall ms | inside ORT run calls ms | outside ms | outside / wall | outside / projected full-depth describe() |\n|---|---|---|---|---|---|\n");
    Map<String, Double> outsideFull = new LinkedHashMap<>();
    for (String p : precisions) {
      JsonNode d = describes.get(p).path("describe");
      double o = d.path("outside_ort_ms").asDouble();
      outsideFull.put(p, o / describeFull.get(p));
      md.append(
          String.format(
              Locale.ROOT,
              "| %s | %.0f | %.0f | %.0f | %.1f%% | %.2f%% |%n",
              p,
              d.path("wall_ms").asDouble(),
              d.path("ort_run_ms").asDouble(),
              o,
              100 * d.path("outside_ort_fraction").asDouble(),
              100 * o / describeFull.get(p)));
    }
    md.append('\n');

    md.append("Regions per call (one batched vision call, same sessions, ms):");
    for (String p : precisions) {
      JsonNode d = describes.get(p);
      md.append(
          String.format(
              Locale.ROOT,
              " %s: 1 region %.0f, 4 regions %.0f (%.2f× per region);",
              p,
              d.path("vision_ms_1_regions").asDouble(),
              d.path("vision_ms_4_regions").asDouble(),
              d.path("vision_ms_4_regions").asDouble()
                  / 4
                  / d.path("vision_ms_1_regions").asDouble()));
    }
    md.append("\n\n");
    md.append(
        "Where ONNX Runtime's time goes in that call (node time per operator, share of the stage's"
            + " node time; ORT profiling):\n\n| precision | stage | top operators |\n|---|---|---|\n");
    for (String p : precisions) {
      JsonNode ops = describes.get(p).path("describe").path("ops_ms");
      for (String stage :
          List.of(
              "visionContext", "visionFocal", "projector", "decoder.prefill", "decoder.decode")) {
        JsonNode g = ops.path(stage);
        if (!g.isObject()) {
          continue;
        }
        List<Map.Entry<String, JsonNode>> l = new ArrayList<>();
        g.fields().forEachRemaining(l::add);
        double total = l.stream().mapToDouble(x -> x.getValue().asDouble()).sum();
        l.sort((x, y) -> Double.compare(y.getValue().asDouble(), x.getValue().asDouble()));
        StringBuilder top = new StringBuilder();
        for (int i = 0; i < Math.min(4, l.size()); i++) {
          top.append(i == 0 ? "" : ", ")
              .append(
                  String.format(
                      Locale.ROOT,
                      "%s %.0f%%",
                      l.get(i).getKey(),
                      100 * l.get(i).getValue().asDouble() / total));
        }
        md.append(String.format(Locale.ROOT, "| %s | %s (%.0f ms) | %s |%n", p, stage, total, top));
      }
    }
    md.append('\n');
    return outsideFull;
  }
}

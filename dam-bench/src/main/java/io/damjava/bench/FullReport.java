package io.damjava.bench;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;

/** The Markdown tables of a {@link FullRun} result. */
final class FullReport {
  private FullReport() {}

  static String markdown(JsonNode all) {
    StringBuilder s = new StringBuilder();
    s.append("Full depth (DAM-3B shapes, random weights): ")
        .append(all.path("cpu").asText())
        .append(", ")
        .append(all.path("cores").asInt())
        .append(" cores, ")
        .append(all.path("mem_total_mb").asLong() / 1024)
        .append(" GiB; `")
        .append(all.path("command").asText())
        .append("`, ")
        .append(all.path("date").asText())
        .append("\n\n");
    JsonNode ck = all.path("checkpoint");
    s.append(
        String.format(
            Locale.ROOT,
            "Checkpoint: %.1f GB, made in %.0f s at %.2f GB peak RSS%s.%n%n",
            ck.path("bytes").asDouble() / 1e9,
            ck.path("make_s").asDouble(),
            ck.path("peak_rss_mb").asDouble() / 1024,
            ck.path("cached").asBoolean() ? " (cached from an earlier run)" : ""));
    s.append(
        "| precision | convert s | convert peak GiB | bundle GB | first load s | second load s"
            + " | preprocess ms | vision s | prefill s | decode s (tokens) | describe() s"
            + " | ms/token @256 | @1024 | peak RSS GiB |\n");
    s.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (Iterator<Map.Entry<String, JsonNode>> it = all.path("precisions").fields();
        it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      JsonNode p = e.getValue();
      if (p.has("skipped")) {
        s.append("| ").append(e.getKey()).append(" | skipped: ");
        s.append(p.path("skipped").asText()).append(" |||||||||||||\n");
        continue;
      }
      JsonNode c = p.path("convert");
      JsonNode f = p.path("first_load");
      JsonNode w = p.path("second_load");
      JsonNode st = p.path("stages").path("by_context");
      s.append(
          String.format(
              Locale.ROOT,
              "| %s | %.0f%s | %.2f | %.2f | %.1f | %.1f | %.0f | %.1f | %.1f | %.1f (%d) | %.1f"
                  + " | %.0f | %.0f | %.2f |%n",
              e.getKey(),
              c.path("convert_ms").asDouble() / 1000,
              c.path("cached").asBoolean() ? " (cached)" : "",
              c.path("peak_rss_mb").asDouble() / 1024,
              c.path("bundle_bytes").asDouble() / 1e9,
              f.path("load_ms").asDouble() / 1000,
              w.path("load_ms").asDouble() / 1000,
              w.path("preprocess_ms").asDouble(),
              w.path("vision_ms").asDouble() / 1000,
              w.path("prefill_ms").asDouble() / 1000,
              w.path("decode_ms").asDouble() / 1000,
              w.path("tokens").asInt(),
              w.path("total_ms").asDouble() / 1000,
              st.path("256").path("decode_ms_per_token").asDouble(),
              st.path("1024").path("decode_ms_per_token").asDouble(),
              Math.max(f.path("peak_rss_mb").asDouble(), w.path("peak_rss_mb").asDouble()) / 1024));
    }
    JsonNode ref = all.path("reference");
    if (ref.has("skipped")) {
      s.append("\nReference (fp32 PyTorch): skipped, ").append(ref.path("skipped").asText());
      s.append(".\n");
    } else if (!ref.isMissingNode()) {
      JsonNode rc = ref.path("by_context");
      s.append(
          String.format(
              Locale.ROOT,
              "%nReference (fp32 PyTorch, same machine and threads): vision %.1f s per region,"
                  + " prefill %.1f s, decode %.0f ms/token @256, %.0f @1024, peak RSS %.2f GiB.%n",
              ref.path("vision_ms_per_region").asDouble() / 1000,
              ref.path("prompt_prefill_ms").asDouble() / 1000,
              rc.path("256").path("decode_ms_per_token").asDouble(),
              rc.path("1024").path("decode_ms_per_token").asDouble(),
              ref.path("peak_rss_mb").asDouble() / 1024));
    }
    JsonNode pr = all.path("projection");
    JsonNode m = all.path("precisions").path("int4");
    if (!pr.isMissingNode() && m.has("stages")) {
      JsonNode st = m.path("stages");
      s.append("\nint4, measured at full depth against the per-layer projection from 2 and 3")
          .append(" layers (the quick mode):\n\n")
          .append("| stage | projected | measured | measured / projected |\n|---|---|---|---|\n");
      row(
          s,
          "vision ms per region",
          pr.path("vision_ms_per_region"),
          st.path("vision_ms_per_region"));
      row(s, "prefill ms", pr.path("prompt_prefill_ms"), st.path("prompt_prefill_ms"));
      for (String c : new String[] {"256", "1024"}) {
        row(
            s,
            "decode ms/token @" + c,
            pr.path("decode_ms_per_token_" + c),
            st.path("by_context").path(c).path("decode_ms_per_token"));
      }
    }
    return s.toString();
  }

  private static void row(StringBuilder s, String name, JsonNode projected, JsonNode measured) {
    double p = projected.asDouble();
    double m = measured.asDouble();
    s.append(String.format(Locale.ROOT, "| %s | %.0f | %.0f | %.2f |%n", name, p, m, m / p));
  }
}

package io.damjava.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.damjava.api.Caption;
import io.damjava.api.CaptionListener;
import io.damjava.api.Timings;
import java.io.PrintWriter;
import java.util.List;

/**
 * How {@code dam describe} prints captions: streamed text as it is generated, or the {@code --json}
 * form (one object, or an array for several regions).
 */
final class CaptionOutput {
  private CaptionOutput() {}

  static CaptionListener print(PrintWriter out) {
    return delta -> {
      out.print(delta);
      out.flush();
    };
  }

  static String toJson(List<Caption> captions) {
    ObjectMapper mapper = new ObjectMapper();
    ArrayNode arr = mapper.createArrayNode();
    for (Caption c : captions) {
      ObjectNode o = arr.addObject();
      o.put("text", c.text());
      ArrayNode ids = o.putArray("tokenIds");
      for (int id : c.tokenIds()) {
        ids.add(id);
      }
      o.put("promptTokens", c.promptTokens());
      o.put("stopReason", c.stopReason().name());
      Timings t = c.timings();
      ObjectNode tm = o.putObject("timingsMs");
      tm.put("preprocess", t.preprocess().toNanos() / 1e6);
      tm.put("vision", t.vision().toNanos() / 1e6);
      tm.put("prefill", t.prefill().toNanos() / 1e6);
      tm.put("decode", t.decode().toNanos() / 1e6);
      tm.put("total", t.total().toNanos() / 1e6);
    }
    return (captions.size() == 1 ? arr.get(0) : arr).toPrettyString();
  }
}

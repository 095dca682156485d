package io.damjava.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.damjava.api.Caption;
import io.damjava.api.DamImage;
import io.damjava.api.DescribeAnything;
import io.damjava.api.GenerationOptions;
import io.damjava.api.Mask;
import io.damjava.api.Region;
import java.nio.file.Path;
import java.util.List;

/**
 * A child of {@link FullRun}: loads a bundle through the public API, as a user does, and describes
 * one region of a 640x480 image with greedy decoding. Prints one JSON object: {@code load_ms}
 * (builder to a ready instance: manifest, checksums, tokenizer, sessions), the caption's stage
 * timings, its token count and this process's peak RSS.
 *
 * <pre>java -cp dam-bench.jar io.damjava.bench.LoadStage --bundle DIR [--tokens 100] [--threads 2]
 * </pre>
 */
public final class LoadStage {
  private LoadStage() {}

  public static void main(String[] args) throws Exception {
    Path bundle = null;
    int tokens = 100;
    int threads = 2;
    for (int i = 0; i + 1 < args.length; i += 2) {
      switch (args[i]) {
        case "--bundle" -> bundle = Path.of(args[i + 1]);
        case "--tokens" -> tokens = Integer.parseInt(args[i + 1]);
        case "--threads" -> threads = Integer.parseInt(args[i + 1]);
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    if (bundle == null) {
      throw new IllegalArgumentException("--bundle DIR is required");
    }
    ObjectNode res = new ObjectMapper().createObjectNode();
    res.put("loadavg_start", loadavg());
    DamImage image = Synthetic.image(640, 480);
    Mask mask = Synthetic.mask(640, 480);
    long t0 = System.nanoTime();
    try (DescribeAnything dam = DescribeAnything.builder().model(bundle).threads(threads).build()) {
      res.put("load_ms", JavaStages.ms(System.nanoTime() - t0));
      res.put("rss_after_load_mb", rssMb());
      GenerationOptions o = dam.defaultOptions().withTemperature(0).withMaxNewTokens(tokens);
      long t1 = System.nanoTime();
      Caption c = dam.describe(image, List.<Region>of(Region.mask(mask)), o).get(0);
      res.put("describe_wall_ms", JavaStages.ms(System.nanoTime() - t1));
      res.put("tokens", c.tokenCount());
      res.put("stop", c.stopReason().toString());
      res.put("prompt_length", c.promptTokens());
      res.put("preprocess_ms", JavaStages.ms(c.timings().preprocess().toNanos()));
      res.put("vision_ms", JavaStages.ms(c.timings().vision().toNanos()));
      res.put("prefill_ms", JavaStages.ms(c.timings().prefill().toNanos()));
      res.put("decode_ms", JavaStages.ms(c.timings().decode().toNanos()));
      res.put("total_ms", JavaStages.ms(c.timings().total().toNanos()));
      res.put(
          "decode_ms_per_token",
          c.tokenCount() > 1
              ? JavaStages.ms(c.timings().decode().toNanos()) / (c.tokenCount() - 1)
              : Double.NaN);
      // mapped weights (file-backed, reclaimable) and heap/arena memory (anonymous) after the call
      res.put("rss_anon_mb", status("RssAnon"));
      res.put("rss_file_mb", status("RssFile"));
    }
    res.put("process_ms", JavaStages.ms(System.nanoTime() - t0));
    res.put("peak_rss_mb", JavaStages.peakRssMb());
    res.put("loadavg_end", loadavg());
    System.out.println(new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(res));
  }

  /** The 1-minute load average (other work on a shared machine shows here). */
  static double loadavg() {
    try {
      return Double.parseDouble(
          java.nio.file.Files.readString(Path.of("/proc/loadavg")).split(" ")[0]);
    } catch (java.io.IOException | RuntimeException e) {
      return Double.NaN;
    }
  }

  static double rssMb() {
    return status("VmRSS");
  }

  /** A /proc/self/status field in MB (NaN where there is none). */
  static double status(String field) {
    try {
      for (String line : java.nio.file.Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith(field + ":")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
        }
      }
    } catch (java.io.IOException | NumberFormatException e) {
      // not Linux
    }
    return Double.NaN;
  }
}

package io.damjava.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.damjava.convert.ConvertOptions;
import io.damjava.convert.ConvertSummary;
import io.damjava.convert.Converter;
import io.damjava.onnx.bundle.BundleManifest.Precision;
import java.nio.file.Path;
import java.util.Locale;

/**
 * A child of {@link FullRun}: converts one checkpoint and prints the wall time, the parameter and
 * byte counts and this process's peak RSS as JSON.
 *
 * <pre>java -cp dam-bench.jar io.damjava.bench.ConvertStage CHECKPOINT OUT PRECISION</pre>
 */
public final class ConvertStage {
  private ConvertStage() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 3) {
      throw new IllegalArgumentException("usage: ConvertStage CHECKPOINT OUT PRECISION");
    }
    ConvertSummary s =
        Converter.run(
            ConvertOptions.of(Path.of(args[0]), Path.of(args[1]))
                .withPrecision(Precision.valueOf(args[2].toUpperCase(Locale.ROOT))));
    ObjectNode res = new ObjectMapper().createObjectNode();
    res.put("convert_ms", s.time().toMillis());
    res.put("parameters", s.parameters());
    res.put("bundle_bytes", s.bytes());
    res.put("peak_rss_mb", JavaStages.peakRssMb());
    System.out.println(new ObjectMapper().writeValueAsString(res));
  }
}

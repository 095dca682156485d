package io.damjava.bench;

import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.damjava.api.Caption;
import io.damjava.api.DamImage;
import io.damjava.api.Device;
import io.damjava.api.GenerationOptions;
import io.damjava.api.Mask;
import io.damjava.convert.ConvertOptions;
import io.damjava.convert.ConvertSummary;
import io.damjava.convert.Converter;
import io.damjava.onnx.EngineStages;
import io.damjava.onnx.bundle.BundleManifest;
import io.damjava.onnx.bundle.BundleManifest.Precision;
import io.damjava.onnx.bundle.ManifestIo;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.ToIntFunction;

/**
 * The Java half of tools/device/cuda-check.sh: converts a checkpoint (once), then on one device
 * times vision, prefill and chained greedy decode steps, runs describe() of one region, and reports
 * tokens per second and the decode rate as a fraction of the memory-bandwidth bound.
 *
 * <pre>
 * java -cp dam-bench.jar io.damjava.bench.DeviceCheck --checkpoint DIR --bundle DIR
 *     [--device cuda:0|cpu] [--precision fp16] [--compute fp16|fp32] [--tokens 100] [--reps 3]
 *     [--threads 0] [--hbm-gbps 4800]
 * </pre>
 *
 * The bound: every decode step reads the decoder's weights (the bytes of its files in the bundle)
 * and the KV cache at the step's context once, so tokens/s cannot exceed bandwidth ÷ (weight bytes
 * + KV bytes). {@code --hbm-gbps}: H100 SXM 3350, H200 4800; 0 leaves the ratio out. Prints one
 * JSON object on stdout; progress on stderr.
 */
public final class DeviceCheck {
  private DeviceCheck() {}

  public static void main(String[] args) throws Exception {
    Path checkpoint = null;
    Path bundle = null;
    Device device = Device.cpu();
    Precision precision = Precision.FP16;
    ConvertOptions.Compute compute = ConvertOptions.Compute.FP16;
    int tokens = 100;
    int reps = 3;
    int threads = 0;
    double hbm = 0;
    for (int i = 0; i + 1 < args.length; i += 2) {
      String v = args[i + 1];
      switch (args[i]) {
        case "--checkpoint" -> checkpoint = Path.of(v);
        case "--bundle" -> bundle = Path.of(v);
        case "--device" -> device = Device.parse(v);
        case "--precision" -> precision = Precision.valueOf(v.toUpperCase(Locale.ROOT));
        case "--compute" -> compute = ConvertOptions.Compute.valueOf(v.toUpperCase(Locale.ROOT));
        case "--tokens" -> tokens = Integer.parseInt(v);
        case "--reps" -> reps = Integer.parseInt(v);
        case "--threads" -> threads = Integer.parseInt(v);
        case "--hbm-gbps" -> hbm = Double.parseDouble(v);
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    if (bundle == null) {
      throw new IllegalArgumentException("--bundle DIR is required");
    }
    ObjectMapper json = new ObjectMapper();
    ObjectNode res = json.createObjectNode();
    res.put("device", device.toString());
    res.put("bundle", bundle.toString());
    if (!Files.isRegularFile(bundle.resolve(BundleManifest.FILE_NAME))) {
      if (checkpoint == null) {
        throw new IllegalArgumentException("no bundle in " + bundle + ": give --checkpoint DIR");
      }
      log("converting " + checkpoint + " to " + precision + " compute " + compute);
      ConvertSummary s =
          Converter.run(
              ConvertOptions.of(checkpoint, bundle)
                  .withPrecision(precision)
                  .withCompute(compute)
                  .withProgress(m -> {}));
      res.put("convert_s", s.time().toMillis() / 1000.0);
    }
    BundleManifest m = ManifestIo.read(bundle);
    BundleManifest.Dims d = m.dims();
    res.put("precision", m.precision().toString().toLowerCase(Locale.ROOT));
    res.put("kv_dtype", d.kvDtype());
    res.put("layers", d.layers());
    long weightBytes = 0;
    for (BundleManifest.FileEntry f : m.files()) {
      if (f.path().startsWith("decoder.")) { // not decoder_prefill.*: steps never read it
        weightBytes += f.bytes();
      }
    }
    res.put("decoder_bytes", weightBytes);

    DamImage image = Synthetic.image(640, 480);
    Mask mask = Synthetic.mask(640, 480);
    long t0 = System.nanoTime();
    log("creating sessions on " + device);
    try (EngineStages e = EngineStages.open(bundle, threads, device)) {
      res.put("session_s", (System.nanoTime() - t0) / 1e9);
      PrefillStage p = PrefillStage.run(e, e.region(image, mask), reps);
      res.put("vision_ms", p.visionMs()[reps / 2]);
      int length = p.length();
      FloatBuffer embeds = p.embeds();
      res.put("prompt_length", length);
      res.put("prefill_ms", p.prefillMs()[reps / 2]);

      log("decoding " + tokens + " chained greedy steps");
      ToIntFunction<float[]> argmax =
          EngineStages.sampler(GenerationOptions.defaults().withTemperature(0), 0);
      double[] stepMs = new double[tokens];
      OrtSession.Result prev = e.prefill(embeds.rewind(), length);
      int id = argmax.applyAsInt(e.logits(prev));
      for (int t = 0; t < tokens; t++) {
        long s = System.nanoTime();
        OrtSession.Result r = e.step(prev, length + t, id);
        id = argmax.applyAsInt(e.logits(r));
        stepMs[t] = (System.nanoTime() - s) / 1e6;
        prev.close();
        prev = r;
      }
      prev.close();
      int warm = Math.min(4, tokens / 2);
      double[] steady = Arrays.copyOfRange(stepMs, warm, tokens);
      double decodeMs = Arrays.stream(steady).average().orElse(Double.NaN);
      res.put("decode_ms_per_token", decodeMs);
      res.put("decode_tokens_per_s", 1000.0 / decodeMs);
      int bytesPerKv = d.kvDtype().equals("float16") ? 2 : 4;
      double meanContext = length + (warm + tokens) / 2.0;
      double kvBytes = 2.0 * d.layers() * d.kvHeads() * d.headDim() * bytesPerKv * meanContext;
      res.put("kv_bytes_per_step", (long) kvBytes);
      if (hbm > 0) {
        double bound = hbm * 1e9 / (weightBytes + kvBytes);
        res.put("hbm_gbps", hbm);
        res.put("hbm_bound_tokens_per_s", bound);
        res.put("decode_over_hbm_bound", (1000.0 / decodeMs) / bound);
      }

      log("describe() of one region, " + tokens + " greedy tokens");
      // Random weights may reach EOS early: describe_tokens says how many were decoded.
      GenerationOptions o =
          GenerationOptions.defaults().withTemperature(0).withMaxNewTokens(tokens);
      e.describe(image, List.of(mask), o); // warm-up
      long s = System.nanoTime();
      Caption c = e.describe(image, List.of(mask), o).get(0);
      double wall = (System.nanoTime() - s) / 1e6;
      res.put("describe_ms", wall);
      res.put("describe_tokens", c.tokenCount());
      res.put("describe_tokens_per_s", c.tokenCount() / (wall / 1000.0));
    }
    System.out.println(json.writerWithDefaultPrettyPrinter().writeValueAsString(res));
  }

  private static void log(String s) {
    System.err.println("[device-check] " + s);
  }
}

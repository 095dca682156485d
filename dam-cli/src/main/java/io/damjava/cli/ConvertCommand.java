package io.damjava.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.damjava.api.InvalidInputException;
import io.damjava.api.ModelLoadException;
import io.damjava.convert.ConvertOptions;
import io.damjava.convert.ConvertSummary;
import io.damjava.convert.Converter;
import io.damjava.convert.HubDownloader;
import io.damjava.convert.sam2.Sam2Bundles;
import io.damjava.onnx.bundle.BundleManifest.KvCache;
import io.damjava.onnx.bundle.BundleManifest.Precision;
import io.damjava.onnx.bundle.BundleManifest.Style;
import io.damjava.onnx.bundle.BundleManifest.Variant;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code dam convert}: a Hugging Face checkpoint into a bundle, via dam-convert's Converter. */
@Command(
    name = "convert",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Convert a DAM checkpoint into a bundle for `dam describe` and `dam serve`.",
      "The checkpoint is a folder in the nvidia/DAM-3B layout (config.json, llm/,",
      "vision_tower/, context_provider/, mm_projector/) or a Hugging Face id; the",
      "bundle holds five ONNX graphs, the tokenizer and dam-bundle.json.",
      "See docs/conversion.md. Prints the bundle's path on stdout.",
      "",
      "Examples:",
      "  dam convert --checkpoint ~/DAM-3B --out models/DAM-3B",
      "  dam convert --from nvidia/DAM-3B-Video --out models/DAM-3B-Video-int8 \\",
      "      --precision int8",
      "  dam convert --checkpoint tools/reference/fixtures/tiny-image \\",
      "      --out /tmp/tiny-dam",
      "",
      "A SAM 2.1 checkpoint in the transformers layout (model_type sam2_video; from the",
      "hub: a repository named sam2*, e.g. facebook/sam2.1-hiera-tiny) becomes a",
      "segmenter bundle for --segmenter instead (four fp32 graphs, sam2-bundle.json):",
      "  dam convert --from facebook/sam2.1-hiera-tiny --out models/sam2.1-hiera-tiny",
      ""
    })
final class ConvertCommand implements Callable<Integer> {
  @Spec CommandLine.Model.CommandSpec spec;
  @ParentCommand DamCli parent;

  static final class Source {
    @Option(
        names = "--checkpoint",
        required = true,
        paramLabel = "DIR",
        description = "A checkpoint folder (config.json, llm/, vision_tower/, ...).")
    Path checkpoint;

    @Option(
        names = "--from",
        required = true,
        paramLabel = "REPO_ID[@rev]",
        description =
            "Download from the Hugging Face hub first (HF_ENDPOINT, HF_TOKEN, HF_HOME apply).")
    String from;
  }

  @ArgGroup(exclusive = true, multiplicity = "1")
  Source source;

  @Option(
      names = "--out",
      required = true,
      paramLabel = "DIR",
      description = "The bundle directory to create (must not exist, or be empty).")
  Path out;

  @Option(
      names = "--precision",
      paramLabel = "fp32|fp16|int8|int4",
      description = "Weight precision (default ${DEFAULT-VALUE}).")
  String precision = "fp32";

  @Option(
      names = "--style",
      paramLabel = "contrib|standard",
      description =
          "Operators: ONNX Runtime contrib ops (default) or standard ONNX only (fp32/fp16).")
  String style = "contrib";

  @Option(
      names = "--variant",
      paramLabel = "image|image_video",
      description = "Default: guessed from the name (contains Video or joint: image_video).")
  String variant;

  @Option(
      names = "--kv",
      paramLabel = "growing|shared",
      description =
          "Decoder KV cache: growing (default) or shared, one in-place buffer per layer"
              + " (contrib only; see docs/PERFORMANCE.md).")
  String kv = "growing";

  @Option(
      names = "--compute",
      paramLabel = "fp32|fp16",
      description =
          "Activation type: fp32 (default) or fp16 (GPU graphs: float16 activations and KV"
              + " cache; needs --precision fp16, int8 or int4; see docs/cuda.md).")
  String compute = "fp32";

  @Option(
      names = "--lm-head",
      paramLabel = "float|int8|int4",
      description =
          "lm_head storage (default: int8 for --precision int8/int4 computing in fp32, float"
              + " otherwise; contrib only). See docs/conversion.md for the measured logit error.")
  String lmHead;

  @Option(
      names = "--vision",
      paramLabel = "float|int8|int4|int8-dynamic",
      description =
          "Storage of the vision graphs' linear layers (default: int8-dynamic for --precision"
              + " int8/int4 computing in fp32, float otherwise; contrib only). int8-dynamic: int8"
              + " weights and an int8 GEMM per call (DynamicQuantizeMatMul, CPU); see"
              + " docs/conversion.md.")
  String vision;

  @Option(
      names = "--prefill",
      paramLabel = "decoder|int8-dynamic",
      description =
          "Which graph runs the prompt's prefill (default: int8-dynamic for --precision int8/int4"
              + " computing in fp32, a second decoder with int8 DynamicQuantizeMatMul layers, 2.6x"
              + " faster on CPU for 2.6 GB more bundle; decoder otherwise). See"
              + " docs/conversion.md.")
  String prefill;

  @Option(
      names = "--block-size",
      paramLabel = "N",
      description =
          "Weights per scale in the decoder's int8/int4 (MatMulNBits) layers: a power of two from"
              + " 16 to 256 (default 32). Larger blocks make a smaller bundle and a faster decode"
              + " for more rounding error; see docs/conversion.md for the measured figures.")
  Integer blockSize;

  @Override
  public Integer call() {
    Precision p = parse(Precision.class, "--precision", precision);
    Style s = parse(Style.class, "--style", style);
    Variant v = variant == null ? null : parse(Variant.class, "--variant", variant);
    KvCache k = parse(KvCache.class, "--kv", kv);
    ConvertOptions.Compute c = parse(ConvertOptions.Compute.class, "--compute", compute);
    ConvertOptions.Quant head = quant("--lm-head", lmHead);
    ConvertOptions.Quant vis = quant("--vision", vision);
    ConvertOptions.Prefill pre =
        prefill == null ? null : parse(ConvertOptions.Prefill.class, "--prefill", prefill);
    if (k == KvCache.SHARED && s != Style.CONTRIB) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "--kv shared needs --style contrib (GroupQueryAttention)");
    }
    if (s == Style.STANDARD && (p == Precision.INT8 || p == Precision.INT4)) {
      throw new CommandLine.ParameterException(
          spec.commandLine(),
          "--precision " + precision + " needs --style contrib (MatMulNBits is a contrib op)");
    }
    boolean sam2 = isSam2();
    if (blockSize != null && !sam2) {
      try {
        ConvertOptions.checkBlockSize(blockSize, p);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
      }
    }
    if (source.checkpoint != null && !Files.isDirectory(source.checkpoint)) {
      throw new InvalidInputException("--checkpoint " + source.checkpoint + ": no such folder");
    }
    if (Files.exists(out) && !isEmptyDir(out)) {
      throw new InvalidInputException(
          "--out " + out + " already exists and is not empty: choose a new folder");
    }
    PrintWriter err = spec.commandLine().getErr();
    if (sam2) {
      return convertSam2(err, p, s, v);
    }
    ConsoleProgress progress =
        new ConsoleProgress(err, ConsoleProgress.bars(parent.env), "convert");
    ConvertSummary summary;
    try {
      summary =
          Converter.run(
              new ConvertOptions(
                  source.checkpoint,
                  source.from,
                  out,
                  p,
                  s,
                  v,
                  progress,
                  k,
                  c,
                  head,
                  vis,
                  pre,
                  blockSize));
    } catch (UncheckedIOException e) {
      throw new ModelLoadException(e.getMessage(), e);
    } catch (IllegalArgumentException e) {
      throw new InvalidInputException(e.getMessage(), e);
    } finally {
      progress.finish();
    }
    spec.commandLine().getOut().println(summary.bundle());
    err.println("dam: converted " + summary);
    return DamCli.OK;
  }

  /** A checkpoint whose config.json says sam2_video, or a hub repository named sam2*. */
  private boolean isSam2() {
    if (source.from != null) {
      String name = source.from.substring(source.from.indexOf('/') + 1).toLowerCase(Locale.ROOT);
      return name.startsWith("sam2");
    }
    Path config = source.checkpoint.resolve("config.json");
    if (!Files.isRegularFile(config)) {
      return false;
    }
    try {
      return "sam2_video"
          .equals(new ObjectMapper().readTree(config.toFile()).path("model_type").asText());
    } catch (IOException e) {
      return false; // the DAM path reports the unreadable config
    }
  }

  private int convertSam2(PrintWriter err, Precision p, Style s, Variant v) {
    boolean damOnly =
        !"fp32".equals(compute)
            || lmHead != null
            || vision != null
            || prefill != null
            || blockSize != null;
    if (p != Precision.FP32
        || s != Style.CONTRIB
        || v != null
        || !"growing".equals(kv)
        || damOnly) {
      throw new CommandLine.ParameterException(
          spec.commandLine(),
          "a SAM 2.1 checkpoint converts to fp32 graphs only: drop --precision, --style,"
              + " --variant, --kv, --compute, --lm-head, --vision, --prefill and --block-size");
    }
    ConsoleProgress progress =
        new ConsoleProgress(err, ConsoleProgress.bars(parent.env), "convert");
    Path bundle;
    try {
      bundle =
          source.from != null
              ? Sam2Bundles.fetch(
                  HubDownloader.Settings.fromEnvironment(), source.from, out, progress)
              : Sam2Bundles.write(source.checkpoint, out);
    } catch (UncheckedIOException e) {
      throw new ModelLoadException(e.getMessage(), e);
    } finally {
      progress.finish();
    }
    spec.commandLine().getOut().println(bundle.toAbsolutePath().normalize());
    err.println("dam: converted a SAM 2.1 segmenter bundle into " + bundle);
    return DamCli.OK;
  }

  private ConvertOptions.Quant quant(String flag, String value) {
    if (value == null) {
      return null;
    }
    String t = value.toLowerCase(Locale.ROOT);
    if (t.equals("fp32") || t.equals("fp16")) {
      return ConvertOptions.Quant.FLOAT;
    }
    return parse(ConvertOptions.Quant.class, flag, value);
  }

  private <E extends Enum<E>> E parse(Class<E> type, String flag, String value) {
    for (E e : type.getEnumConstants()) {
      if (e.name().equalsIgnoreCase(value.replace('-', '_'))) {
        return e;
      }
    }
    StringBuilder allowed = new StringBuilder();
    for (E e : type.getEnumConstants()) {
      allowed
          .append(allowed.length() == 0 ? "" : ", ")
          .append(e.name().toLowerCase(Locale.ROOT).replace('_', '-'));
    }
    throw new CommandLine.ParameterException(
        spec.commandLine(), flag + ": '" + value + "' is not one of " + allowed);
  }

  private static boolean isEmptyDir(Path p) {
    if (!Files.isDirectory(p)) {
      return false;
    }
    try (DirectoryStream<Path> s = Files.newDirectoryStream(p)) {
      return !s.iterator().hasNext();
    } catch (IOException e) {
      return false;
    }
  }
}

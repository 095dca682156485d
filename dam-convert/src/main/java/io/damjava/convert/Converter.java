package io.damjava.convert;

import io.damjava.onnx.bundle.BundleManifest;
import io.damjava.onnx.bundle.BundleManifest.Precision;
import io.damjava.onnx.bundle.BundleManifest.Style;
import io.damjava.onnx.bundle.BundleManifest.Variant;
import io.damjava.onnx.bundle.FileDigest;
import io.damjava.onnx.bundle.ManifestIo;
import io.damjava.onnx.bundle.VerifiedDigests;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * Converts an nvidia/DAM-3B style Hugging Face checkpoint into a bundle: five ONNX graphs with
 * external weights, the tokenizer, and {@code dam-bundle.json}. The bundle is assembled in a hidden
 * temporary folder next to the output and moved into place at the end.
 */
public final class Converter {
  static final String VISION_CONTEXT = "vision_context.onnx";
  static final String VISION_DATA = "vision.onnx.data";
  static final String VISION_FOCAL = "vision_focal.onnx";
  static final String PROJECTOR = "projector.onnx";
  static final String EMBED = "embed_tokens.onnx";
  static final String DECODER = "decoder.onnx";
  static final String DECODER_PREFILL = "decoder_prefill.onnx";
  static final String TOKENIZER = "tokenizer.model";

  private Converter() {}

  /** Runs a conversion. */
  public static ConvertSummary run(ConvertOptions o) {
    return run(o, null, new Linears.NBits(4, o.decoderBlockSize()));
  }

  /** Test hook: force a linear mode for the decoder and choose MatMulNBits' settings. */
  static ConvertSummary run(ConvertOptions o, Linears.Mode decoderMode, Linears.NBits nbits) {
    long t0 = System.nanoTime();
    Path ckpt = o.checkpoint();
    String name;
    if (ckpt == null) {
      HubDownloader.Repo repo = HubDownloader.Repo.parse(o.from());
      ckpt =
          new HubDownloader(HubDownloader.Settings.fromEnvironment(), o.progress()).download(repo);
      name = repo.name();
    } else {
      name = ckpt.toAbsolutePath().normalize().getFileName().toString();
    }
    Variant variant = o.variant() != null ? o.variant() : guessVariant(name);
    if (o.style() == Style.STANDARD
        && (o.precision() == Precision.INT8 || o.precision() == Precision.INT4)) {
      throw new IllegalArgumentException(
          "--precision "
              + o.precision().name().toLowerCase(Locale.ROOT)
              + " needs --style contrib (MatMulNBits is an ONNX Runtime contrib op)");
    }
    Linears.Mode mode =
        decoderMode != null
            ? decoderMode
            : switch (o.precision()) {
              case INT8 -> Linears.Mode.Q8;
              case INT4 -> Linears.Mode.Q4;
              default -> Linears.Mode.FLOAT;
            };
    boolean fp16Compute = o.compute() == ConvertOptions.Compute.FP16;
    boolean fp16 = o.precision() == Precision.FP16 || fp16Compute;
    boolean contrib = o.style() == Style.CONTRIB;
    Linears.Mode headMode = mode(o.lmHeadStorage());
    Linears.Mode visionMode = mode(o.visionStorage());
    boolean prefillGraph = o.prefillGraph() == ConvertOptions.Prefill.INT8_DYNAMIC;
    Path out = o.out().toAbsolutePath().normalize();
    if (Files.exists(out) && !isEmptyDir(out)) {
      throw new IllegalArgumentException(out + " already exists and is not empty");
    }
    Path tmp = out.resolveSibling("." + out.getFileName() + ".converting");
    try {
      deleteRecursively(tmp);
      Files.createDirectories(tmp);
      long params = 0;
      try (Checkpoint c = Checkpoint.open(ckpt)) {
        long need = DiskSpace.lowerBound(c, o.precision());
        if (prefillGraph) {
          need += DiskSpace.lowerBound(c, Precision.INT8); // decoder_prefill.onnx.data
        }
        DiskSpace.require(tmp, out, need, o.precision());
        Progress p = o.progress();
        int blocks = c.visionBlocks();
        int grid = c.vision().imageSize() / c.vision().patchSize();
        // Both vision graphs run the same SigLIP blocks: one data file holds their weights once.
        try (ExternalData vision = new ExternalData(tmp.resolve(VISION_DATA))) {
          try (OnnxBuilder b = builder(tmp.resolve(VISION_CONTEXT), fp16, fp16Compute, vision)) {
            VisionGraphs.vision(
                b,
                c.visionTensors(),
                c.vision(),
                null,
                null,
                blocks,
                false,
                contrib,
                visionMode,
                nbits.atDefaultBlock(),
                p);
            b.save();
            params += b.parameters();
          }
          try (OnnxBuilder b = builder(tmp.resolve(VISION_FOCAL), fp16, fp16Compute, vision)) {
            VisionGraphs.vision(
                b,
                c.visionTensors(),
                c.vision(),
                c.contextTensors(),
                c.context(),
                blocks,
                true,
                contrib,
                visionMode,
                nbits.atDefaultBlock(),
                p);
            b.save();
            params += b.parameters(); // without the blocks it shares with vision_context
          }
        }
        p.step("projector");
        try (OnnxBuilder b = builder(tmp.resolve(PROJECTOR), fp16, fp16Compute, null)) {
          VisionGraphs.projector(
              b, c.projectorTensors(), grid, c.vision().hidden(), c.llm().hidden(), contrib);
          b.save();
          params += b.parameters();
        }
        p.step("embed_tokens");
        try (OnnxBuilder b = new OnnxBuilder(tmp.resolve(EMBED), fp16)) {
          VisionGraphs.embed(b, c.llmTensors(), c.llm().vocab(), c.llm().hidden(), fp16);
          b.save();
          params += b.parameters();
        }
        try (OnnxBuilder b = builder(tmp.resolve(DECODER), fp16, fp16Compute, null)) {
          DecoderGraph.build(
              b,
              c.llmTensors(),
              c.llm(),
              contrib,
              o.kvCache() == BundleManifest.KvCache.SHARED,
              mode,
              headMode,
              nbits,
              p);
          b.save();
          params += b.parameters();
        }
        if (prefillGraph) {
          p.step("prefill decoder (int8 DynamicQuantizeMatMul)");
          try (OnnxBuilder b = builder(tmp.resolve(DECODER_PREFILL), fp16, fp16Compute, null)) {
            DecoderGraph.build(
                b,
                c.llmTensors(),
                c.llm(),
                contrib,
                o.kvCache() == BundleManifest.KvCache.SHARED,
                Linears.Mode.QD8,
                // its weights stay mapped (no pre-packing), where a MatMulNBits head took 0.76 s
                // per prefill at full depth; DynamicQuantizeMatMul does not need packed weights
                headMode == Linears.Mode.FLOAT ? Linears.Mode.FLOAT : Linears.Mode.QD8,
                nbits,
                p);
            b.save();
          }
        }
        Path tok = ckpt.resolve("llm").resolve(TOKENIZER);
        if (!Files.isRegularFile(tok)) {
          throw new CheckpointException(tok + ": missing tokenizer file");
        }
        Files.copy(tok, tmp.resolve(TOKENIZER));
        p.step("checksums");
        List<BundleManifest.FileEntry> files = checksums(tmp);
        BundleManifest m =
            ConvertedManifest.of(
                name,
                variant,
                o.precision(),
                o.style(),
                o.kvCache(),
                fp16Compute,
                prefillGraph,
                c,
                files);
        ManifestIo.write(tmp, m);
      }
      long bytes = 0;
      for (Path f : list(tmp)) {
        bytes += Files.size(f);
      }
      if (Files.exists(out)) {
        Files.delete(out); // empty directory
      }
      Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE);
      // The digests were just computed: the first load need not read 5-15 GB again.
      for (BundleManifest.FileEntry f : ManifestIo.read(out).files()) {
        VerifiedDigests.remember(out.resolve(f.path()), f.sha256());
      }
      return new ConvertSummary(
          out,
          prefillGraph
              ? List.of(VISION_CONTEXT, VISION_FOCAL, PROJECTOR, EMBED, DECODER, DECODER_PREFILL)
              : List.of(VISION_CONTEXT, VISION_FOCAL, PROJECTOR, EMBED, DECODER),
          params,
          bytes,
          Duration.ofNanos(System.nanoTime() - t0));
    } catch (IOException e) {
      DiskFullException full = DiskSpace.explain(e, out.getParent(), out);
      deleteQuietly(tmp);
      if (full != null) {
        throw full;
      }
      throw new UncheckedIOException("conversion to " + out + " failed: " + e.getMessage(), e);
    } catch (RuntimeException e) {
      DiskFullException full =
          e instanceof DiskFullException ? null : DiskSpace.explain(e, out.getParent(), out);
      deleteQuietly(tmp);
      throw full != null ? full : e;
    }
  }

  private static OnnxBuilder builder(
      Path file, boolean fp16Weights, boolean fp16Compute, ExternalData shared) throws IOException {
    OnnxBuilder b =
        shared == null
            ? new OnnxBuilder(file, fp16Weights)
            : new OnnxBuilder(file, fp16Weights, shared);
    return fp16Compute ? b.fp16Compute() : b;
  }

  private static Linears.Mode mode(ConvertOptions.Quant q) {
    return switch (q) {
      case FLOAT -> Linears.Mode.FLOAT;
      case INT8 -> Linears.Mode.Q8;
      case INT4 -> Linears.Mode.Q4;
      case INT8_DYNAMIC -> Linears.Mode.QD8;
    };
  }

  /** The reference server treats paths containing "joint" (and the -Video repo) as joint. */
  static Variant guessVariant(String name) {
    String n = name.toLowerCase(Locale.ROOT);
    return n.contains("video") || n.contains("joint") ? Variant.IMAGE_VIDEO : Variant.IMAGE;
  }

  /** SHA-256 of every file in the folder, sorted by name. */
  static List<BundleManifest.FileEntry> checksums(Path dir) throws IOException {
    List<BundleManifest.FileEntry> out = new ArrayList<>();
    for (Path f : list(dir)) {
      if (f.getFileName().toString().equals(BundleManifest.FILE_NAME)) {
        continue;
      }
      out.add(
          new BundleManifest.FileEntry(
              f.getFileName().toString(), Files.size(f), FileDigest.sha256(f)));
    }
    return out;
  }

  private static List<Path> list(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(Files::isRegularFile).sorted().toList();
    }
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

  static void deleteRecursively(Path p) throws IOException {
    if (!Files.exists(p)) {
      return;
    }
    try (Stream<Path> s = Files.walk(p)) {
      for (Path x : s.sorted((a, b) -> b.getNameCount() - a.getNameCount()).toList()) {
        Files.deleteIfExists(x);
      }
    }
  }

  private static void deleteQuietly(Path p) {
    try {
      deleteRecursively(p);
    } catch (IOException ignored) {
      // best effort
    }
  }

  /** Command line: see docs/conversion.md. */
  public static void main(String[] args) {
    try {
      ConvertSummary s = run(parse(args));
      System.err.println("done: " + s);
    } catch (IllegalArgumentException | CheckpointException | UncheckedIOException e) {
      System.err.println("dam convert: " + e.getMessage());
      System.exit(2);
    }
  }

  static ConvertOptions parse(String[] args) {
    Path ckpt = null;
    String from = null;
    Path out = null;
    Precision precision = Precision.FP32;
    Style style = Style.CONTRIB;
    Variant variant = null;
    BundleManifest.KvCache kv = BundleManifest.KvCache.GROWING;
    ConvertOptions.Compute compute = ConvertOptions.Compute.FP32;
    ConvertOptions.Quant lmHead = null;
    ConvertOptions.Quant vision = null;
    ConvertOptions.Prefill prefill = null;
    Integer block = null;
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (a.equals("-h") || a.equals("--help")) {
        throw new IllegalArgumentException(usage());
      }
      if (i + 1 >= args.length) {
        throw new IllegalArgumentException("missing value after " + a + "\n" + usage());
      }
      String v = args[++i];
      switch (a) {
        case "--checkpoint" -> ckpt = Path.of(v);
        case "--from" -> from = v;
        case "--out" -> out = Path.of(v);
        case "--precision" -> precision = enumValue(Precision.class, v, a);
        case "--style" -> style = enumValue(Style.class, v, a);
        case "--variant" -> variant = enumValue(Variant.class, v, a);
        case "--kv" -> kv = enumValue(BundleManifest.KvCache.class, v, a);
        case "--compute" -> compute = enumValue(ConvertOptions.Compute.class, v, a);
        case "--lm-head" -> lmHead = quant(v, a);
        case "--vision" -> vision = quant(v, a);
        case "--prefill" ->
            prefill = enumValue(ConvertOptions.Prefill.class, v.replace('-', '_'), a);
        case "--block-size" -> block = blockSize(v);
        default -> throw new IllegalArgumentException("unknown option " + a + "\n" + usage());
      }
    }
    Progress p = m -> System.err.println("[convert] " + m);
    return new ConvertOptions(
        ckpt, from, out, precision, style, variant, p, kv, compute, lmHead, vision, prefill, block);
  }

  /** The value of {@code --block-size}: a whole number (the range is checked with the rest). */
  public static int blockSize(String v) {
    try {
      return Integer.parseInt(v.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "--block-size " + v + ": expected a power of two from 16 to 256, e.g. 32 or 128");
    }
  }

  /**
   * {@code fp32}/{@code fp16}/{@code float} (the bundle's float storage), {@code int8}, {@code
   * int4}.
   */
  static ConvertOptions.Quant quant(String v, String opt) {
    String t = v.toLowerCase(Locale.ROOT);
    if (t.equals("fp32") || t.equals("fp16") || t.equals("float")) {
      return ConvertOptions.Quant.FLOAT;
    }
    return enumValue(ConvertOptions.Quant.class, t.replace('-', '_'), opt);
  }

  private static <E extends Enum<E>> E enumValue(Class<E> c, String v, String opt) {
    for (E e : c.getEnumConstants()) {
      if (e.name().equalsIgnoreCase(v)) {
        return e;
      }
    }
    throw new IllegalArgumentException("bad value for " + opt + ": " + v + "\n" + usage());
  }

  static String usage() {
    return "usage: dam convert (--checkpoint DIR | --from REPO_ID[@revision]) --out DIR"
        + " [--precision fp32|fp16|int8|int4] [--style contrib|standard] [--variant"
        + " image|image_video] [--kv growing|shared] [--compute fp32|fp16] [--lm-head"
        + " float|int8|int4] [--vision float|int8|int4|int8-dynamic] [--prefill"
        + " decoder|int8-dynamic] [--block-size 16..256]";
  }
}

package io.damjava.convert;

import io.damjava.onnx.bundle.BundleManifest.KvCache;
import io.damjava.onnx.bundle.BundleManifest.Precision;
import io.damjava.onnx.bundle.BundleManifest.Style;
import io.damjava.onnx.bundle.BundleManifest.Variant;
import java.nio.file.Path;
import java.util.function.Consumer;

/**
 * What to convert and how.
 *
 * @param checkpoint a local checkpoint folder (nvidia/DAM-3B layout), or null with {@code from}
 * @param from a Hugging Face repo id with optional {@code @revision}, or null
 * @param out the bundle directory to create (must not exist or be empty)
 * @param precision weight precision
 * @param style operator style
 * @param variant image or image_video; null guesses from the folder/repo name
 * @param progress receives progress lines
 * @param kvCache the decoder's KV cache layout; null means {@link KvCache#GROWING}, {@link
 *     KvCache#SHARED} needs the contrib style
 * @param compute the activation type of the graphs; null means {@link Compute#FP32}. {@link
 *     Compute#FP16} (GPU graphs) needs precision fp16, int8 or int4 and a growing KV cache
 * @param lmHead how the decoder's lm_head is stored; null means {@link #defaultLmHead} of the
 *     precision and compute type (kept null, so that {@link #withPrecision} moves it along)
 * @param vision how the linear layers of the two vision graphs are stored; null means {@link
 *     #defaultVision} of the precision and compute type
 * @param prefill whether multi-position prefills get a graph of their own; null means {@link
 *     #defaultPrefill} of the precision and compute type
 * @param blockSize values per scale along K of the decoder's int8/int4 (MatMulNBits) layers, a
 *     power of two from 16 to 256; null means {@link #DEFAULT_BLOCK_SIZE}; int8 and int4 precisions
 *     only. The lm_head and vision MatMulNBits layers ({@code lmHead}/{@code vision} int8|int4)
 *     keep block 32
 */
public record ConvertOptions(
    Path checkpoint,
    String from,
    Path out,
    Precision precision,
    Style style,
    Variant variant,
    Progress progress,
    KvCache kvCache,
    Compute compute,
    Quant lmHead,
    Quant vision,
    Prefill prefill,
    Integer blockSize) {
  /**
   * The decoder's MatMulNBits block size used when none is given, for every precision. Block 128
   * decodes a full-depth int4 step in 0.84x the time on a 2-vCPU Xeon, but rounds Gaussian-like
   * weights with 1.2-1.5x the error of block 32, which our uniform random checkpoints cannot show
   * (docs/conversion.md "Block size (measured)"); it stays an opt-in until it is measured on
   * trained weights.
   */
  public static final int DEFAULT_BLOCK_SIZE = Linears.BLOCK;

  /** The element type graphs compute in (I/O stays float32; the KV cache follows compute). */
  public enum Compute {
    /** float32 activations (every precision's default; the parity reference). */
    FP32,
    /** float16 activations and KV cache, float32 only inside norms, softmax and the logits. */
    FP16
  }

  /** Which graph runs the prompt's prefill (many positions at once). */
  public enum Prefill {
    /** The decoder itself (one graph for prefill and steps). */
    DECODER,
    /**
     * A second decoder graph, {@code decoder_prefill.onnx}, whose linear layers are int8
     * DynamicQuantizeMatMul (an integer GEMM, fast at many rows); the steps stay on the decoder.
     * Contrib style, float32 compute, CPU kernels.
     */
    INT8_DYNAMIC
  }

  /** The storage of one group of linear layers. */
  public enum Quant {
    /**
     * Float weights in the bundle's precision (fp32, or fp16 for fp16 and fp16-compute bundles).
     */
    FLOAT,
    /** MatMulNBits, 8 bits, block 32. */
    INT8,
    /** MatMulNBits, 4 bits, block 32. */
    INT4,
    /**
     * DynamicQuantizeMatMul: int8 weights per output channel, activations quantized per call
     * ({@code int8-dynamic}; vision only, float32 compute).
     */
    INT8_DYNAMIC
  }

  public ConvertOptions {
    if ((checkpoint == null) == (from == null)) {
      throw new IllegalArgumentException("give exactly one of --checkpoint DIR and --from REPO_ID");
    }
    if (out == null) {
      throw new IllegalArgumentException("--out DIR is required");
    }
    precision = precision == null ? Precision.FP32 : precision;
    style = style == null ? Style.CONTRIB : style;
    progress = progress == null ? Progress.NONE : progress;
    kvCache = kvCache == null ? KvCache.GROWING : kvCache;
    compute = compute == null ? Compute.FP32 : compute;
    if (kvCache == KvCache.SHARED && style != Style.CONTRIB) {
      throw new IllegalArgumentException(
          "--kv shared needs --style contrib (GroupQueryAttention updates the cache in place)");
    }
    if (compute == Compute.FP16 && precision == Precision.FP32) {
      throw new IllegalArgumentException(
          "--compute fp16 needs --precision fp16, int8 or int4 (float16 weights)");
    }
    if (compute == Compute.FP16 && kvCache == KvCache.SHARED) {
      throw new IllegalArgumentException(
          "--compute fp16 keeps a float16 KV cache, which --kv shared does not support: use --kv"
              + " growing");
    }
    if (style != Style.CONTRIB
        && ((lmHead != null && lmHead != Quant.FLOAT)
            || (vision != null && vision != Quant.FLOAT))) {
      throw new IllegalArgumentException(
          "--lm-head/--vision int8|int4 need --style contrib (MatMulNBits is a contrib op)");
    }
    if (lmHead == Quant.INT8_DYNAMIC) {
      throw new IllegalArgumentException(
          "--lm-head int8-dynamic is not offered: lm_head runs one row per decode step, where"
              + " MatMulNBits (--lm-head int8) is the faster kernel");
    }
    if (prefill == Prefill.INT8_DYNAMIC && (compute == Compute.FP16 || style != Style.CONTRIB)) {
      throw new IllegalArgumentException(
          "--prefill int8-dynamic needs --style contrib and float32 compute"
              + " (DynamicQuantizeMatMul): use --prefill decoder");
    }
    if (vision == Quant.INT8_DYNAMIC && compute == Compute.FP16) {
      throw new IllegalArgumentException(
          "--vision int8-dynamic computes in float32 (DynamicQuantizeMatMul): not with --compute"
              + " fp16");
    }
    if (blockSize != null) {
      checkBlockSize(blockSize, precision);
    }
  }

  /**
   * Refuses a {@code --block-size} that MatMulNBits does not take (a power of two from 16 to 256)
   * or that a precision without int8/int4 decoder layers cannot use.
   *
   * @throws IllegalArgumentException with the flag's name and what to give instead
   */
  public static void checkBlockSize(int block, Precision precision) {
    Linears.NBits.checkBlock(block);
    if (precision != Precision.INT8 && precision != Precision.INT4) {
      throw new IllegalArgumentException(
          "--block-size applies to the decoder's int8/int4 (MatMulNBits) layers, and --precision "
              + precision.name().toLowerCase(java.util.Locale.ROOT)
              + " writes none: give --precision int8 or int4");
    }
  }

  /** The decoder's MatMulNBits block size this conversion uses. */
  public int decoderBlockSize() {
    return blockSize != null ? blockSize : DEFAULT_BLOCK_SIZE;
  }

  /**
   * The lm_head storage used when none is given: {@link Quant#INT8} for int8 and int4 bundles that
   * compute in float32 (0.65 % logit error, 10 % off a full-depth int4 decode step on CPU;
   * docs/conversion.md "lm_head and vision quantization"), {@link Quant#FLOAT} otherwise.
   */
  public static Quant defaultLmHead(Precision precision, Compute compute) {
    return quantizedForCpu(precision, compute) ? Quant.INT8 : Quant.FLOAT;
  }

  /**
   * The vision storage used when none is given: {@link Quant#INT8_DYNAMIC} for int8 and int4
   * bundles that compute in float32 (half the vision time on CPU for 1.5 % feature error at full
   * depth, small next to the quantized decoder's own; docs/conversion.md), {@link Quant#FLOAT}
   * otherwise (fp32 and fp16 bundles stay exact to the reference; fp16-compute graphs are for GPUs,
   * where DynamicQuantizeMatMul has no kernel).
   */
  public static Quant defaultVision(Precision precision, Compute compute) {
    return quantizedForCpu(precision, compute) ? Quant.INT8_DYNAMIC : Quant.FLOAT;
  }

  /**
   * The prefill graph used when none is given: {@link Prefill#INT8_DYNAMIC} for int8 and int4
   * bundles that compute in float32 (the int4 prefill of DAM-3B at full depth in 0.38x the time,
   * for 2.6 GB more bundle; docs/conversion.md), {@link Prefill#DECODER} otherwise.
   */
  public static Prefill defaultPrefill(Precision precision, Compute compute) {
    return quantizedForCpu(precision, compute) ? Prefill.INT8_DYNAMIC : Prefill.DECODER;
  }

  /**
   * int8/int4 weights computing in float32: the bundles whose defaults take the int8 head, vision
   * and prefill graph (null compute is float32, as the constructor resolves it).
   */
  private static boolean quantizedForCpu(Precision precision, Compute compute) {
    boolean quantized = precision == Precision.INT8 || precision == Precision.INT4;
    return quantized && compute != Compute.FP16;
  }

  /** The prefill graph this conversion writes. */
  public Prefill prefillGraph() {
    return prefill != null ? prefill : defaultPrefill(precision, compute);
  }

  /** The lm_head storage this conversion uses. */
  public Quant lmHeadStorage() {
    return lmHead != null ? lmHead : defaultLmHead(precision, compute);
  }

  /** The vision linear-layer storage this conversion uses. */
  public Quant visionStorage() {
    return vision != null ? vision : defaultVision(precision, compute);
  }

  /** Options with the default compute type, lm_head / vision storage and prefill graph. */
  public ConvertOptions(
      Path checkpoint,
      String from,
      Path out,
      Precision precision,
      Style style,
      Variant variant,
      Progress progress,
      KvCache kvCache) {
    this(
        checkpoint,
        from,
        out,
        precision,
        style,
        variant,
        progress,
        kvCache,
        null,
        null,
        null,
        null,
        null);
  }

  /** Options with the default growing KV cache. */
  public ConvertOptions(
      Path checkpoint,
      String from,
      Path out,
      Precision precision,
      Style style,
      Variant variant,
      Progress progress) {
    this(checkpoint, from, out, precision, style, variant, progress, KvCache.GROWING);
  }

  /** Converts a local folder to fp32 contrib-style with the variant guessed. */
  public static ConvertOptions of(Path checkpoint, Path out) {
    return new ConvertOptions(checkpoint, null, out, Precision.FP32, Style.CONTRIB, null, null);
  }

  /** A copy with another weight precision (an unset lm_head / vision storage follows it). */
  public ConvertOptions withPrecision(Precision p) {
    return with(c -> c.precision = p);
  }

  /** A copy with another operator style. */
  public ConvertOptions withStyle(Style s) {
    return with(c -> c.style = s);
  }

  /** A copy with another variant; null guesses it from the folder/repo name. */
  public ConvertOptions withVariant(Variant v) {
    return with(c -> c.variant = v);
  }

  /** A copy writing to another bundle directory. */
  public ConvertOptions withOut(Path o) {
    return with(c -> c.out = o);
  }

  /** A copy with another KV cache layout. */
  public ConvertOptions withKvCache(KvCache k) {
    return with(c -> c.kvCache = k);
  }

  /** A copy reporting progress elsewhere. */
  public ConvertOptions withProgress(Progress p) {
    return with(c -> c.progress = p);
  }

  /** A copy with another compute type. */
  public ConvertOptions withCompute(Compute c) {
    return with(x -> x.compute = c);
  }

  /** A copy with another lm_head storage. */
  public ConvertOptions withLmHead(Quant q) {
    return with(c -> c.lmHead = q);
  }

  /** A copy with another vision storage. */
  public ConvertOptions withVision(Quant q) {
    return with(c -> c.vision = q);
  }

  /** A copy with another prefill graph choice. */
  public ConvertOptions withPrefill(Prefill p) {
    return with(c -> c.prefill = p);
  }

  /** A copy with another MatMulNBits block size. */
  public ConvertOptions withBlockSize(int block) {
    return with(c -> c.blockSize = block);
  }

  /** A copy of these options with {@code change} applied, checked as a new one is. */
  private ConvertOptions with(Consumer<Copy> change) {
    Copy c = new Copy(this);
    change.accept(c);
    return new ConvertOptions(
        c.checkpoint,
        c.from,
        c.out,
        c.precision,
        c.style,
        c.variant,
        c.progress,
        c.kvCache,
        c.compute,
        c.lmHead,
        c.vision,
        c.prefill,
        c.blockSize);
  }

  /** The fields of a copy in the making: each with-method changes one of them. */
  private static final class Copy {
    Path checkpoint;
    String from;
    Path out;
    Precision precision;
    Style style;
    Variant variant;
    Progress progress;
    KvCache kvCache;
    Compute compute;
    Quant lmHead;
    Quant vision;
    Prefill prefill;
    Integer blockSize;

    Copy(ConvertOptions o) {
      checkpoint = o.checkpoint;
      from = o.from;
      out = o.out;
      precision = o.precision;
      style = o.style;
      variant = o.variant;
      progress = o.progress;
      kvCache = o.kvCache;
      compute = o.compute;
      lmHead = o.lmHead;
      vision = o.vision;
      prefill = o.prefill;
      blockSize = o.blockSize;
    }
  }
}

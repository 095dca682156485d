package io.damjava.convert;

import io.damjava.onnx.bundle.BundleManifest.KvCache;
import io.damjava.onnx.bundle.BundleManifest.Precision;
import io.damjava.onnx.bundle.BundleManifest.Style;
import io.damjava.onnx.bundle.BundleManifest.Variant;
import java.nio.file.Path;

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
 */
public record ConvertOptions(
    Path checkpoint,
    String from,
    Path out,
    Precision precision,
    Style style,
    Variant variant,
    Progress progress,
    KvCache kvCache) {
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
    if (kvCache == KvCache.SHARED && style != Style.CONTRIB) {
      throw new IllegalArgumentException(
          "--kv shared needs --style contrib (GroupQueryAttention updates the cache in place)");
    }
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

  public ConvertOptions withPrecision(Precision p) {
    return new ConvertOptions(checkpoint, from, out, p, style, variant, progress, kvCache);
  }

  public ConvertOptions withStyle(Style s) {
    return new ConvertOptions(checkpoint, from, out, precision, s, variant, progress, kvCache);
  }

  public ConvertOptions withVariant(Variant v) {
    return new ConvertOptions(checkpoint, from, out, precision, style, v, progress, kvCache);
  }

  public ConvertOptions withOut(Path o) {
    return new ConvertOptions(checkpoint, from, o, precision, style, variant, progress, kvCache);
  }

  public ConvertOptions withKvCache(KvCache k) {
    return new ConvertOptions(checkpoint, from, out, precision, style, variant, progress, k);
  }

  public ConvertOptions withProgress(Progress p) {
    return new ConvertOptions(checkpoint, from, out, precision, style, variant, p, kvCache);
  }
}

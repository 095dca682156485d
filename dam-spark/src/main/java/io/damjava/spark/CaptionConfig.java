package io.damjava.spark;

import io.damjava.api.GenerationOptions;
import io.damjava.api.InvalidInputException;
import java.io.Serializable;
import java.util.Objects;

/**
 * What a captioning job reads and how it generates: the engine, the input column names and the
 * generation options. Immutable and serializable (it travels to the executors); the {@code with}
 * methods return copies.
 *
 * <p>Input columns (a column the DataFrame lacks is simply not used):
 *
 * <ul>
 *   <li>{@code image}: a path (string: a local or shared path, or a {@code file:} URI) or the
 *       encoded image (binary, e.g. the {@code content} of Spark's {@code binaryFile} source);
 *   <li>{@code mask}: the mask image (binary) or its path (string), non-zero pixels inside;
 *   <li>{@code rle}: a COCO run-length mask: the compressed counts string (the image's size), or a
 *       struct {@code {size: [h, w], counts: string | array<int>}} as COCO JSON holds it;
 *   <li>{@code box}: {@code "x0,y0,x1,y1"} in pixels or an array of 4 numbers (needs a segmenter);
 *   <li>{@code points}: {@code "x,y;x,y"} positive clicks in pixels (needs a segmenter).
 * </ul>
 *
 * Each row has exactly one non-null region column.
 */
public final class CaptionConfig implements Serializable {
  private static final long serialVersionUID = 1L;

  private final EngineSpec engine;
  private String imageCol = "image";
  private String maskCol = "mask";
  private String rleCol = "rle";
  private String boxCol = "box";
  private String pointsCol = "points";
  private int batchSize = 8;
  private Double temperature;
  private Double topP;
  private Integer topK;
  private Integer maxNewTokens;
  private Long seed;
  private String query;

  private CaptionConfig(EngineSpec engine) {
    this.engine = Objects.requireNonNull(engine, "engine");
  }

  /** A job over the engine {@code spec}, default column names, the engine's default options. */
  public static CaptionConfig of(EngineSpec spec) {
    return new CaptionConfig(spec);
  }

  private CaptionConfig copy() {
    CaptionConfig c = new CaptionConfig(engine);
    c.imageCol = imageCol;
    c.maskCol = maskCol;
    c.rleCol = rleCol;
    c.boxCol = boxCol;
    c.pointsCol = pointsCol;
    c.batchSize = batchSize;
    c.temperature = temperature;
    c.topP = topP;
    c.topK = topK;
    c.maxNewTokens = maxNewTokens;
    c.seed = seed;
    c.query = query;
    return c;
  }

  /** The image column (default {@code image}). */
  public CaptionConfig withImageCol(String name) {
    CaptionConfig c = copy();
    c.imageCol = name(name);
    return c;
  }

  /** The mask column (default {@code mask}). */
  public CaptionConfig withMaskCol(String name) {
    CaptionConfig c = copy();
    c.maskCol = name(name);
    return c;
  }

  /** The COCO RLE column (default {@code rle}). */
  public CaptionConfig withRleCol(String name) {
    CaptionConfig c = copy();
    c.rleCol = name(name);
    return c;
  }

  /** The box column (default {@code box}). */
  public CaptionConfig withBoxCol(String name) {
    CaptionConfig c = copy();
    c.boxCol = name(name);
    return c;
  }

  /** The points column (default {@code points}). */
  public CaptionConfig withPointsCol(String name) {
    CaptionConfig c = copy();
    c.pointsCol = name(name);
    return c;
  }

  /**
   * At most this many regions of one image go through the engine in one call (default 8).
   * Consecutive rows of a partition with the same image form a batch: sort within partitions by
   * image to batch them.
   */
  public CaptionConfig withBatchSize(int n) {
    if (n < 1) {
      throw new InvalidInputException("batchSize must be >= 1, got " + n);
    }
    CaptionConfig c = copy();
    c.batchSize = n;
    return c;
  }

  /** Generation options; unset fields keep the engine's defaults. Validated here, on the driver. */
  public CaptionConfig withOptions(
      Double temperature,
      Double topP,
      Integer topK,
      Integer maxNewTokens,
      Long seed,
      String query) {
    CaptionConfig c = copy();
    c.temperature = temperature;
    c.topP = topP;
    c.topK = topK;
    c.maxNewTokens = maxNewTokens;
    c.seed = seed;
    c.query = query;
    c.options(GenerationOptions.defaults()); // validates
    return c;
  }

  /** Every field of {@code o}, which then overrides the engine's defaults entirely. */
  public CaptionConfig withOptions(GenerationOptions o) {
    return withOptions(
        o.temperature(),
        o.topP(),
        o.topK(),
        o.maxNewTokens(),
        o.seed().isPresent() ? o.seed().getAsLong() : null,
        o.query().orElse(null));
  }

  public EngineSpec engine() {
    return engine;
  }

  public String imageCol() {
    return imageCol;
  }

  public String maskCol() {
    return maskCol;
  }

  public String rleCol() {
    return rleCol;
  }

  public String boxCol() {
    return boxCol;
  }

  public String pointsCol() {
    return pointsCol;
  }

  public int batchSize() {
    return batchSize;
  }

  /** The options a call uses: {@code defaults} with this config's set fields over them. */
  public GenerationOptions options(GenerationOptions defaults) {
    GenerationOptions.Builder b = defaults.toBuilder();
    if (temperature != null) {
      b.temperature(temperature);
    }
    if (topP != null) {
      b.topP(topP);
    }
    if (topK != null) {
      b.topK(topK);
    }
    if (maxNewTokens != null) {
      b.maxNewTokens(maxNewTokens);
    }
    if (seed != null) {
      b.seed(seed);
    }
    if (query != null) {
      b.query(query);
    }
    return b.build();
  }

  private static String name(String n) {
    if (n == null || n.isBlank()) {
      throw new InvalidInputException("a column name must not be blank");
    }
    return n;
  }
}

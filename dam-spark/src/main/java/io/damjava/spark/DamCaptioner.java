package io.damjava.spark;

import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.param.DoubleParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.LongParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;

/**
 * DAM as a Spark ML {@link Transformer}: appends the {@link CaptionColumns} to a DataFrame of
 * images and regions (columns as in {@link CaptionConfig}). Works in a {@code Pipeline} and saves
 * with its params ({@code write().save(path)}, {@link #load(String)}).
 *
 * <pre>{@code
 * DamCaptioner dam = new DamCaptioner().setBundle("/shared/models/DAM-3B")
 *     .setTemperature(0).setMaxNewTokens(128);
 * Dataset<Row> captions = dam.transform(regions);
 * }</pre>
 */
public final class DamCaptioner extends Transformer implements DefaultParamsWritable {
  private static final long serialVersionUID = 1L;

  private final String uid;

  private final Param<String> bundle;
  private final Param<String> segmenter;
  private final Param<String> device;
  private final IntParam threads;
  private final Param<String> imageCol;
  private final Param<String> maskCol;
  private final Param<String> rleCol;
  private final Param<String> boxCol;
  private final Param<String> pointsCol;
  private final IntParam batchSize;
  private final DoubleParam temperature;
  private final DoubleParam topP;
  private final IntParam topK;
  private final IntParam maxNewTokens;
  private final LongParam seed;
  private final Param<String> query;

  /** A captioner with a fresh uid. */
  public DamCaptioner() {
    this("damCaptioner_" + java.util.UUID.randomUUID().toString().substring(24));
  }

  /** A captioner with the given uid (used when loading a saved one). */
  public DamCaptioner(String uid) {
    this.uid = uid;
    bundle = new Param<>(this, "bundle", "DAM bundle directory, or sparkfiles:NAME");
    segmenter = new Param<>(this, "segmenter", "SAM bundle for box/point regions; empty: none");
    device = new Param<>(this, "device", "cpu or cuda:N");
    threads = new IntParam(this, "threads", "intra-op threads per engine; 0: runtime default");
    imageCol = new Param<>(this, "imageCol", "image column: path (string) or bytes (binary)");
    maskCol = new Param<>(this, "maskCol", "mask column: PNG bytes or a path");
    rleCol = new Param<>(this, "rleCol", "COCO RLE column: counts string or {size, counts}");
    boxCol = new Param<>(this, "boxCol", "box column: x0,y0,x1,y1 or array of 4");
    pointsCol = new Param<>(this, "pointsCol", "points column: x,y;x,y");
    batchSize = new IntParam(this, "batchSize", "regions of one image per engine call");
    temperature = new DoubleParam(this, "temperature", "0 is greedy; unset: engine default");
    topP = new DoubleParam(this, "topP", "nucleus mass; unset: engine default");
    topK = new IntParam(this, "topK", "top-k; unset: engine default");
    maxNewTokens = new IntParam(this, "maxNewTokens", "max generated tokens; unset: default");
    seed = new LongParam(this, "seed", "sampling seed; unset: a fresh one per call");
    query = new Param<>(this, "query", "the question; unset: the model's default query");
    setDefault(segmenter, "");
    setDefault(device, "cpu");
    setDefault(threads, 0);
    setDefault(imageCol, "image");
    setDefault(maskCol, "mask");
    setDefault(rleCol, "rle");
    setDefault(boxCol, "box");
    setDefault(pointsCol, "points");
    setDefault(batchSize, 8);
  }

  /** Loads a captioner saved with {@code write().save(path)}. */
  public static DamCaptioner load(String path) {
    return new org.apache.spark.ml.util.DefaultParamsReader<DamCaptioner>().load(path);
  }

  @Override
  public String uid() {
    return uid;
  }

  /** The job this transformer's params describe; validated. */
  public CaptionConfig config() {
    if (!isDefined(bundle)) {
      throw new io.damjava.api.InvalidInputException("setBundle(path) is required");
    }
    return CaptionConfig.of(
            new EngineSpec(
                str(bundle), str(segmenter), str(device), (Integer) getOrDefault(threads)))
        .withImageCol(str(imageCol))
        .withMaskCol(str(maskCol))
        .withRleCol(str(rleCol))
        .withBoxCol(str(boxCol))
        .withPointsCol(str(pointsCol))
        .withBatchSize((Integer) getOrDefault(batchSize))
        .withOptions(
            isDefined(temperature) ? (Double) getOrDefault(temperature) : null,
            isDefined(topP) ? (Double) getOrDefault(topP) : null,
            isDefined(topK) ? (Integer) getOrDefault(topK) : null,
            isDefined(maxNewTokens) ? (Integer) getOrDefault(maxNewTokens) : null,
            isDefined(seed) ? (Long) getOrDefault(seed) : null,
            isDefined(query) ? str(query) : null);
  }

  @Override
  public Dataset<Row> transform(Dataset<?> dataset) {
    return DamSpark.describe(dataset.toDF(), config());
  }

  @Override
  public StructType transformSchema(StructType schema) {
    return DamSpark.outputSchema(schema, config());
  }

  @Override
  public DamCaptioner copy(ParamMap extra) {
    return defaultCopy(extra);
  }

  private String str(Param<String> p) {
    return getOrDefault(p);
  }

  // Params, as Spark ML finds them (public, no arguments, returning a Param).

  public Param<String> bundle() {
    return bundle;
  }

  public Param<String> segmenter() {
    return segmenter;
  }

  public Param<String> device() {
    return device;
  }

  public IntParam threads() {
    return threads;
  }

  public Param<String> imageCol() {
    return imageCol;
  }

  public Param<String> maskCol() {
    return maskCol;
  }

  public Param<String> rleCol() {
    return rleCol;
  }

  public Param<String> boxCol() {
    return boxCol;
  }

  public Param<String> pointsCol() {
    return pointsCol;
  }

  public IntParam batchSize() {
    return batchSize;
  }

  public DoubleParam temperature() {
    return temperature;
  }

  public DoubleParam topP() {
    return topP;
  }

  public IntParam topK() {
    return topK;
  }

  public IntParam maxNewTokens() {
    return maxNewTokens;
  }

  public LongParam seed() {
    return seed;
  }

  public Param<String> query() {
    return query;
  }

  // Setters.

  public DamCaptioner setBundle(String v) {
    set(bundle, v);
    return this;
  }

  public DamCaptioner setSegmenter(String v) {
    set(segmenter, v);
    return this;
  }

  public DamCaptioner setDevice(String v) {
    set(device, v);
    return this;
  }

  public DamCaptioner setThreads(int v) {
    set(threads, v);
    return this;
  }

  public DamCaptioner setImageCol(String v) {
    set(imageCol, v);
    return this;
  }

  public DamCaptioner setMaskCol(String v) {
    set(maskCol, v);
    return this;
  }

  public DamCaptioner setRleCol(String v) {
    set(rleCol, v);
    return this;
  }

  public DamCaptioner setBoxCol(String v) {
    set(boxCol, v);
    return this;
  }

  public DamCaptioner setPointsCol(String v) {
    set(pointsCol, v);
    return this;
  }

  public DamCaptioner setBatchSize(int v) {
    set(batchSize, v);
    return this;
  }

  public DamCaptioner setTemperature(double v) {
    set(temperature, v);
    return this;
  }

  public DamCaptioner setTopP(double v) {
    set(topP, v);
    return this;
  }

  public DamCaptioner setTopK(int v) {
    set(topK, v);
    return this;
  }

  public DamCaptioner setMaxNewTokens(int v) {
    set(maxNewTokens, v);
    return this;
  }

  public DamCaptioner setSeed(long v) {
    set(seed, v);
    return this;
  }

  public DamCaptioner setQuery(String v) {
    set(query, v);
    return this;
  }
}

package io.damjava.spark;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;

/**
 * Describes the regions of a DataFrame with DAM, on the executors: the plain Dataset API ({@link
 * DamCaptioner} is the same as a Spark ML Transformer).
 *
 * <pre>{@code
 * Dataset<Row> regions = spark.read().parquet("regions.parquet"); // image (path), mask (bytes)
 * Dataset<Row> captions =
 *     DamSpark.describe(
 *         regions,
 *         CaptionConfig.of(EngineSpec.of("/shared/models/DAM-3B"))
 *             .withOptions(0.0, null, null, 128, null, null));
 * captions.write().parquet("captions.parquet");
 * }</pre>
 *
 * <p>Each executor JVM loads the engine once, on its first task, and its tasks share it ({@link
 * DamEngines}). A row that cannot be described gets the {@code error} column; the job goes on.
 * Lazy, like any transformation: nothing runs until an action.
 */
public final class DamSpark {
  private DamSpark() {}

  /**
   * {@code input} with the {@link CaptionColumns} appended, one output row per input row.
   *
   * @throws io.damjava.api.InvalidInputException (on the driver) when the input lacks the image
   *     column or every region column, or already has an output column
   */
  public static Dataset<Row> describe(Dataset<Row> input, CaptionConfig config) {
    StructType in = input.schema();
    StructType out = outputSchema(in, config);
    return input.mapPartitions(new PartitionCaptioner(in, config), Encoders.row(out));
  }

  /** The schema {@link #describe} returns for {@code input}; checks the input columns. */
  public static StructType outputSchema(StructType input, CaptionConfig config) {
    new RowRegions(input, config); // checks the columns and their types
    return CaptionColumns.append(input);
  }
}

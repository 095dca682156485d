package io.damjava.spark.examples;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.explode;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.when;

import io.damjava.api.InvalidInputException;
import io.damjava.spark.CaptionConfig;
import io.damjava.spark.DamSpark;
import io.damjava.spark.EngineSpec;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;

/**
 * An example job: reads a folder of images with a table of regions (CSV or Parquet) or COCO
 * annotations (such as DLC-Bench's {@code annotations.json}), describes every region and writes
 * Parquet of captions.
 *
 * <pre>
 * spark-submit --class io.damjava.spark.examples.CaptionRegionsJob dam-spark-all.jar \
 *     --bundle /shared/models/DAM-3B --images /data/DLC-bench/images \
 *     --coco /data/DLC-bench/annotations.json --out /data/captions.parquet
 * </pre>
 *
 * Options: {@code --bundle DIR|sparkfiles:NAME} (required), {@code --images DIR} (required: image
 * and mask paths are relative to it), one of {@code --regions FILE.csv|FILE.parquet} (columns
 * {@code image} and one of {@code mask} (a path), {@code rle}, {@code box}, {@code points}) or
 * {@code --coco FILE.json}, {@code --out DIR} (required), and {@code --segmenter DIR}, {@code
 * --threads N}, {@code --batch N}, {@code --temperature T}, {@code --max-new-tokens N}, {@code
 * --seed S}, {@code --partitions N}.
 */
public final class CaptionRegionsJob {
  private CaptionRegionsJob() {}

  public static void main(String[] args) {
    SparkSession spark = SparkSession.builder().appName("dam-caption-regions").getOrCreate();
    try {
      long rows = run(spark, args);
      System.out.println("described " + rows + " regions");
    } finally {
      spark.stop();
    }
  }

  /** Runs the job in {@code spark}; returns the number of rows written. */
  public static long run(SparkSession spark, String[] args) {
    Map<String, String> a = parse(args);
    String images = Path.of(required(a, "images")).toAbsolutePath().toString();
    Dataset<Row> regions;
    if (a.containsKey("coco")) {
      regions = coco(spark, a.get("coco"), images);
    } else {
      String file = required(a, "regions");
      regions =
          file.endsWith(".parquet")
              ? spark.read().parquet(file)
              : spark.read().option("header", "true").csv(file);
      regions = regions.withColumn("image", under(images, col("image")));
      if (List.of(regions.columns()).contains("mask")) {
        regions = regions.withColumn("mask", under(images, col("mask")));
      }
    }
    CaptionConfig config =
        CaptionConfig.of(
                new EngineSpec(
                    required(a, "bundle"),
                    a.get("segmenter"),
                    "cpu",
                    Integer.parseInt(a.getOrDefault("threads", "0"))))
            .withBatchSize(Integer.parseInt(a.getOrDefault("batch", "8")))
            .withOptions(
                a.containsKey("temperature") ? Double.valueOf(a.get("temperature")) : null,
                null,
                null,
                a.containsKey("max-new-tokens") ? Integer.valueOf(a.get("max-new-tokens")) : null,
                a.containsKey("seed") ? Long.valueOf(a.get("seed")) : null,
                null);
    // Regions of one image next to each other in one partition: one batched call per image.
    int partitions =
        Integer.parseInt(
            a.getOrDefault(
                "partitions", String.valueOf(spark.sparkContext().defaultParallelism())));
    Dataset<Row> grouped =
        regions.repartition(partitions, col("image")).sortWithinPartitions(col("image"));
    Dataset<Row> captions = DamSpark.describe(grouped, config);
    captions.write().mode(SaveMode.ErrorIfExists).parquet(required(a, "out"));
    return spark.read().parquet(a.get("out")).count();
  }

  /**
   * COCO annotations: one row per annotation with {@code annotation_id}, {@code image} (the path)
   * and {@code rle} (its {@code segmentation}: {size, counts}).
   */
  static Dataset<Row> coco(SparkSession spark, String file, String images) {
    Dataset<Row> json = spark.read().option("multiLine", "true").json(file);
    Dataset<Row> imgs =
        json.select(explode(col("images")).as("i"))
            .select(col("i.id").as("image_id"), col("i.file_name").as("file_name"));
    Dataset<Row> anns =
        json.select(explode(col("annotations")).as("a"))
            .select(
                col("a.id").as("annotation_id"),
                col("a.image_id").as("image_id"),
                col("a.segmentation").as("rle"));
    return anns.join(imgs, "image_id")
        .select(col("annotation_id"), under(images, col("file_name")).as("image"), col("rle"));
  }

  private static Column under(String dir, Column path) {
    return when(path.startsWith("/"), path).otherwise(concat(lit(dir + "/"), path));
  }

  private static Map<String, String> parse(String[] args) {
    Map<String, String> m = new HashMap<>();
    for (int i = 0; i < args.length; i++) {
      if (!args[i].startsWith("--") || i + 1 >= args.length) {
        throw new InvalidInputException("expected --option value pairs, got '" + args[i] + "'");
      }
      m.put(args[i].substring(2), args[++i]);
    }
    return m;
  }

  private static String required(Map<String, String> a, String name) {
    String v = a.get(name);
    if (v == null) {
      throw new InvalidInputException("--" + name + " is required");
    }
    return v;
  }
}

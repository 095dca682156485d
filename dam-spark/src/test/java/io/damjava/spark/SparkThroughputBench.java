package io.damjava.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.damjava.api.DamImage;
import io.damjava.api.DescribeAnything;
import io.damjava.api.GenerationOptions;
import io.damjava.api.Mask;
import io.damjava.api.Region;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Rows per minute on the tiny bundle: a plain loop in one JVM against the Spark job in local mode.
 * Not a unit test (timings are never asserted): run it with
 *
 * <pre>
 * mvn -B -o -pl dam-spark -am verify -Dtest=SparkThroughputBench \
 *     -Dsurefire.failIfNoSpecifiedTests=false -Ddam.spark.bench=true
 * </pre>
 *
 * It prints a table and writes it to {@code target/spark-bench.txt}.
 */
@EnabledIfSystemProperty(named = "dam.spark.bench", matches = "true")
class SparkThroughputBench {
  static final List<String> MASKS =
      List.of(
          "mask_left_eye",
          "mask_right_eye",
          "mask_nose_small",
          "mask_ear_border",
          "mask_face_full");
  static final int ROWS = Integer.getInteger("dam.spark.bench.rows", 200);
  static final int MAX_NEW = 32;

  @Test
  void rowsPerMinute() throws IOException {
    Path bundle = SparkFixtures.tinyImage();
    String image = SparkFixtures.CHELSEA.toString();
    List<byte[]> masks = new ArrayList<>();
    for (String m : MASKS) {
      masks.add(Files.readAllBytes(SparkFixtures.mask(m)));
    }
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < ROWS; i++) {
      rows.add(RowFactory.create(i, image, masks.get(i % masks.size())));
    }
    StringBuilder report = new StringBuilder();
    report.append(
        String.format(
            "%d rows (chelsea.png, 5 masks in turn), greedy, %d new tokens max, tiny-image bundle%n",
            ROWS, MAX_NEW));
    report.append(String.format("%-62s %8s %12s%n", "run", "seconds", "rows/minute"));

    for (int threads : new int[] {0, 1}) {
      try (DescribeAnything dam =
          DescribeAnything.builder().model(bundle).threads(threads).build()) {
        GenerationOptions o = dam.defaultOptions().withTemperature(0).withMaxNewTokens(MAX_NEW);
        for (int batch : new int[] {1, 8}) {
          loop(dam, rows, o, batch); // warm-up
          long t0 = System.nanoTime();
          int n = loop(dam, rows, o, batch);
          line(
              report,
              "plain loop, 1 thread, engine threads "
                  + (threads == 0 ? "default" : threads)
                  + ", batch "
                  + batch,
              n,
              t0);
        }
      }
    }

    SparkSession spark = SparkFixtures.spark();
    StructType schema =
        new StructType()
            .add("id", DataTypes.IntegerType)
            .add("image", DataTypes.StringType)
            .add("mask", DataTypes.BinaryType);
    for (int[] run : new int[][] {{1, 1}, {1, 8}, {0, 8}}) {
      CaptionConfig cfg =
          CaptionConfig.of(new EngineSpec(bundle.toString(), null, "cpu", run[0]))
              .withBatchSize(run[1])
              .withOptions(0.0, null, null, MAX_NEW, null, null);
      Dataset<Row> in =
          spark.createDataFrame(
              JavaSparkContext.fromSparkContext(spark.sparkContext()).parallelize(rows, 2), schema);
      assertEquals(ROWS, DamSpark.describe(in, cfg).count()); // warm-up (loads the engine)
      long t0 = System.nanoTime();
      long n = DamSpark.describe(in, cfg).filter("error is null").count();
      line(
          report,
          "Spark local[2], 2 partitions, engine threads "
              + (run[0] == 0 ? "default" : run[0])
              + ", batch "
              + run[1],
          n,
          t0);
    }
    System.out.print(report);
    Files.writeString(Path.of("target/spark-bench.txt"), report);
  }

  static int loop(DescribeAnything dam, List<Row> rows, GenerationOptions o, int batch) {
    int n = 0;
    for (int i = 0; i < rows.size(); i += batch) {
      List<Row> chunk = rows.subList(i, Math.min(rows.size(), i + batch));
      DamImage img = DamImage.read(Path.of(chunk.get(0).getString(1)));
      List<Region> regions = new ArrayList<>();
      for (Row r : chunk) {
        regions.add(Region.mask(Mask.read((byte[]) r.get(2))));
      }
      n += dam.describe(img, regions, o).size();
    }
    return n;
  }

  static void line(StringBuilder report, String what, long rows, long t0) {
    double s = (System.nanoTime() - t0) / 1e9;
    report.append(String.format("%-62s %8.1f %12.0f%n", what, s, rows / s * 60));
  }
}

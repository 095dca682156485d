package io.damjava.spark;

import io.damjava.convert.ConvertOptions;
import io.damjava.convert.Converter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.spark.sql.SparkSession;

/** The tiny bundle (converted once per test JVM) and one local Spark session for every test. */
final class SparkFixtures {
  static final Path REF = Path.of("..", "tools", "reference").toAbsolutePath().normalize();
  static final Path CHELSEA = REF.resolve("fixtures/images/chelsea.png");

  private static Path tinyImage;
  private static SparkSession spark;

  private SparkFixtures() {}

  static Path mask(String name) {
    return REF.resolve("goldens/inputs/" + name + ".png");
  }

  /** tools/reference/fixtures/tiny-image converted into a bundle. */
  static synchronized Path tinyImage() {
    if (tinyImage == null) {
      try {
        Path out = Files.createTempDirectory("spark-bundles").resolve("tiny-image");
        Converter.run(ConvertOptions.of(REF.resolve("fixtures/tiny-image"), out));
        tinyImage = out;
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return tinyImage;
  }

  /**
   * local[2,2]: two task threads, and a failed task is tried once more (local mode's default is no
   * retry), as a cluster would.
   */
  static synchronized SparkSession spark() {
    if (spark == null) {
      spark =
          SparkSession.builder()
              .master("local[2,2]")
              .appName("dam-spark-test")
              .config("spark.ui.enabled", "false")
              .config("spark.sql.shuffle.partitions", "2")
              .config("spark.driver.host", "127.0.0.1")
              .config("spark.driver.bindAddress", "127.0.0.1")
              .getOrCreate();
      Runtime.getRuntime().addShutdownHook(new Thread(spark::stop));
    }
    return spark;
  }
}

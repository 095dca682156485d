package io.damjava.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.damjava.api.DamImage;
import io.damjava.api.DescribeAnything;
import io.damjava.api.GenerationOptions;
import io.damjava.api.Mask;
import io.damjava.api.Region;
import io.damjava.spark.examples.CaptionRegionsJob;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** The example job end to end: a CSV of mask paths, and COCO annotations with RLE masks. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CaptionRegionsJobTest {
  static final List<String> MASKS = List.of("mask_left_eye", "mask_nose_small", "mask_ear_border");

  SparkSession spark;
  Path bundle;
  Map<String, String> expected = new HashMap<>();
  DamImage chelsea;

  @BeforeAll
  void start() {
    spark = SparkFixtures.spark();
    bundle = SparkFixtures.tinyImage();
    chelsea = DamImage.read(SparkFixtures.CHELSEA);
    try (DescribeAnything dam = DescribeAnything.builder().model(bundle).threads(1).build()) {
      GenerationOptions o = dam.defaultOptions().withTemperature(0).withMaxNewTokens(8);
      for (String m : MASKS) {
        Mask mask = Mask.read(SparkFixtures.mask(m));
        expected.put(m, dam.describe(chelsea, List.of(Region.mask(mask)), o).get(0).text());
      }
    }
  }

  @AfterAll
  void stop() {}

  Path images(Path dir) throws IOException {
    Path images = Files.createDirectories(dir.resolve("images"));
    Files.copy(SparkFixtures.CHELSEA, images.resolve("chelsea.png"));
    Files.createDirectories(images.resolve("masks"));
    for (String m : MASKS) {
      Files.copy(SparkFixtures.mask(m), images.resolve("masks/" + m + ".png"));
    }
    return images;
  }

  String[] args(Path images, Path out, String... more) {
    List<String> a =
        new java.util.ArrayList<>(
            List.of(
                "--bundle",
                bundle.toString(),
                "--images",
                images.toString(),
                "--out",
                out.toString(),
                "--temperature",
                "0",
                "--max-new-tokens",
                "8",
                "--threads",
                "1"));
    a.addAll(List.of(more));
    return a.toArray(String[]::new);
  }

  @Test
  void csvOfMaskPathsToParquetOfCaptions(@TempDir Path dir) throws IOException {
    Path images = images(dir);
    StringBuilder csv = new StringBuilder("region,image,mask\n");
    for (String m : MASKS) {
      csv.append(m).append(",chelsea.png,masks/").append(m).append(".png\n");
    }
    csv.append("missing,nowhere.png,masks/mask_left_eye.png\n");
    Path regions = Files.writeString(dir.resolve("regions.csv"), csv);
    Path out = dir.resolve("captions.parquet");
    assertEquals(
        4, CaptionRegionsJob.run(spark, args(images, out, "--regions", regions.toString())));
    for (Row r : spark.read().parquet(out.toString()).collectAsList()) {
      String region = r.getString(r.fieldIndex("region"));
      if (region.equals("missing")) {
        assertEquals(true, r.getString(r.fieldIndex(CaptionColumns.ERROR)).contains("nowhere.png"));
      } else {
        assertNull(r.getString(r.fieldIndex(CaptionColumns.ERROR)));
        assertEquals(expected.get(region), r.getString(r.fieldIndex(CaptionColumns.CAPTION)));
      }
    }
  }

  @Test
  void cocoAnnotationsWithRleMasks(@TempDir Path dir) throws IOException {
    Path images = images(dir);
    StringBuilder anns = new StringBuilder();
    for (int i = 0; i < MASKS.size(); i++) {
      String counts =
          CocoRle.encodeCounts(CocoRle.fromMask(Mask.read(SparkFixtures.mask(MASKS.get(i)))));
      anns.append(i == 0 ? "" : ",")
          .append("{\"id\": ")
          .append(100 + i)
          .append(", \"image_id\": 7, \"category_id\": 1, \"segmentation\": {\"size\": [")
          .append(chelsea.height())
          .append(", ")
          .append(chelsea.width())
          .append("], \"counts\": \"")
          .append(counts.replace("\\", "\\\\"))
          .append("\"}}");
    }
    String json =
        "{\"images\": [{\"id\": 7, \"file_name\": \"chelsea.png\", \"height\": "
            + chelsea.height()
            + ", \"width\": "
            + chelsea.width()
            + "}], \"annotations\": ["
            + anns
            + "], \"categories\": [{\"id\": 1, \"name\": \"cat\"}]}";
    Path coco = Files.writeString(dir.resolve("annotations.json"), json);
    Path out = dir.resolve("captions.parquet");
    assertEquals(3, CaptionRegionsJob.run(spark, args(images, out, "--coco", coco.toString())));
    for (Row r : spark.read().parquet(out.toString()).collectAsList()) {
      int i = (int) r.getLong(r.fieldIndex("annotation_id")) - 100;
      assertNull(r.getString(r.fieldIndex(CaptionColumns.ERROR)));
      assertEquals(expected.get(MASKS.get(i)), r.getString(r.fieldIndex(CaptionColumns.CAPTION)));
    }
  }
}

package io.damjava.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.damjava.api.Caption;
import io.damjava.api.DamImage;
import io.damjava.api.DescribeAnything;
import io.damjava.api.GenerationOptions;
import io.damjava.api.InvalidInputException;
import io.damjava.api.Mask;
import io.damjava.api.Region;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import javax.imageio.ImageIO;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.MapFunction;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Spark job in local[2] on the tiny bundle: its captions equal the library's (and the
 * reference's greedy tokens), bad rows become errors, a failed task retried gives the same output,
 * and a JVM loads one engine however many tasks and partitions use it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DamSparkTest {
  static final List<String> MASKS =
      List.of("mask_left_eye", "mask_right_eye", "mask_nose_small", "mask_ear_border");
  static final int MAX_NEW = 12;
  static final StructType PATH_AND_MASK =
      new StructType()
          .add("id", DataTypes.IntegerType)
          .add("image", DataTypes.StringType)
          .add("mask", DataTypes.BinaryType)
          .add("box", DataTypes.StringType);
  static final AtomicInteger INJECTED = new AtomicInteger();

  SparkSession spark;
  Path bundle;
  DescribeAnything dam;
  GenerationOptions greedy;
  DamImage chelsea;

  @BeforeAll
  void start() {
    bundle = SparkFixtures.tinyImage();
    spark = SparkFixtures.spark();
    dam = DescribeAnything.builder().model(bundle).threads(1).build();
    greedy = dam.defaultOptions().withTemperature(0).withMaxNewTokens(MAX_NEW);
    chelsea = DamImage.read(SparkFixtures.CHELSEA);
  }

  @AfterAll
  void stop() {
    dam.close();
  }

  CaptionConfig config(int threads) {
    return CaptionConfig.of(new EngineSpec(bundle.toString(), null, "cpu", threads))
        .withOptions(0.0, null, null, MAX_NEW, null, null);
  }

  Dataset<Row> frame(List<Row> rows, StructType schema, int partitions) {
    return spark.createDataFrame(
        JavaSparkContext.fromSparkContext(spark.sparkContext()).parallelize(rows, partitions),
        schema);
  }

  List<Row> maskRows() throws IOException {
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < MASKS.size(); i++) {
      rows.add(
          RowFactory.create(
              i,
              SparkFixtures.CHELSEA.toString(),
              Files.readAllBytes(SparkFixtures.mask(MASKS.get(i))),
              null));
    }
    return rows;
  }

  Caption library(String mask) {
    return dam.describe(chelsea, List.of(Region.mask(Mask.read(SparkFixtures.mask(mask)))), greedy)
        .get(0);
  }

  static int[] ids(Row r) {
    return r.<Integer>getList(r.fieldIndex(CaptionColumns.TOKEN_IDS)).stream()
        .mapToInt(Integer::intValue)
        .toArray();
  }

  static String str(Row r, String col) {
    return r.getString(r.fieldIndex(col));
  }

  @Test
  void transformerCaptionsEqualTheLibraryAndTheReference() throws IOException {
    DamCaptioner captioner =
        new DamCaptioner()
            .setBundle(bundle.toString())
            .setThreads(1)
            .setTemperature(0)
            .setMaxNewTokens(MAX_NEW);
    List<Row> out =
        captioner.transform(frame(maskRows(), PATH_AND_MASK, 2)).orderBy("id").collectAsList();
    assertEquals(MASKS.size(), out.size());
    for (int i = 0; i < MASKS.size(); i++) {
      Row r = out.get(i);
      Caption c = library(MASKS.get(i));
      assertNull(str(r, CaptionColumns.ERROR), MASKS.get(i));
      assertEquals(c.text(), str(r, CaptionColumns.CAPTION), MASKS.get(i));
      assertArrayEquals(c.tokenIds(), ids(r), MASKS.get(i));
      assertEquals(c.tokenCount(), r.getInt(r.fieldIndex(CaptionColumns.TOKEN_COUNT)));
      assertEquals(c.promptTokens(), r.getInt(r.fieldIndex(CaptionColumns.PROMPT_TOKENS)));
      assertEquals(c.stopReason().name(), str(r, CaptionColumns.STOP_REASON));
      assertTrue(r.getDouble(r.fieldIndex(CaptionColumns.TOTAL_MS)) > 0);
    }
    // The reference's greedy tokens for the left eye (32 of them; the first MAX_NEW here).
    JsonNode golden = null;
    for (JsonNode c :
        new ObjectMapper()
            .readTree(SparkFixtures.REF.resolve("goldens/index.json").toFile())
            .get("cases")) {
      if (c.get("name").asText().equals("chelsea_left_eye")) {
        golden = c.get("tokens");
      }
    }
    assertNotNull(golden);
    int[] want = new int[MAX_NEW];
    for (int i = 0; i < MAX_NEW; i++) {
      want[i] = golden.get(i).asInt();
    }
    assertArrayEquals(want, ids(out.get(0)));
  }

  @Test
  void datasetApiReadsImageBytesAndCocoRle() throws IOException {
    StructType schema =
        new StructType()
            .add("id", DataTypes.IntegerType)
            .add("picture", DataTypes.BinaryType)
            .add("rle", DataTypes.StringType)
            .add(
                "segmentation",
                new StructType()
                    .add("size", DataTypes.createArrayType(DataTypes.LongType))
                    .add("counts", DataTypes.StringType));
    byte[] png = Files.readAllBytes(SparkFixtures.CHELSEA);
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < MASKS.size(); i++) {
      String counts =
          CocoRle.encodeCounts(CocoRle.fromMask(Mask.read(SparkFixtures.mask(MASKS.get(i)))));
      Row seg =
          RowFactory.create(
              List.of((long) chelsea.height(), (long) chelsea.width()).toArray(), counts);
      rows.add(RowFactory.create(i, png, i % 2 == 0 ? counts : null, i % 2 == 0 ? null : seg));
    }
    CaptionConfig plain =
        CaptionConfig.of(new EngineSpec(bundle.toString(), null, "cpu", 1))
            .withOptions(greedy)
            .withImageCol("picture");
    List<Row> a =
        DamSpark.describe(frame(rows, schema, 2), plain.withRleCol("rle"))
            .orderBy("id")
            .collectAsList();
    for (int i = 0; i < MASKS.size(); i += 2) {
      assertEquals(library(MASKS.get(i)).text(), str(a.get(i), CaptionColumns.CAPTION));
    }
    List<Row> b =
        DamSpark.describe(frame(rows, schema, 2).drop("rle"), plain.withRleCol("segmentation"))
            .orderBy("id")
            .collectAsList();
    for (int i = 1; i < MASKS.size(); i += 2) {
      assertEquals(library(MASKS.get(i)).text(), str(b.get(i), CaptionColumns.CAPTION));
    }
    // Rows whose region column is null (the other half) are errors, not failures.
    assertTrue(str(b.get(0), CaptionColumns.ERROR).contains("no region"));
  }

  @Test
  void badRowsBecomeTheErrorColumnAndTheJobGoesOn() throws IOException {
    byte[] good = Files.readAllBytes(SparkFixtures.mask("mask_left_eye"));
    String img = SparkFixtures.CHELSEA.toString();
    List<Row> rows =
        List.of(
            RowFactory.create(0, img, good, null),
            RowFactory.create(1, "/nonexistent/photo.png", good, null),
            RowFactory.create(2, img, png(chelsea.width(), chelsea.height(), false), null),
            RowFactory.create(3, img, png(10, 10, true), null),
            RowFactory.create(4, img, new byte[] {1, 2, 3, 4}, null),
            RowFactory.create(5, img, null, "10,10,100,100"),
            RowFactory.create(6, img, good, null),
            RowFactory.create(7, img, null, null),
            RowFactory.create(8, img, good, "10,10,100,100"),
            RowFactory.create(9, img, null, "10,ten,100,100"),
            RowFactory.create(10, null, good, null));
    List<Row> out =
        DamSpark.describe(frame(rows, PATH_AND_MASK, 2), config(1)).orderBy("id").collectAsList();
    assertEquals(rows.size(), out.size());
    String leftEye = library("mask_left_eye").text();
    for (int id : new int[] {0, 6}) {
      assertNull(str(out.get(id), CaptionColumns.ERROR));
      assertEquals(leftEye, str(out.get(id), CaptionColumns.CAPTION));
    }
    String[][] want = {
      {"1", "photo.png"},
      {"2", "empty"},
      {"3", "size"},
      {"4", "mask bytes"},
      {"5", "segmenter"},
      {"7", "no region"},
      {"8", "several regions"},
      {"9", "not a number"},
      {"10", "image is null"},
    };
    for (String[] w : want) {
      Row r = out.get(Integer.parseInt(w[0]));
      String err = str(r, CaptionColumns.ERROR);
      assertNotNull(err, "row " + w[0]);
      assertTrue(err.startsWith("InvalidInputException: "), err);
      assertTrue(err.contains(w[1]), "row " + w[0] + ": " + err);
      assertNull(str(r, CaptionColumns.CAPTION));
      assertTrue(r.isNullAt(r.fieldIndex(CaptionColumns.TOKEN_IDS)));
    }
  }

  static byte[] png(int w, int h, boolean on) throws IOException {
    BufferedImage m = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
    if (on) {
      m.getRaster().setSample(w / 2, h / 2, 0, 255);
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(m, "png", out);
    return out.toByteArray();
  }

  @Test
  void aFailedTaskRetriedGivesTheSameOutput() throws IOException {
    CaptionConfig cfg = config(1).withBatchSize(1);
    Dataset<Row> in = frame(maskRows(), PATH_AND_MASK, 2);
    List<Row> baseline = DamSpark.describe(in, cfg).orderBy("id").collectAsList();
    int loads = DamEngines.loads();
    StructType schema = DamSpark.outputSchema(in.schema(), cfg);
    INJECTED.set(0);
    Dataset<Row> flaky =
        DamSpark.describe(in, cfg)
            .map(
                (MapFunction<Row, Row>)
                    r -> {
                      TaskContext t = TaskContext.get();
                      // Row 3 is the second of partition 1: the task fails after it produced a row.
                      if (t.partitionId() == 1 && t.attemptNumber() == 0 && r.getInt(0) == 3) {
                        INJECTED.incrementAndGet();
                        throw new IllegalStateException("injected: the executor went away");
                      }
                      return r;
                    },
                Encoders.row(schema));
    // Sorted here, not with orderBy, whose sampling job would run the first attempt again.
    List<Row> retried = new ArrayList<>(flaky.collectAsList());
    retried.sort(java.util.Comparator.comparingInt(r -> r.getInt(0)));
    assertEquals(1, INJECTED.get(), "the first attempt of partition 1 failed once");
    assertEquals(baseline.size(), retried.size());
    for (int i = 0; i < baseline.size(); i++) {
      assertEquals(str(baseline.get(i), "caption"), str(retried.get(i), "caption"));
      assertArrayEquals(ids(baseline.get(i)), ids(retried.get(i)));
    }
    assertEquals(loads, DamEngines.loads(), "the retry reused this JVM's engine");
  }

  @Test
  void oneEnginePerJvmForEveryTaskAndJob() throws IOException {
    // threads = 2: a spec no other test uses, so this test sees its engine's loads alone.
    CaptionConfig cfg = config(2).withBatchSize(1);
    int loads = DamEngines.loads();
    List<Row> rows = new ArrayList<>();
    for (int k = 0; k < 2; k++) {
      rows.addAll(maskRows());
    }
    assertEquals(8, DamSpark.describe(frame(rows, PATH_AND_MASK, 4), cfg).count());
    assertEquals(8, DamSpark.describe(frame(rows, PATH_AND_MASK, 3), cfg).count());
    assertEquals(loads + 1, DamEngines.loads(), "4 + 3 tasks on 2 task threads, 2 jobs: one load");
  }

  @Test
  void aBundleShippedWithSparkFilesIsFoundOnTheExecutor() throws IOException {
    spark.sparkContext().addFile(bundle.toString(), true);
    CaptionConfig shipped =
        CaptionConfig.of(new EngineSpec("sparkfiles:" + bundle.getFileName(), null, "cpu", 1))
            .withOptions(0.0, null, null, MAX_NEW, null, null);
    List<Row> out =
        DamSpark.describe(frame(maskRows().subList(0, 1), PATH_AND_MASK, 1), shipped)
            .collectAsList();
    assertEquals(library(MASKS.get(0)).text(), str(out.get(0), CaptionColumns.CAPTION));
    CaptionConfig absent =
        CaptionConfig.of(new EngineSpec("sparkfiles:not-shipped", null, "cpu", 1));
    Exception e =
        assertThrows(
            Exception.class,
            () -> DamSpark.describe(frame(maskRows(), PATH_AND_MASK, 1), absent).count());
    assertTrue(String.valueOf(e.getMessage()).contains("addFile"), e.getMessage());
  }

  @Test
  void theDriverRefusesAnUnusableInputBeforeAnyTaskRuns() {
    DamCaptioner captioner = new DamCaptioner().setBundle(bundle.toString());
    StructType noImage = new StructType().add("mask", DataTypes.BinaryType);
    assertTrue(
        assertThrows(InvalidInputException.class, () -> captioner.transformSchema(noImage))
            .getMessage()
            .contains("no image column"));
    StructType noRegion = new StructType().add("image", DataTypes.StringType);
    assertTrue(
        assertThrows(InvalidInputException.class, () -> captioner.transformSchema(noRegion))
            .getMessage()
            .contains("no region column"));
    StructType clash = PATH_AND_MASK.add("caption", DataTypes.StringType);
    assertTrue(
        assertThrows(InvalidInputException.class, () -> captioner.transformSchema(clash))
            .getMessage()
            .contains("'caption'"));
    assertThrows(
        InvalidInputException.class,
        () -> new DamCaptioner().transformSchema(PATH_AND_MASK),
        "no bundle");
    assertThrows(
        InvalidInputException.class,
        () -> captioner.copy(ParamMap.empty()).setTopP(2).config(),
        "topP > 1");
  }

  @Test
  void theTransformerSavesAndLoadsItsParams(@TempDir Path dir) throws IOException {
    DamCaptioner c =
        new DamCaptioner()
            .setBundle("sparkfiles:tiny-image")
            .setMaskCol("m")
            .setMaxNewTokens(7)
            .setSeed(42);
    c.write().overwrite().save(dir.resolve("captioner").toString());
    DamCaptioner back = DamCaptioner.load(dir.resolve("captioner").toString());
    assertEquals(c.uid(), back.uid());
    assertEquals("sparkfiles:tiny-image", back.config().engine().bundle());
    assertEquals("m", back.config().maskCol());
    GenerationOptions o = back.config().options(GenerationOptions.defaults());
    assertEquals(7, o.maxNewTokens());
    assertEquals(42L, o.seed().getAsLong());
  }
}

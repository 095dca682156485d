package io.damjava.convert;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OrtSession;
import io.damjava.api.Caption;
import io.damjava.api.DamImage;
import io.damjava.api.DescribeAnything;
import io.damjava.api.GenerationOptions;
import io.damjava.api.InvalidBundleException;
import io.damjava.api.InvalidInputException;
import io.damjava.api.Mask;
import io.damjava.api.Region;
import io.damjava.onnx.Segmenter;
import io.damjava.onnx.bundle.SamManifest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Segmenter plumbing on tiny graphs of both layouts ({@link TinySam}): names, shapes and dtypes the
 * graphs declare, point batches, the best-IoU choice, the SAM layout's skipped single-mask token,
 * bad bundles and bad prompts; then describe(image, box | points | scribble) end to end on the tiny
 * DAM bundle, which must equal describing the segmenter's mask directly.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SegmenterTest {
  static final Path IMAGE = Goldens.REF.resolve("fixtures/images/chelsea.png"); // 451x300
  Path tmp;
  Path hf;
  Path sam;
  Segmenter hfSeg;
  Segmenter samSeg;
  DamImage image;

  @BeforeAll
  void setUp(@TempDir Path dir) throws IOException {
    tmp = dir;
    hf = TinySam.hfBundle(dir.resolve("hf"));
    sam = TinySam.samBundle(dir.resolve("sam"));
    try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
      o.setIntraOpNumThreads(1);
      hfSeg = Segmenter.load(hf, Ort.ENV, o);
      samSeg = Segmenter.load(sam, Ort.ENV, o);
    } catch (ai.onnxruntime.OrtException e) {
      throw new IllegalStateException(e);
    }
    image = DamImage.read(IMAGE);
  }

  @AfterAll
  void tearDown() {
    hfSeg.close();
    samSeg.close();
  }

  @Test
  void hfPointBatchKeepsEachPromptsBestCandidate() {
    List<Mask> m =
        hfSeg.masks(
            image,
            List.of(
                Region.point(60, 150),
                Region.point(400, 150),
                Region.mask(Mask.of(onePixel(), 451, 300))));
    assertEquals(3, m.size());
    // left of x = 512 (1024 frame) candidate 1, radius 120 → 120 · 451/1024 ≈ 53 px; right: radius
    // 60
    Mask.Box left = m.get(0).boundingBox();
    Mask.Box right = m.get(1).boundingBox();
    assertTrue(Math.abs(left.width() - 106) <= 4, "left " + left);
    assertTrue(Math.abs(right.width() - 53) <= 4, "right " + right);
    assertTrue(left.x0() < 60 && left.x1() > 60 && right.x0() < 400 && right.x1() > 400);
    assertEquals(Mask.of(onePixel(), 451, 300), m.get(2), "a mask region passes through");
  }

  @Test
  void hfNegativeClicksAndScribblesUseLabels() {
    Mask one = hfSeg.masks(image, List.of(Region.point(100, 100))).get(0);
    Mask withNegative =
        hfSeg
            .masks(
                image,
                List.of(
                    Region.points(
                        List.of(Region.Point.positive(100, 100), Region.Point.negative(300, 250)))))
            .get(0);
    assertEquals(one.boundingBox(), withNegative.boundingBox(), "negative clicks add no diamond");
    boolean[] stroke = new boolean[451 * 300];
    for (int x = 200; x < 260; x++) {
      stroke[150 * 451 + x] = true;
    }
    Mask s = hfSeg.masks(image, List.of(Region.scribble(Mask.of(stroke, 451, 300)))).get(0);
    assertTrue(s.get(200, 150) || s.get(259, 150));
  }

  @Test
  void hfDecoderWithoutInputBoxesRejectsABox() {
    InvalidInputException e =
        assertThrows(
            InvalidInputException.class,
            () -> hfSeg.masks(image, List.of(Region.box(10, 10, 100, 100))));
    assertTrue(e.getMessage().contains("input_boxes"), e.getMessage());
  }

  @Test
  void samLayoutBoxSkipsTheSingleMaskToken() {
    Mask m = samSeg.masks(image, List.of(Region.box(100, 80, 300, 200))).get(0);
    Mask.Box b = m.boundingBox();
    // best of candidates 1..3 is 2 (grow 0): the box itself, to low-res (4 px of 1024) precision
    assertTrue(Math.abs(b.x0() - 100) <= 3 && Math.abs(b.x1() - 300) <= 3, b.toString());
    assertTrue(Math.abs(b.y0() - 80) <= 3 && Math.abs(b.y1() - 200) <= 3, b.toString());
    Mask p = samSeg.masks(image, List.of(Region.point(60, 150))).get(0);
    assertFalse(p.get(0, 0), "the (0, 0) padding point (label -1) is not a click");
    assertTrue(p.get(60, 150));
  }

  @Test
  void badBundlesAndPrompts() throws IOException {
    Path missing = tmp.resolve("missing");
    copy(hf, missing);
    Files.delete(missing.resolve("prompt_encoder_mask_decoder.onnx"));
    InvalidBundleException e1 = assertThrows(InvalidBundleException.class, () -> load(missing));
    assertTrue(e1.getMessage().contains("missing"), e1.getMessage());

    Path wrong = tmp.resolve("wrong");
    copy(sam, wrong);
    SamBundles.write(
        wrong,
        SamManifest.Layout.HF_SPLIT,
        "x",
        "encoder.onnx",
        "decoder.onnx",
        SamManifest.Processor.defaults());
    InvalidBundleException e2 = assertThrows(InvalidBundleException.class, () -> load(wrong));
    assertTrue(e2.getMessage().contains("no input input_points"), e2.getMessage());

    assertThrows(
        InvalidInputException.class, () -> hfSeg.masks(image, List.of(Region.point(451, 10))));
    assertThrows(InvalidInputException.class, () -> Region.box(10, 10, 10, 50));
    assertThrows(
        InvalidInputException.class,
        () ->
            hfSeg.masks(
                image, List.of(Region.scribble(Mask.of(new boolean[451 * 300], 451, 300)))));
  }

  @Test
  void describeTurnsPromptsIntoMasksThroughTheSegmenter() {
    Path dam = tmp.resolve("dam");
    Converter.run(ConvertOptions.of(Goldens.checkpoint("tiny-image"), dam));
    GenerationOptions opts = GenerationOptions.builder().maxNewTokens(4).temperature(0).build();
    Region box = Region.box(100, 80, 300, 200);
    Region click = Region.point(120, 100);
    try (DescribeAnything plain = DescribeAnything.builder().model(dam).threads(1).build();
        DescribeAnything withSam =
            DescribeAnything.builder().model(dam).segmenter(sam).threads(1).build()) {
      InvalidInputException e =
          assertThrows(
              InvalidInputException.class, () -> plain.describe(image, List.of(box), opts));
      assertTrue(e.getMessage().contains("segmenter"), e.getMessage());
      List<Caption> got = withSam.describe(image, List.of(box, click), opts);
      List<Mask> masks = samSeg.masks(image, List.of(box, click));
      List<Caption> want =
          plain.describe(
              image, List.of(Region.mask(masks.get(0)), Region.mask(masks.get(1))), opts);
      assertEquals(2, got.size());
      for (int i = 0; i < 2; i++) {
        assertArrayEquals(want.get(i).tokenIds(), got.get(i).tokenIds(), "region " + i);
      }
    }
    try (DescribeAnything withHf =
        DescribeAnything.builder().model(dam).segmenter(hf).threads(1).build()) {
      boolean[] stroke = new boolean[451 * 300];
      for (int x = 200; x < 260; x++) {
        stroke[150 * 451 + x] = true;
      }
      assertEquals(
          1,
          withHf.describe(image, List.of(Region.scribble(Mask.of(stroke, 451, 300))), opts).size());
    }
  }

  private static boolean[] onePixel() {
    boolean[] b = new boolean[451 * 300];
    b[10 * 451 + 10] = true;
    return b;
  }

  private static Segmenter load(Path dir) {
    try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
      return Segmenter.load(dir, Ort.ENV, o);
    }
  }

  private static void copy(Path from, Path to) throws IOException {
    Files.createDirectories(to);
    try (var s = Files.list(from)) {
      for (Path f : s.toList()) {
        Files.copy(f, to.resolve(f.getFileName()));
      }
    }
  }
}

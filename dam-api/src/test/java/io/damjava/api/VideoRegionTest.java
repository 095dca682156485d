package io.damjava.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** VideoRegion, FrameSource and DescribeRequest.video(VideoRegion): validation and plumbing. */
class VideoRegionTest {
  static final DamImage FRAME = DamImage.ofRgb(4, 3, new byte[4 * 3 * 3]);
  static final FrameSource EIGHT = FrameSource.of(Collections.nCopies(8, FRAME));

  @Test
  void framesAndIndicesAreChecked() {
    Region click = Region.point(1, 1);
    VideoRegion v = new VideoRegion(EIGHT, 7, click);
    assertEquals(List.of(), v.refinements());
    InvalidInputException outside =
        assertThrows(InvalidInputException.class, () -> new VideoRegion(EIGHT, 8, click));
    assertEquals("frame 8 is outside the video (frames 0..7)", outside.getMessage());
    InvalidInputException few =
        assertThrows(
            InvalidInputException.class,
            () -> new VideoRegion(FrameSource.of(Collections.nCopies(7, FRAME)), 0, click));
    assertTrue(few.getMessage().contains("at least 8"), few.getMessage());
    assertThrows(InvalidInputException.class, () -> new VideoRegion(EIGHT, 0, null));
    assertThrows(InvalidInputException.class, () -> v.refine(-1, click));
    VideoRegion r = v.refine(3, Region.box(0, 0, 2, 2)).refine(5, click);
    assertEquals(2, r.refinements().size());
    assertEquals(3, r.refinements().get(0).frame());
    assertEquals(0, v.refinements().size(), "refine returns a copy");
  }

  @Test
  void aVideoRegionRequestCarriesItAndNoFrames() {
    VideoRegion v = new VideoRegion(EIGHT, 2, Region.point(1, 1));
    DescribeRequest r =
        DescribeRequest.video(v).options(GenerationOptions.defaults()).listener(t -> {});
    assertTrue(r.isVideo());
    assertSame(v, r.videoRegion().orElseThrow());
    assertEquals(List.of(), r.frames());
    assertEquals(List.of(), r.regions());
    assertTrue(r.listener().isPresent());
    assertTrue(DescribeRequest.of(FRAME, Region.point(1, 1)).videoRegion().isEmpty());
    assertThrows(InvalidInputException.class, () -> DescribeRequest.video((VideoRegion) null));
  }

  @Test
  void aFolderIsReadSortedAndOnDemand(@TempDir Path dir) throws Exception {
    for (String n : List.of("b.png", "a.png", "c.jpg")) {
      java.awt.image.BufferedImage img =
          new java.awt.image.BufferedImage(
              n.equals("a.png") ? 5 : 4, 3, java.awt.image.BufferedImage.TYPE_INT_RGB);
      ImageIO.write(img, n.endsWith("png") ? "png" : "jpg", dir.resolve(n).toFile());
    }
    Files.writeString(dir.resolve("notes.txt"), "not a frame");
    assertEquals(
        List.of(dir.resolve("a.png"), dir.resolve("b.png"), dir.resolve("c.jpg")),
        FrameSource.frameFiles(dir));
    FrameSource f = FrameSource.folder(dir);
    assertEquals(3, f.size());
    assertEquals(5, f.frame(0).width(), "a.png first");
    Files.write(dir.resolve("b.png"), new byte[] {1, 2, 3});
    assertThrows(InvalidInputException.class, () -> f.frame(1), "decoded when asked");
    assertThrows(IndexOutOfBoundsException.class, () -> f.frame(3));
    Path empty = Files.createDirectories(dir.resolve("empty"));
    assertEquals(List.of(), FrameSource.frameFiles(empty));
    assertThrows(InvalidInputException.class, () -> FrameSource.folder(empty));
    assertThrows(InvalidInputException.class, () -> FrameSource.folder(dir.resolve("notes.txt")));
    assertThrows(InvalidInputException.class, () -> FrameSource.of(List.of()));
  }
}

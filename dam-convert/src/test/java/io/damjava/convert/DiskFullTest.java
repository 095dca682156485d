package io.damjava.convert;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.common.jimfs.Configuration;
import com.google.common.jimfs.Jimfs;
import io.damjava.onnx.bundle.BundleManifest.Precision;
import io.damjava.onnx.bundle.BundleManifest.Style;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.FileSystem;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A disk that is too small, or that fills up during the conversion, gives a {@link
 * DiskFullException} naming the output and the free space, and leaves nothing behind. The disk is
 * an in-memory file system with a size limit (Jimfs), since CI cannot mount a small one.
 */
class DiskFullTest {
  static final Path CKPT = Goldens.checkpoint("tiny-image");
  @TempDir Path tmp;

  static FileSystem disk(long bytes) {
    return Jimfs.newFileSystem(Configuration.unix().toBuilder().setMaxSize(bytes).build());
  }

  static List<String> listing(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void aDiskSmallerThanTheBundleIsRefusedBeforeAnythingIsWritten() throws IOException {
    try (FileSystem fs = disk(256 << 10)) {
      Path parent = Files.createDirectories(fs.getPath("/bundles"));
      Path out = parent.resolve("tiny");
      DiskFullException e =
          assertThrows(DiskFullException.class, () -> Converter.run(ConvertOptions.of(CKPT, out)));
      assertTrue(
          e.getMessage().startsWith("not enough disk space for /bundles/tiny"), e.getMessage());
      assertTrue(
          e.getMessage().contains("fp32 bundle of this checkpoint needs at least"), e.getMessage());
      assertTrue(e.getMessage().contains("another disk"), e.getMessage());
      assertEquals(List.of(), listing(parent), "nothing left behind");
    }
  }

  @Test
  void theLowerBoundIsBelowWhatTheConverterWrites() throws IOException {
    try (Checkpoint c = Checkpoint.open(CKPT)) {
      for (Precision p : Precision.values()) {
        Path out = tmp.resolve(p.name());
        Style s = p == Precision.INT8 || p == Precision.INT4 ? Style.CONTRIB : Style.STANDARD;
        ConvertSummary sum =
            Converter.run(ConvertOptions.of(CKPT, out).withPrecision(p).withStyle(s));
        long bound = DiskSpace.lowerBound(c, p);
        assertTrue(bound > 0 && bound <= sum.bytes(), p + ": bound " + bound + " > " + sum.bytes());
      }
    }
  }

  @Test
  void aDiskThatFillsUpMidConversionIsReportedAsFullAndThePartialOutputRemoved()
      throws IOException {
    try (FileSystem fs = disk(64L << 20)) {
      Path parent = Files.createDirectories(fs.getPath("/bundles"));
      Path out = parent.resolve("tiny");
      Path filler = fs.getPath("/other-process.bin");
      Progress fillTheDisk =
          step -> {
            if (step.equals("embed_tokens")) { // another process takes every free byte
              try (OutputStream o = Files.newOutputStream(filler)) {
                byte[] block = new byte[1 << 16];
                for (long n = Files.getFileStore(filler).getUsableSpace();
                    n > 0;
                    n -= block.length) {
                  o.write(block, 0, (int) Math.min(block.length, n));
                }
              } catch (IOException e) {
                throw new UncheckedIOException(e);
              }
            }
          };
      ConvertOptions o =
          new ConvertOptions(CKPT, null, out, Precision.FP32, Style.CONTRIB, null, fillTheDisk);
      DiskFullException e = assertThrows(DiskFullException.class, () -> Converter.run(o));
      assertTrue(
          e.getMessage().startsWith("the disk filled up while writing /bundles/tiny"),
          e.getMessage());
      assertTrue(e.getMessage().contains("the partial output was removed"), e.getMessage());
      assertEquals(List.of(), listing(parent), "no bundle and no .tiny.converting folder");
    }
  }
}

package io.damjava.convert;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.damjava.api.DamImage;
import io.damjava.api.DescribeAnything;
import io.damjava.api.GenerationOptions;
import io.damjava.api.InvalidBundleException;
import io.damjava.api.Mask;
import io.damjava.api.Region;
import io.damjava.onnx.bundle.BundleManifest.Precision;
import io.damjava.onnx.bundle.ManifestIo;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What makes a second load fast must never make it wrong: remembered checksums and the vision data
 * file shared by both vision graphs (mapped, not pre-packed), on a converted int4 tiny bundle
 * through the public API.
 */
class LoadCacheTest {
  static final Path CKPT =
      Path.of("..", "tools", "reference", "fixtures", "tiny-image").toAbsolutePath().normalize();
  static final Path IMAGES =
      Path.of("..", "tools", "reference", "fixtures", "images").toAbsolutePath().normalize();
  static final Path MASKS =
      Path.of("..", "tools", "reference", "goldens", "inputs").toAbsolutePath().normalize();
  static final GenerationOptions GREEDY =
      GenerationOptions.defaults().withTemperature(0).withMaxNewTokens(16);

  @TempDir Path tmp;
  private String previous;
  private Path cache;

  @BeforeEach
  void ownCache() {
    previous = System.getProperty("dam.cache.dir");
    cache = tmp.resolve("cache");
    System.setProperty("dam.cache.dir", cache.toString());
  }

  @AfterEach
  void restore() {
    if (previous == null) {
      System.clearProperty("dam.cache.dir");
    } else {
      System.setProperty("dam.cache.dir", previous);
    }
  }

  private Path convert() {
    Path b = tmp.resolve("int4");
    Converter.run(ConvertOptions.of(CKPT, b).withPrecision(Precision.INT4));
    return b;
  }

  private static int[] describe(Path bundle) throws IOException {
    try (DescribeAnything dam = DescribeAnything.builder().model(bundle).threads(1).build()) {
      return dam.describe(
              DamImage.read(IMAGES.resolve("chelsea.png")),
              List.of(Region.mask(Mask.read(MASKS.resolve("mask_left_eye.png")))),
              GREEDY)
          .get(0)
          .tokenIds();
    }
  }

  @Test
  void visionGraphsShareOneDataFileAndTheBlocksAreStoredOnce() throws IOException {
    Path b = convert();
    assertTrue(Files.isRegularFile(b.resolve(Converter.VISION_DATA)));
    assertFalse(Files.exists(b.resolve(Converter.VISION_CONTEXT + ".data")));
    assertFalse(Files.exists(b.resolve(Converter.VISION_FOCAL + ".data")));
    for (String g : List.of(Converter.VISION_CONTEXT, Converter.VISION_FOCAL)) {
      String proto =
          new String(
              Files.readAllBytes(b.resolve(g)), java.nio.charset.StandardCharsets.ISO_8859_1);
      assertTrue(proto.contains(Converter.VISION_DATA), g + " refers to the shared file");
    }
    assertTrue(
        ManifestIo.read(b).files().stream().anyMatch(f -> f.path().equals(Converter.VISION_DATA)),
        "the manifest checksums the shared file");
  }

  @Test
  void aSecondLoadReadsRememberedChecksumsAndDescribesTheSame() throws IOException {
    Path b = convert();
    Path memo = cache.resolve("verified");
    long remembered;
    try (Stream<Path> l = Files.list(memo)) {
      remembered = l.count();
    }
    assertEquals(ManifestIo.read(b).files().size(), remembered, "the converter remembered each");
    int[] first = describe(b);
    int[] second = describe(b);
    assertArrayEquals(first, second);
    System.setProperty("dam.cache.dir", "off");
    assertArrayEquals(first, describe(b), "hashing every file again changes nothing");
  }

  @Test
  void aWrongRememberedDigestIsNotTrustedForAnotherFileVersion() throws IOException {
    Path b = convert();
    Path f = b.resolve("tokenizer.model");
    byte[] old = Files.readAllBytes(f);
    byte[] changed = old.clone();
    changed[changed.length / 2] ^= 0x21;
    Files.write(f, changed); // same size; new mtime and ctime
    InvalidBundleException e = assertThrows(InvalidBundleException.class, () -> describe(b));
    assertTrue(e.getMessage().contains("tokenizer.model"), e.getMessage());
    Files.write(f, old); // the original bytes again: hashed again and accepted
    describe(b);
  }

  @Test
  void aBundleFileChangedAfterItsChecksumWasRememberedIsStillRefused() throws IOException {
    Path b = convert();
    describe(b); // remembered by the converter and this load
    Path f = b.resolve("decoder.onnx.data");
    var mtime = Files.getLastModifiedTime(f);
    flipByte(f, 100);
    Files.setLastModifiedTime(f, mtime); // same size and mtime: only ctime tells
    InvalidBundleException e = assertThrows(InvalidBundleException.class, () -> describe(b));
    assertTrue(e.getMessage().contains("decoder.onnx.data"), e.getMessage());
    assertTrue(e.getMessage().contains("SHA-256"), e.getMessage());
  }

  private static void flipByte(Path f, long at) throws IOException {
    try (RandomAccessFile r = new RandomAccessFile(f.toFile(), "rw")) {
      r.seek(at);
      int v = r.read();
      r.seek(at);
      r.write(v ^ 0x5A);
    }
  }
}

package io.damjava.convert;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.damjava.onnx.bundle.BundleManifest;
import io.damjava.onnx.bundle.BundleManifest.Precision;
import io.damjava.onnx.bundle.BundleManifest.Variant;
import io.damjava.onnx.bundle.ManifestIo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Determinism, checksums, the manifest, and bad checkpoints. */
class BundleOutputTest {
  @TempDir Path tmp;

  static List<Path> files(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.sorted().toList();
    }
  }

  @Test
  void conversionIsDeterministicAndChecksumsVerify() throws Exception {
    for (Precision p : new Precision[] {Precision.FP32, Precision.INT4}) {
      Path a = tmp.resolve("a" + p);
      Path b = tmp.resolve("b" + p);
      ConvertSummary s =
          Converter.run(ConvertOptions.of(Goldens.checkpoint("tiny-image"), a).withPrecision(p));
      Converter.run(ConvertOptions.of(Goldens.checkpoint("tiny-image"), b).withPrecision(p));
      // int4 bundles add decoder_prefill.onnx (the default int8-dynamic prefill graph)
      assertEquals(p == Precision.INT4 ? 6 : 5, s.graphs().size());
      assertTrue(s.parameters() > 0 && s.bytes() > 0);
      List<Path> fa = files(a);
      List<Path> fb = files(b);
      assertEquals(
          fa.stream().map(Path::getFileName).toList(), fb.stream().map(Path::getFileName).toList());
      for (int i = 0; i < fa.size(); i++) {
        assertArrayEquals(
            Files.readAllBytes(fa.get(i)), Files.readAllBytes(fb.get(i)), fa.get(i).toString());
      }
      BundleManifest m = ManifestIo.read(a);
      assertEquals(fa.size() - 1, m.files().size());
      for (BundleManifest.FileEntry f : m.files()) {
        assertEquals(
            f.sha256(), io.damjava.onnx.bundle.FileDigest.sha256(a.resolve(f.path())), f.path());
        assertEquals(f.bytes(), Files.size(a.resolve(f.path())));
      }
      assertEquals(p, m.precision());
      // nothing left next to the output
      try (Stream<Path> s2 = Files.list(tmp)) {
        assertTrue(s2.noneMatch(x -> x.getFileName().toString().endsWith(".converting")));
      }
    }
  }

  @Test
  void manifestFieldsFollowTheCheckpoint() throws Exception {
    Path out = tmp.resolve("img");
    Converter.run(ConvertOptions.of(Goldens.checkpoint("tiny-image"), out));
    BundleManifest m = ManifestIo.read(out);
    assertEquals(Variant.IMAGE, m.variant());
    assertEquals("Describe the masked region in detail.", m.prompt().imageQuery());
    assertEquals("", m.prompt().videoQuery());
    assertEquals(729, m.dims().visionTokens());
    assertEquals(196, m.dims().imageTokens());
    assertEquals(64, m.dims().hidden());
    assertEquals("past_key_values.%d.key", m.graphs().decoder().input("pastKey"));
    assertEquals("present.%d.value", m.graphs().decoder().output("presentValue"));
    System.err.println("tiny-image manifest:\n" + Files.readString(out.resolve("dam-bundle.json")));
    Path joint = tmp.resolve("joint");
    Converter.run(ConvertOptions.of(Goldens.checkpoint("tiny-joint"), joint));
    BundleManifest mj = ManifestIo.read(joint);
    assertEquals(Variant.IMAGE_VIDEO, mj.variant());
    assertTrue(mj.prompt().videoQuery().startsWith("Given the video"));
    assertEquals(Variant.IMAGE_VIDEO, Converter.guessVariant("DAM-3B-Video"));
    assertEquals(Variant.IMAGE, Converter.guessVariant("DAM-3B"));
  }

  @Test
  void standardStyleRefusesQuantization() {
    var o =
        ConvertOptions.of(Goldens.checkpoint("tiny-image"), tmp.resolve("x"))
            .withStyle(BundleManifest.Style.STANDARD)
            .withPrecision(Precision.INT8);
    var e = assertThrows(IllegalArgumentException.class, () -> Converter.run(o));
    assertTrue(e.getMessage().contains("contrib"));
  }

  @Test
  void cliParses() {
    ConvertOptions o =
        Converter.parse(
            new String[] {
              "--checkpoint",
              "d",
              "--out",
              "o",
              "--precision",
              "int4",
              "--style",
              "standard",
              "--variant",
              "image_video"
            });
    assertEquals(Precision.INT4, o.precision());
    assertEquals(BundleManifest.Style.STANDARD, o.style());
    assertEquals(Variant.IMAGE_VIDEO, o.variant());
    assertEquals(
        ConvertOptions.Quant.INT8_DYNAMIC,
        Converter.parse(
                new String[] {"--checkpoint", "d", "--out", "o", "--vision", "int8-dynamic"})
            .visionStorage());
    assertThrows(
        IllegalArgumentException.class, () -> Converter.parse(new String[] {"--out", "o"}));
    assertThrows(
        IllegalArgumentException.class,
        () ->
            Converter.parse(
                new String[] {"--checkpoint", "d", "--out", "o", "--precision", "int2"}));
  }

  // ---- bad checkpoints ----

  Path copyCheckpoint() throws IOException {
    Path src = Goldens.checkpoint("tiny-image");
    Path dst = tmp.resolve("ckpt");
    try (Stream<Path> s = Files.walk(src)) {
      for (Path p : s.toList()) {
        Path t = dst.resolve(src.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(t);
        } else {
          Files.copy(p, t);
        }
      }
    }
    return dst;
  }

  CheckpointException fails(Path ckpt) {
    Path out = tmp.resolve("out");
    CheckpointException e =
        assertThrows(CheckpointException.class, () -> Converter.run(ConvertOptions.of(ckpt, out)));
    assertFalse(Files.exists(out), "no bundle left behind");
    assertFalse(Files.exists(tmp.resolve(".out.converting")), "no temp dir left behind");
    return e;
  }

  @Test
  void truncatedSafetensors() throws Exception {
    Path c = copyCheckpoint();
    Path f = c.resolve("mm_projector/model.safetensors");
    byte[] b = Files.readAllBytes(f);
    Files.write(f, java.util.Arrays.copyOf(b, b.length - 100));
    CheckpointException e = fails(c);
    assertTrue(e.getMessage().contains("mm_projector/model.safetensors"), e.getMessage());
    assertTrue(e.getMessage().contains("outside the data section"), e.getMessage());
  }

  @Test
  void headerLyingAboutOffsets() throws Exception {
    Path c = copyCheckpoint();
    Path f = c.resolve("mm_projector/model.safetensors");
    byte[] b = Files.readAllBytes(f);
    long n = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
    String h = new String(b, 8, (int) n, StandardCharsets.UTF_8);
    // make layers.4.bias claim to start at 0 (overlapping whatever is there)
    String h2 =
        h.replaceFirst(
            "(\"layers.4.bias\":\\{[^}]*\"data_offsets\":\\[)(\\d+),(\\d+)", "$1" + "0,$3");
    assertTrue(!h2.equals(h));
    Files.write(f, b);
    try (var ch = java.nio.channels.FileChannel.open(f, StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.wrap(pad(h2, (int) n).getBytes(StandardCharsets.UTF_8)), 8);
    }
    CheckpointException e = fails(c);
    assertTrue(e.getMessage().contains("layers.4.bias"), e.getMessage());
  }

  static String pad(String s, int n) {
    StringBuilder sb = new StringBuilder(s);
    while (sb.length() < n) {
      sb.append(' ');
    }
    return sb.substring(0, n);
  }

  @Test
  void unsupportedDtype() throws Exception {
    Path c = copyCheckpoint();
    Path f = c.resolve("mm_projector/model.safetensors");
    byte[] b = Files.readAllBytes(f);
    long n = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
    String h = new String(b, 8, (int) n, StandardCharsets.UTF_8);
    String h2 = h.replaceFirst("\"F16\"", "\"I16\"");
    System.arraycopy(h2.getBytes(StandardCharsets.UTF_8), 0, b, 8, (int) n);
    Files.write(f, b);
    CheckpointException e = fails(c);
    assertTrue(e.getMessage().contains("unsupported dtype I16"), e.getMessage());
  }

  @Test
  void missingSubfolder() throws Exception {
    Path c = copyCheckpoint();
    Converter.deleteRecursively(c.resolve("context_provider"));
    CheckpointException e = fails(c);
    assertTrue(e.getMessage().contains("context_provider"), e.getMessage());
  }

  @Test
  void missingTensor() throws Exception {
    Path c = copyCheckpoint();
    Path f = c.resolve("llm/model.safetensors");
    byte[] b = Files.readAllBytes(f);
    long n = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
    String h = new String(b, 8, (int) n, StandardCharsets.UTF_8);
    String h2 = h.replace("model.norm.weight", "model.nrom.weight");
    System.arraycopy(h2.getBytes(StandardCharsets.UTF_8), 0, b, 8, (int) n);
    Files.write(f, b);
    CheckpointException e = fails(c);
    assertTrue(e.getMessage().contains("'model.norm.weight' not found"), e.getMessage());
  }

  @Test
  void configDisagreesWithShapes() throws Exception {
    Path c = copyCheckpoint();
    Path cfg = c.resolve("llm/config.json");
    Files.writeString(
        cfg,
        Files.readString(cfg).replace("\"intermediate_size\": 128", "\"intermediate_size\": 96"));
    CheckpointException e = fails(c);
    assertTrue(e.getMessage().contains("llm/model.safetensors"), e.getMessage());
    assertTrue(e.getMessage().contains("mlp.gate_proj.weight"), e.getMessage());
  }

  @Test
  void shardedCheckpointReads() throws Exception {
    // Split llm/model.safetensors into two shards plus an index, as the real llm/ is.
    Path c = copyCheckpoint();
    Path llm = c.resolve("llm");
    TestSafetensors.shard(llm.resolve("model.safetensors"), llm);
    Files.delete(llm.resolve("model.safetensors"));
    Path a = tmp.resolve("sharded");
    Converter.run(ConvertOptions.of(c, a));
    Path b = GoldenGraphTest.convert("tiny-image", BundleManifest.Style.CONTRIB, Precision.FP32);
    assertArrayEquals(
        Files.readAllBytes(b.resolve("decoder.onnx.data")),
        Files.readAllBytes(a.resolve("decoder.onnx.data")));
  }
}

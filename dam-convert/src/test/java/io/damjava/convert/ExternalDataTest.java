package io.damjava.convert;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ExternalDataTest {
  @TempDir Path tmp;

  private static ByteBuffer bytes(int n, int seed) {
    ByteBuffer b = ByteBuffer.allocate(n);
    for (int i = 0; i < n; i++) {
      b.put((byte) (i * 31 + seed));
    }
    return b.flip();
  }

  @Test
  void aTensorAskedForTwiceIsWrittenOnceAndAligned() throws IOException {
    Path f = tmp.resolve("shared.data");
    try (ExternalData d = new ExternalData(f)) {
      ExternalData.Slot a = d.put("w", OnnxBuilder.FLOAT, bytes(5000, 1));
      ExternalData.Slot b = d.put("v", OnnxBuilder.FLOAT, bytes(3000, 2));
      ExternalData.Slot again = d.put("w", OnnxBuilder.FLOAT, bytes(5000, 1));
      assertFalse(a.reused());
      assertTrue(again.reused());
      assertEquals(a.offset(), again.offset());
      assertEquals(0, b.offset() % ExternalData.ALIGN);
      assertEquals(5000, d.reusedBytes());
    }
    assertEquals(ExternalData.ALIGN * 2L + 3000, Files.size(f));
  }

  @Test
  void theSameNameWithOtherBytesIsABug() throws IOException {
    try (ExternalData d = new ExternalData(tmp.resolve("x.data"))) {
      d.put("w", OnnxBuilder.FLOAT, bytes(2048, 1));
      IllegalStateException e =
          assertThrows(
              IllegalStateException.class, () -> d.put("w", OnnxBuilder.FLOAT, bytes(2048, 9)));
      assertTrue(e.getMessage().contains("w"), e.getMessage());
    }
  }

  @Test
  void twoGraphsOnOneFileCountSharedParametersOnce() throws IOException {
    float[] w = new float[600];
    float[] only = new float[700];
    try (ExternalData d = new ExternalData(tmp.resolve("v.data"))) {
      OnnxBuilder a = new OnnxBuilder(tmp.resolve("a.onnx"), false, d);
      a.weight("shared", w, 600);
      OnnxBuilder b = new OnnxBuilder(tmp.resolve("b.onnx"), false, d);
      b.weight("shared", w, 600);
      b.weight("own", only, 700);
      assertEquals(600, a.parameters());
      assertEquals(700, b.parameters());
    }
  }
}

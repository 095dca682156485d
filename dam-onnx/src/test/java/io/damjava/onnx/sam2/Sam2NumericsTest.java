package io.damjava.onnx.sam2;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** bf16 rounding (ties to even, as torch's .to(torch.bfloat16)) and the pointers' sine encoding. */
class Sam2NumericsTest {
  static final Path REPO = Path.of("..").toAbsolutePath().normalize();

  static float f(int bits) {
    return Float.intBitsToFloat(bits);
  }

  @Test
  void bf16RoundsToNearestEven() {
    assertEquals(f(0x3F800000), Sam2Numerics.roundToBf16(f(0x3F808000)), "tie, even below");
    assertEquals(f(0x3F820000), Sam2Numerics.roundToBf16(f(0x3F818000)), "tie, odd rounds up");
    assertEquals(f(0x3F810000), Sam2Numerics.roundToBf16(f(0x3F808001)), "above the tie");
    assertEquals(f(0xBF800000), Sam2Numerics.roundToBf16(f(0xBF807FFF)), "below the tie, negative");
    assertTrue(Float.isInfinite(Sam2Numerics.roundToBf16(Float.MAX_VALUE)));
    assertTrue(Float.isNaN(Sam2Numerics.roundToBf16(Float.NaN)));
  }

  @Test
  void goldenMemoryFeaturesAreBf16Values() throws IOException {
    byte[] raw =
        Files.readAllBytes(REPO.resolve("tools/reference/sam2/goldens/click_f6_maskmem.bf16"));
    ByteBuffer b = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
    int nonZero = 0;
    for (int i = 0; i < raw.length / 2; i++) {
      float v = f((b.getShort() & 0xFFFF) << 16);
      assertEquals(v, Sam2Numerics.roundToBf16(v));
      nonZero += v != 0f ? 1 : 0;
    }
    assertEquals(14 * 64 * 32, raw.length / 2);
    assertTrue(nonZero > raw.length / 4);
  }

  @Test
  void pointerSineEncoding() {
    float[][] pe = Sam2Numerics.pointerSineEncoding(new int[] {0, 13, -13, 5}, 14, 8);
    for (int k = 0; k < 4; k++) {
      assertEquals(0f, pe[0][k]);
      assertEquals(1f, pe[0][4 + k]);
    }
    // t = 1: dim_t = 10000^(2 floor(k/2) / 4) = 1, 1, 100, 100
    assertEquals((float) Math.sin(1.0), pe[1][0], 1e-7);
    assertEquals((float) Math.sin(1.0), pe[1][1], 1e-7);
    assertEquals((float) Math.sin(0.01), pe[1][2], 1e-7);
    assertEquals((float) Math.cos(0.01), pe[1][7], 1e-7);
    assertEquals(-pe[1][0], pe[2][0], 0f);
    assertEquals(pe[1][4], pe[2][4], 0f);
    assertEquals((float) Math.sin(5.0 / 13.0), pe[3][0], 1e-7);
  }

  @Test
  void sinePositionMatchesTheNecksEncoding() throws IOException {
    byte[] raw =
        Files.readAllBytes(
            REPO.resolve("tools/reference/sam2/goldens/click_f6_memattn_f09_vision_pos.f32"));
    float[] want = new float[raw.length / 4];
    ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(want);
    float[] got = Sam2Numerics.sinePosition2d(64, 8, 8);
    assertEquals(want.length, got.length);
    double max = 0;
    for (int i = 0; i < want.length; i++) {
      max = Math.max(max, Math.abs(want[i] - got[i]));
    }
    assertTrue(max < 1e-6, "max abs diff " + max);
  }
}

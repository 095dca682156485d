package io.damjava.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Byte-exact comparison with Pillow 9.4; goldens made by resources/resize/regenerate.py. */
class PillowResizeTest {

  record Case(String name, String mode, int w, int h, int outW, int outH, long seed, String sha) {
    @Override
    public String toString() {
      return name;
    }
  }

  static Stream<Case> cases() throws IOException {
    try (InputStream in = PillowResizeTest.class.getResourceAsStream("/resize/cases.tsv")) {
      List<String> lines =
          List.of(new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n"));
      return lines.stream()
          .filter(l -> !l.startsWith("#") && !l.isBlank())
          .map(l -> l.split("\t"))
          .map(
              f ->
                  new Case(
                      f[0],
                      f[1],
                      Integer.parseInt(f[2]),
                      Integer.parseInt(f[3]),
                      Integer.parseInt(f[4]),
                      Integer.parseInt(f[5]),
                      Long.parseLong(f[6]),
                      f[7]))
          .toList()
          .stream();
    }
  }

  /** The generator's input: byte i is the top byte of the i-th SplitMix64 output. */
  static byte[] input(long seed, int n) {
    SplitMix64 rng = new SplitMix64(seed);
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) {
      b[i] = (byte) (rng.nextLong() >>> 56);
    }
    return b;
  }

  @ParameterizedTest
  @MethodSource("cases")
  void matchesPillowBytes(Case c) throws Exception {
    int channels = c.mode.equals("RGB") ? 3 : 1;
    byte[] in = input(c.seed, c.w * c.h * channels);
    if (c.mode.equals("mask")) {
      for (int i = 0; i < in.length; i++) {
        in[i] = (byte) ((in[i] & 0xFF) >= 128 ? 255 : 0);
      }
    }
    byte[] out = PillowResize.resize(in, c.w, c.h, channels, c.outW, c.outH);
    assertEquals(c.outW * c.outH * channels, out.length);
    String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(out));
    if (!sha.equals(c.sha)) {
      try (InputStream raw = getClass().getResourceAsStream("/resize/" + c.name + ".bin")) {
        if (raw != null) {
          byte[] want = raw.readAllBytes();
          for (int i = 0; i < want.length; i++) {
            if (want[i] != out[i]) {
              fail(
                  c.name
                      + ": first difference at byte "
                      + i
                      + ": "
                      + (out[i] & 0xFF)
                      + " != Pillow "
                      + (want[i] & 0xFF));
            }
          }
        }
      }
      fail(c.name + ": SHA-256 " + sha + " != Pillow " + c.sha);
    }
  }

  @Test
  void sameSizeIsACopy() {
    byte[] in = input(99, 4 * 3 * 3);
    byte[] out = PillowResize.resize(in, 4, 3, 3, 4, 3);
    assertEquals(HexFormat.of().formatHex(in), HexFormat.of().formatHex(out));
    out[0]++;
    assertEquals((byte) (out[0] - 1), in[0]);
  }

  @Test
  void rejectsBadSizes() {
    assertThrows(
        IllegalArgumentException.class, () -> PillowResize.resize(new byte[3], 1, 1, 3, 0, 5));
    assertThrows(
        IllegalArgumentException.class, () -> PillowResize.resize(new byte[4], 1, 1, 3, 2, 2));
  }
}

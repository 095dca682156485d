package io.damjava.bench.fuzz;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.zip.CRC32;

/**
 * Seeded mutations of real inputs: byte-level (flips, interesting values, inserts, deletes,
 * truncation, splices), format-aware for PNG (declared size, bit depth and colour type rewritten
 * with a correct CRC, or a broken CRC), JPEG (frame size) and JSON text (a value replaced by an
 * interesting one). The same seed gives the same sequence.
 */
final class Mutator {
  private static final int[] INTERESTING_INTS = {
    0, 1, -1, 2, 0x7F, 0x80, 0xFF, 0x7FFF, 0xFFFF, 60_000, 65_535, 0x7FFFFFFF, 0x80000000
  };
  private static final String[] INTERESTING_JSON = {
    "null",
    "0",
    "-1",
    "1e308",
    "-1e308",
    "1e30",
    "1.5",
    "99999999999999999999999",
    "true",
    "\"\"",
    "\"x\"",
    "[]",
    "{}",
    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
    "\"\\u0000\"",
    "\"\\ud800\"",
    "\"../../etc/passwd\"",
    "[1,2,3]",
    "{\"a\":{}}",
    "2147483648"
  };

  private final SplittableRandom rnd;

  Mutator(long seed) {
    this.rnd = new SplittableRandom(seed);
  }

  int nextInt(int bound) {
    return rnd.nextInt(bound);
  }

  /** One to four stacked mutations of a seed (others may be spliced in). */
  byte[] mutate(byte[] seed, List<byte[]> others) {
    byte[] b = seed;
    int n = 1 + rnd.nextInt(4);
    for (int i = 0; i < n; i++) {
      b = once(b, others);
    }
    return b;
  }

  private byte[] once(byte[] b, List<byte[]> others) {
    if (isPng(b) && rnd.nextInt(3) == 0) {
      return png(b);
    }
    if (isJpeg(b) && rnd.nextInt(4) == 0) {
      return jpegSize(b);
    }
    if (looksLikeJson(b) && rnd.nextInt(2) == 0) {
      return json(b);
    }
    if (b.length == 0) {
      return new byte[] {(byte) rnd.nextInt(256)};
    }
    byte[] c = b.clone();
    switch (rnd.nextInt(8)) {
      case 0 -> c[rnd.nextInt(c.length)] ^= (byte) (1 << rnd.nextInt(8));
      case 1 -> c[rnd.nextInt(c.length)] = (byte) INTERESTING_INTS[rnd.nextInt(9)];
      case 2 -> {
        if (c.length >= 4) {
          int at = rnd.nextInt(c.length - 3);
          ByteBuffer.wrap(c).putInt(at, INTERESTING_INTS[rnd.nextInt(INTERESTING_INTS.length)]);
        }
      }
      case 3 -> {
        return insert(c, rnd.nextInt(c.length + 1), randomBytes(1 + rnd.nextInt(16)));
      }
      case 4 -> {
        int at = rnd.nextInt(c.length);
        int len = 1 + rnd.nextInt(Math.min(64, c.length - at));
        return cut(c, at, len);
      }
      case 5 -> {
        return Arrays.copyOf(c, rnd.nextInt(c.length));
      }
      case 6 -> {
        int at = rnd.nextInt(c.length);
        int len = 1 + rnd.nextInt(Math.min(256, c.length - at));
        return insert(c, rnd.nextInt(c.length + 1), Arrays.copyOfRange(c, at, at + len));
      }
      default -> {
        byte[] o = others.get(rnd.nextInt(others.size()));
        if (o.length == 0) {
          return c;
        }
        int keep = rnd.nextInt(c.length + 1);
        int from = rnd.nextInt(o.length);
        byte[] out = Arrays.copyOf(c, keep + o.length - from);
        System.arraycopy(o, from, out, keep, o.length - from);
        return out;
      }
    }
    return c;
  }

  private byte[] png(byte[] b) {
    byte[] c = b.clone();
    if (c.length < 33) {
      return c;
    }
    ByteBuffer buf = ByteBuffer.wrap(c);
    switch (rnd.nextInt(4)) {
      case 0 -> {
        // Declared size (a bomb, zero, negative, or slightly wrong), CRC kept valid.
        buf.putInt(16, pickDimension());
        buf.putInt(20, pickDimension());
        fixCrc(c, 8);
      }
      case 1 -> {
        c[24] = (byte) new int[] {1, 2, 4, 8, 16, 3, 0, 32}[rnd.nextInt(8)];
        c[25] = (byte) new int[] {0, 2, 3, 4, 6, 1, 7}[rnd.nextInt(7)];
        fixCrc(c, 8);
      }
      case 2 -> {
        // A broken CRC on a random chunk.
        int at = chunkAt(c);
        if (at >= 0) {
          int len = buf.getInt(at);
          int crcAt = at + 8 + len;
          if (len >= 0 && crcAt + 4 <= c.length) {
            c[crcAt] ^= 0x5A;
          }
        }
      }
      default -> {
        // A chunk's payload flipped but its CRC recomputed: only the content is wrong.
        int at = chunkAt(c);
        if (at >= 0) {
          int len = buf.getInt(at);
          if (len > 0 && at + 12 + len <= c.length) {
            c[at + 8 + rnd.nextInt(len)] ^= (byte) (1 + rnd.nextInt(255));
            fixCrc(c, at);
          }
        }
      }
    }
    return c;
  }

  private int chunkAt(byte[] c) {
    ByteBuffer buf = ByteBuffer.wrap(c);
    int pos = 8;
    int chosen = -1;
    int seen = 0;
    while (pos + 12 <= c.length) {
      int len = buf.getInt(pos);
      if (len < 0 || pos + 12L + len > c.length) {
        break;
      }
      seen++;
      if (rnd.nextInt(seen) == 0) {
        chosen = pos;
      }
      pos += 12 + len;
    }
    return chosen;
  }

  /** Recomputes the CRC of the chunk whose length field is at {@code at}. */
  static void fixCrc(byte[] c, int at) {
    ByteBuffer buf = ByteBuffer.wrap(c);
    int len = buf.getInt(at);
    if (len < 0 || at + 12L + len > c.length) {
      return;
    }
    CRC32 crc = new CRC32();
    crc.update(c, at + 4, 4 + len);
    buf.putInt(at + 8 + len, (int) crc.getValue());
  }

  private byte[] jpegSize(byte[] b) {
    byte[] c = b.clone();
    for (int p = 2; p + 9 < c.length; p++) {
      int m = c[p + 1] & 0xFF;
      if ((c[p] & 0xFF) == 0xFF && (m == 0xC0 || m == 0xC1 || m == 0xC2)) {
        int d = pickDimension() & 0xFFFF;
        int at = p + 5 + 2 * rnd.nextInt(2);
        c[at] = (byte) (d >>> 8);
        c[at + 1] = (byte) d;
        return c;
      }
    }
    return c;
  }

  private int pickDimension() {
    return switch (rnd.nextInt(6)) {
      case 0 -> 60_000;
      case 1 -> 0;
      case 2 -> -1;
      case 3 -> 1 + rnd.nextInt(64);
      case 4 -> 65_535;
      default -> 1 + rnd.nextInt(5000);
    };
  }

  private byte[] json(byte[] b) {
    String s = new String(b, StandardCharsets.UTF_8);
    // Replace one value-looking token (after a ':' or '[' or ',') by an interesting JSON value.
    int tries = 0;
    while (tries++ < 8) {
      int at = rnd.nextInt(s.length());
      int colon = indexOfAny(s, at, ":[,");
      if (colon < 0) {
        continue;
      }
      int start = colon + 1;
      while (start < s.length() && s.charAt(start) == ' ') {
        start++;
      }
      int end = valueEnd(s, start);
      if (end <= start) {
        continue;
      }
      String repl = INTERESTING_JSON[rnd.nextInt(INTERESTING_JSON.length)];
      return (s.substring(0, start) + repl + s.substring(end)).getBytes(StandardCharsets.UTF_8);
    }
    return b;
  }

  private static int indexOfAny(String s, int from, String chars) {
    for (int i = from; i < s.length(); i++) {
      if (chars.indexOf(s.charAt(i)) >= 0) {
        return i;
      }
    }
    return -1;
  }

  /** End of a scalar or bracketed JSON value starting at {@code start} (approximate). */
  private static int valueEnd(String s, int start) {
    if (start >= s.length()) {
      return start;
    }
    char c = s.charAt(start);
    if (c == '"') {
      for (int i = start + 1; i < s.length(); i++) {
        if (s.charAt(i) == '\\') {
          i++;
        } else if (s.charAt(i) == '"') {
          return i + 1;
        }
      }
      return s.length();
    }
    if (c == '{' || c == '[') {
      int depth = 0;
      boolean str = false;
      for (int i = start; i < s.length(); i++) {
        char d = s.charAt(i);
        if (str) {
          if (d == '\\') {
            i++;
          } else if (d == '"') {
            str = false;
          }
        } else if (d == '"') {
          str = true;
        } else if (d == '{' || d == '[') {
          depth++;
        } else if ((d == '}' || d == ']') && --depth == 0) {
          return i + 1;
        }
      }
      return s.length();
    }
    int i = start;
    while (i < s.length() && ",}] \n".indexOf(s.charAt(i)) < 0) {
      i++;
    }
    return i;
  }

  private byte[] randomBytes(int n) {
    byte[] r = new byte[n];
    for (int i = 0; i < n; i++) {
      r[i] = (byte) rnd.nextInt(256);
    }
    return r;
  }

  private static byte[] insert(byte[] b, int at, byte[] what) {
    byte[] out = new byte[b.length + what.length];
    System.arraycopy(b, 0, out, 0, at);
    System.arraycopy(what, 0, out, at, what.length);
    System.arraycopy(b, at, out, at + what.length, b.length - at);
    return out;
  }

  private static byte[] cut(byte[] b, int at, int len) {
    byte[] out = new byte[b.length - len];
    System.arraycopy(b, 0, out, 0, at);
    System.arraycopy(b, at + len, out, at, b.length - at - len);
    return out;
  }

  static boolean isPng(byte[] b) {
    return b.length > 8 && (b[0] & 0xFF) == 0x89 && b[1] == 'P' && b[2] == 'N' && b[3] == 'G';
  }

  static boolean isJpeg(byte[] b) {
    return b.length > 4 && (b[0] & 0xFF) == 0xFF && (b[1] & 0xFF) == 0xD8;
  }

  static boolean looksLikeJson(byte[] b) {
    return b.length > 1 && (b[0] == '{' || b[0] == '[');
  }
}

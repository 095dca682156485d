package io.damjava.onnx;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** The toy bundle's tokenizer: 0 pad, 1 BOS, 2 EOS, 3 + each UTF-8 byte. */
final class ByteTokenizer implements TextTokenizer {
  static TextTokenizer load(Path ignored) {
    return new ByteTokenizer();
  }

  @Override
  public int[] encodeWithBos(String text) {
    byte[] b = text.getBytes(StandardCharsets.UTF_8);
    int[] ids = new int[b.length + 1];
    ids[0] = 1;
    for (int i = 0; i < b.length; i++) {
      ids[i + 1] = (b[i] & 0xFF) + 3;
    }
    return ids;
  }

  @Override
  public String decode(int[] ids) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (int id : ids) {
      if (id >= 3) {
        out.write(id - 3);
      }
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  @Override
  public Stream newStream() {
    ByteArrayOutputStream pending = new ByteArrayOutputStream();
    return new Stream() {
      @Override
      public String push(int id) {
        if (id < 3) {
          return "";
        }
        pending.write(id - 3);
        byte[] b = pending.toByteArray();
        int lead = b[0] & 0xFF;
        int need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
        if (b.length < need) {
          return "";
        }
        pending.reset();
        return new String(b, StandardCharsets.UTF_8);
      }

      @Override
      public String finish() {
        String rest = pending.toString(StandardCharsets.UTF_8);
        pending.reset();
        return rest;
      }
    };
  }
}

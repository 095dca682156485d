package io.damjava.tokenizer;

import java.util.Arrays;

/**
 * The one decoding engine: {@link Tokenizer#decode} runs it over all ids and {@link
 * IncrementalDetokenizer} runs it one id at a time, so the streamed text always concatenates to the
 * full decode. Each step is O(1) amortised and appends only complete code points.
 */
final class DecodeStream {
  private static final char REPLACEMENT = '\uFFFD';

  private final DecodeTable table;
  private final boolean skipSpecial;

  private byte[] pending = new byte[8];
  private final StringBuilder run = new StringBuilder(8);
  private int pendingLength;

  // sentencepiece state
  private boolean isBosWs = true;
  private boolean bosWsSeen;
  private boolean textNonEmpty;

  // Hugging Face state
  private int tokenIndex;
  private int stripLeft;

  DecodeStream(DecodeTable table, boolean skipSpecial) {
    this.table = table;
    this.skipSpecial = skipSpecial;
    this.stripLeft = table.stripStart;
  }

  void accept(int id, StringBuilder out) {
    if (id < 0 || id >= table.size()) {
      throw new IllegalArgumentException(
          "token id " + id + " is out of range [0, " + table.size() + ")");
    }
    if (table.flavor == DecodeTable.Flavor.SENTENCEPIECE) {
      acceptSentencePiece(id, out);
    } else {
      acceptHuggingFace(id, out);
    }
  }

  /** Flushes bytes held back at the end of the sequence. */
  void finish(StringBuilder out) {
    if (table.flavor == DecodeTable.Flavor.SENTENCEPIECE) {
      drainBytes(out, true);
    } else {
      flushByteRun(out);
    }
  }

  private void acceptSentencePiece(int id, StringBuilder out) {
    if (skipSpecial && id == table.unkId) {
      return; // dropped like BOS/EOS, as transformers' skip_special_tokens does
    }
    int b = table.byteValue[id];
    if (b >= 0) {
      addPending(b);
      textNonEmpty = true; // a byte always decodes to something (a character or U+FFFD)
      drainBytes(out, false);
      return;
    }
    drainBytes(out, true);
    if (bosWsSeen || textNonEmpty) {
      isBosWs = false;
    }
    if (table.special[id] && !skipSpecial) {
      // Printed literally; what follows is decoded afresh, as transformers' slow LlamaTokenizer
      // calls sp_model.decode separately on the pieces between special tokens.
      out.append(table.specialText[id]);
      isBosWs = true;
      bosWsSeen = false;
      textNonEmpty = false;
      return;
    }
    String s;
    boolean consumed = false;
    if (table.special[id]) {
      s = "";
    } else if (isBosWs && table.bosWsRule && table.textWithoutLeadingSpace[id] != null) {
      s = table.textWithoutLeadingSpace[id];
      consumed = !table.stripAllLeading;
    } else {
      s = table.text[id];
    }
    bosWsSeen = consumed;
    if (!s.isEmpty()) {
      textNonEmpty = true;
      out.append(s);
    }
  }

  private void acceptHuggingFace(int id, StringBuilder out) {
    if (skipSpecial && table.special[id]) {
      return;
    }
    boolean first = tokenIndex++ == 0;
    int b = table.byteValue[id];
    if (b >= 0) {
      addPending(b);
      return;
    }
    flushByteRun(out);
    emitStripped(
        first && table.metaspaceFirst ? table.textWithoutMetaspace[id] : table.text[id], out);
  }

  private void emitStripped(CharSequence s, StringBuilder out) {
    int start = 0;
    while (stripLeft > 0 && start < s.length()) {
      if (s.charAt(start) == table.stripChar) {
        start++;
        stripLeft--;
      } else {
        stripLeft = 0;
      }
    }
    out.append(s, start, s.length());
  }

  private void addPending(int b) {
    if (pendingLength == pending.length) {
      pending = Arrays.copyOf(pending, pendingLength * 2);
    }
    pending[pendingLength++] = (byte) b;
  }

  /** Hugging Face ByteFallback: a whole run is either valid UTF-8 or one U+FFFD per byte. */
  private void flushByteRun(StringBuilder out) {
    if (pendingLength == 0) {
      return;
    }
    StringBuilder run = this.run;
    run.setLength(0);
    boolean valid = decodeUtf8(pending, pendingLength, run);
    if (!valid) {
      run.setLength(0);
      for (int i = 0; i < pendingLength; i++) {
        run.append(REPLACEMENT);
      }
    }
    pendingLength = 0;
    emitStripped(run, out);
  }

  /**
   * sentencepiece: emit each complete valid character as soon as it is complete; a byte that cannot
   * start a valid character becomes one U+FFFD. With {@code end}, nothing is held back.
   */
  private void drainBytes(StringBuilder out, boolean end) {
    int start = 0;
    while (start < pendingLength) {
      int consumed = decodeOne(pending, start, pendingLength, end, out);
      if (consumed == 0) {
        break; // incomplete, wait for more bytes
      }
      start += Math.abs(consumed);
    }
    if (start > 0) {
      System.arraycopy(pending, start, pending, 0, pendingLength - start);
      pendingLength -= start;
    }
  }

  /** Strict UTF-8 decode of a whole buffer; returns false if any byte was invalid. */
  static boolean decodeUtf8(byte[] bytes, int length, StringBuilder out) {
    int before = out.length();
    boolean valid = true;
    int i = 0;
    while (i < length) {
      int c = decodeOne(bytes, i, length, true, out);
      if (c < 0) {
        valid = false;
      }
      i += Math.abs(c);
    }
    if (!valid) {
      out.setLength(before);
    }
    return valid;
  }

  /**
   * Decodes one character at {@code start}: appends it and returns the bytes consumed; appends
   * U+FFFD and returns -1 for an invalid byte (one byte consumed); returns 0 if more bytes are
   * needed and {@code !end}. Matches sentencepiece's {@code DecodeUTF8}: no overlong forms, no
   * surrogates, max U+10FFFF.
   */
  static int decodeOne(byte[] b, int start, int limit, boolean end, StringBuilder out) {
    int lead = b[start] & 0xff;
    int need;
    int min;
    int cp;
    if (lead < 0x80) {
      out.append((char) lead);
      return 1;
    } else if ((lead & 0xe0) == 0xc0) {
      need = 2;
      min = 0x80;
      cp = lead & 0x1f;
    } else if ((lead & 0xf0) == 0xe0) {
      need = 3;
      min = 0x800;
      cp = lead & 0x0f;
    } else if ((lead & 0xf8) == 0xf0) {
      need = 4;
      min = 0x10000;
      cp = lead & 0x07;
    } else {
      out.append(REPLACEMENT);
      return -1;
    }
    int available = Math.min(limit - start, need);
    for (int i = 1; i < available; i++) {
      int t = b[start + i] & 0xff;
      if ((t & 0xc0) != 0x80) {
        out.append(REPLACEMENT);
        return -1;
      }
      cp = (cp << 6) | (t & 0x3f);
    }
    if (available < need) {
      if (!end) {
        return 0;
      }
      out.append(REPLACEMENT);
      return -1;
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000)) {
      out.append(REPLACEMENT);
      return -1;
    }
    out.appendCodePoint(cp);
    return need;
  }
}

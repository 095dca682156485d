package io.damjava.tokenizer;

import java.nio.charset.StandardCharsets;

/**
 * Minimal reader for the protobuf wire format, enough for a SentencePiece {@code ModelProto}. Every
 * read is bounds-checked and fails with a {@link TokenizerFormatException} naming {@code what}.
 */
final class ProtoReader {
  static final int VARINT = 0;
  static final int FIXED64 = 1;
  static final int LEN = 2;
  static final int FIXED32 = 5;

  private final byte[] buf;
  private final String what;
  private int pos;
  private final int end;

  ProtoReader(byte[] buf, int start, int end, String what) {
    this.buf = buf;
    this.pos = start;
    this.end = end;
    this.what = what;
  }

  boolean hasMore() {
    return pos < end;
  }

  /** Returns the next tag (field number << 3 | wire type). */
  int readTag() {
    long tag = readVarint();
    if (tag <= 0 || tag > Integer.MAX_VALUE) {
      throw error("invalid field tag " + tag);
    }
    return (int) tag;
  }

  long readVarint() {
    long result = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos >= end) {
        throw error("truncated varint");
      }
      byte b = buf[pos++];
      result |= (long) (b & 0x7f) << shift;
      if (b >= 0) {
        return result;
      }
    }
    throw error("varint longer than 10 bytes");
  }

  float readFloat() {
    if (end - pos < 4) {
      throw error("truncated fixed32");
    }
    int bits =
        (buf[pos] & 0xff)
            | (buf[pos + 1] & 0xff) << 8
            | (buf[pos + 2] & 0xff) << 16
            | (buf[pos + 3] & 0xff) << 24;
    pos += 4;
    return Float.intBitsToFloat(bits);
  }

  /** Reads a length prefix and returns a reader over the embedded bytes, advancing past them. */
  ProtoReader readMessage(String childWhat) {
    int len = readLength();
    ProtoReader child = new ProtoReader(buf, pos, pos + len, childWhat);
    pos += len;
    return child;
  }

  String readString() {
    int len = readLength();
    String s = new String(buf, pos, len, StandardCharsets.UTF_8);
    pos += len;
    return s;
  }

  private int readLength() {
    long len = readVarint();
    if (len < 0 || len > end - pos) {
      throw error("length " + len + " runs past the end of the data (" + (end - pos) + " left)");
    }
    return (int) len;
  }

  void skip(int wireType) {
    switch (wireType) {
      case VARINT -> readVarint();
      case FIXED64 -> advance(8);
      case LEN -> advance(readLength());
      case FIXED32 -> advance(4);
      default -> throw error("unsupported wire type " + wireType);
    }
  }

  private void advance(int n) {
    if (end - pos < n) {
      throw error("truncated field");
    }
    pos += n;
  }

  TokenizerFormatException error(String message) {
    return new TokenizerFormatException(what + ": " + message + " at byte " + pos);
  }
}

package io.damjava.convert;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * One external data file that initializers are streamed into, each 4096-byte aligned, and that
 * several graphs may share: a tensor written under a name is written once, and a later graph that
 * asks for the same name with the same bytes gets the existing offset. The two vision graphs hold
 * the same 26 SigLIP blocks, so sharing their file stores those weights once (1.6 GB of a DAM-3B
 * bundle) and lets ONNX Runtime map the same pages for both sessions.
 */
final class ExternalData implements AutoCloseable {
  static final int ALIGN = 4096;

  /** Where a written tensor lives. */
  record Slot(long offset, long length, boolean reused) {}

  private record Written(Slot slot, int elemType, long crc) {}

  private final String name;
  private final FileChannel channel;
  private final Map<String, Written> written = new HashMap<>();
  private long reused;

  /** Creates (or truncates) {@code file}; graphs refer to it by its file name. */
  ExternalData(Path file) throws IOException {
    this.name = file.getFileName().toString();
    this.channel =
        FileChannel.open(
            file,
            StandardOpenOption.CREATE,
            StandardOpenOption.TRUNCATE_EXISTING,
            StandardOpenOption.WRITE);
  }

  /** The file name graphs put in their {@code location} entries. */
  String fileName() {
    return name;
  }

  /** Bytes not written again because a graph reused a tensor already in the file. */
  long reusedBytes() {
    return reused;
  }

  /**
   * Writes a tensor's bytes, or finds them already written under that name.
   *
   * @throws IllegalStateException if the name was written before with other bytes (a converter bug)
   */
  Slot put(String tensor, int elemType, ByteBuffer bytes) throws IOException {
    CRC32C crc = new CRC32C();
    crc.update(bytes.duplicate());
    long len = bytes.remaining();
    Written w = written.get(tensor);
    if (w != null) {
      if (w.slot().length() != len || w.elemType() != elemType || w.crc() != crc.getValue()) {
        throw new IllegalStateException(
            "initializer " + tensor + " written twice to " + name + " with different bytes");
      }
      reused += len;
      return new Slot(w.slot().offset(), len, true);
    }
    long pos = channel.position();
    long aligned = (pos + ALIGN - 1) / ALIGN * ALIGN;
    if (aligned > pos) {
      ByteBuffer pad = ByteBuffer.allocate((int) (aligned - pos));
      while (pad.hasRemaining()) {
        channel.write(pad);
      }
    }
    while (bytes.hasRemaining()) {
      channel.write(bytes);
    }
    Slot s = new Slot(aligned, len, false);
    written.put(tensor, new Written(s, elemType, crc.getValue()));
    return s;
  }

  /** Flushes to disk and closes the file (idempotent). */
  @Override
  public void close() throws IOException {
    if (channel.isOpen()) {
      channel.force(true);
      channel.close();
    }
  }
}

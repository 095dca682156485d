package io.damjava.convert;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One {@code .safetensors} file. The header is parsed and validated when the file is opened
 * (offsets inside the file, no overlaps, byte sizes equal to dtype size times the shape product);
 * tensor data is memory-mapped one tensor at a time and converted to float32 on read, so files over
 * 2 GB work and nothing but the requested tensor is held on the heap.
 */
public final class SafetensorsFile implements AutoCloseable {
  /** A header above this is refused (the real checkpoint's largest is about 30 KB). */
  static final long MAX_HEADER = 100L * 1024 * 1024;

  /** One tensor entry of the header. */
  public record Entry(String name, String dtype, long[] shape, long begin, long end) {
    /** Number of elements. */
    public long elements() {
      long n = 1;
      for (long d : shape) {
        n *= d;
      }
      return n;
    }
  }

  private final Path path;
  private final FileChannel channel;
  private final long dataStart;
  private final Map<String, Entry> entries;

  private SafetensorsFile(Path path, FileChannel channel, long dataStart, Map<String, Entry> e) {
    this.path = path;
    this.channel = channel;
    this.dataStart = dataStart;
    this.entries = e;
  }

  /** Opens and validates a file. */
  public static SafetensorsFile open(Path path) {
    FileChannel ch;
    try {
      ch = FileChannel.open(path, StandardOpenOption.READ);
    } catch (NoSuchFileException e) {
      throw new CheckpointException(path + ": file not found", e);
    } catch (IOException e) {
      throw new CheckpointException(path + ": cannot open: " + e.getMessage(), e);
    }
    try {
      SafetensorsFile f = parse(path, ch);
      return f;
    } catch (RuntimeException e) {
      closeQuietly(ch);
      throw e;
    }
  }

  private static SafetensorsFile parse(Path path, FileChannel ch) {
    try {
      long size = ch.size();
      if (size < 8) {
        throw new CheckpointException(path + ": truncated safetensors file (" + size + " bytes)");
      }
      ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
      readFully(ch, lenBuf, 0);
      long headerLen = lenBuf.getLong(0);
      if (headerLen < 2 || headerLen > MAX_HEADER || 8 + headerLen > size) {
        throw new CheckpointException(
            path
                + ": bad safetensors header length "
                + headerLen
                + " (file is "
                + size
                + " bytes)");
      }
      ByteBuffer hb = ByteBuffer.allocate((int) headerLen);
      readFully(ch, hb, 8);
      String json = new String(hb.array(), StandardCharsets.UTF_8);
      JsonNode root;
      try {
        root = new ObjectMapper().readTree(json);
      } catch (JsonProcessingException e) {
        throw new CheckpointException(path + ": safetensors header is not valid JSON", e);
      }
      if (root == null || !root.isObject()) {
        throw new CheckpointException(path + ": safetensors header is not a JSON object");
      }
      long dataStart = 8 + headerLen;
      long dataLen = size - dataStart;
      Map<String, Entry> entries = new LinkedHashMap<>();
      Iterator<Map.Entry<String, JsonNode>> it = root.fields();
      while (it.hasNext()) {
        Map.Entry<String, JsonNode> f = it.next();
        String name = f.getKey();
        if (name.equals("__metadata__")) {
          continue;
        }
        entries.put(name, entry(path, name, f.getValue(), dataLen));
      }
      List<Entry> sorted = new ArrayList<>(entries.values());
      sorted.sort(Comparator.comparingLong(Entry::begin));
      for (int i = 1; i < sorted.size(); i++) {
        Entry a = sorted.get(i - 1);
        Entry b = sorted.get(i);
        if (b.begin() < a.end()) {
          throw new CheckpointException(
              path + ": tensors '" + a.name() + "' and '" + b.name() + "' overlap in the data");
        }
      }
      return new SafetensorsFile(path, ch, dataStart, Collections.unmodifiableMap(entries));
    } catch (IOException e) {
      throw new CheckpointException(path + ": cannot read: " + e.getMessage(), e);
    }
  }

  private static Entry entry(Path path, String name, JsonNode n, long dataLen) {
    String where = path + ": tensor '" + name + "': ";
    JsonNode dt = n.get("dtype");
    JsonNode sh = n.get("shape");
    JsonNode off = n.get("data_offsets");
    if (dt == null || !dt.isTextual() || sh == null || !sh.isArray() || off == null) {
      throw new CheckpointException(where + "header entry lacks dtype/shape/data_offsets");
    }
    String dtype = dt.asText();
    int esize = elementSize(dtype);
    if (esize < 0) {
      throw new CheckpointException(
          where + "unsupported dtype " + dtype + " (supported: F32, F16, BF16)");
    }
    long[] shape = new long[sh.size()];
    long count = 1;
    for (int i = 0; i < shape.length; i++) {
      JsonNode d = sh.get(i);
      if (!d.canConvertToLong() || d.asLong() < 0) {
        throw new CheckpointException(where + "bad shape " + sh);
      }
      shape[i] = d.asLong();
      count = Math.multiplyExact(count, shape[i]);
    }
    if (!off.isArray() || off.size() != 2) {
      throw new CheckpointException(where + "bad data_offsets " + off);
    }
    long begin = off.get(0).asLong(-1);
    long end = off.get(1).asLong(-1);
    if (begin < 0 || end < begin || end > dataLen) {
      throw new CheckpointException(
          where
              + "data_offsets ["
              + begin
              + ", "
              + end
              + ") lie outside the data section of "
              + dataLen
              + " bytes (truncated file or lying header)");
    }
    if (end - begin != count * esize) {
      throw new CheckpointException(
          where
              + "data_offsets span "
              + (end - begin)
              + " bytes but "
              + dtype
              + " "
              + Arrays.toString(shape)
              + " needs "
              + count * esize);
    }
    return new Entry(name, dtype, shape, begin, end);
  }

  static int elementSize(String dtype) {
    return switch (dtype) {
      case "F32" -> 4;
      case "F16", "BF16" -> 2;
      default -> -1;
    };
  }

  /** The file. */
  public Path path() {
    return path;
  }

  /** Tensor entries in header order. */
  public Map<String, Entry> entries() {
    return entries;
  }

  /** Reads a tensor as float32 (F16 and BF16 are widened exactly). */
  public float[] read(String name) {
    Entry e = entries.get(name);
    if (e == null) {
      throw new CheckpointException(path + ": tensor '" + name + "' not found");
    }
    long n = e.elements();
    if (n > Integer.MAX_VALUE - 8) {
      throw new CheckpointException(path + ": tensor '" + name + "' too large: " + n);
    }
    float[] out = new float[(int) n];
    if (n == 0) {
      return out;
    }
    try {
      MappedByteBuffer m =
          channel.map(FileChannel.MapMode.READ_ONLY, dataStart + e.begin(), e.end() - e.begin());
      m.order(ByteOrder.LITTLE_ENDIAN);
      switch (e.dtype()) {
        case "F32" -> m.asFloatBuffer().get(out);
        case "F16" -> {
          for (int i = 0; i < out.length; i++) {
            out[i] = Half.toFloat(m.getShort(2 * i));
          }
        }
        case "BF16" -> {
          for (int i = 0; i < out.length; i++) {
            out[i] = Float.intBitsToFloat((m.getShort(2 * i) & 0xffff) << 16);
          }
        }
        default -> throw new IllegalStateException(e.dtype());
      }
    } catch (IOException ex) {
      throw new CheckpointException(path + ": tensor '" + name + "': " + ex.getMessage(), ex);
    }
    return out;
  }

  private static void readFully(FileChannel ch, ByteBuffer b, long pos) throws IOException {
    while (b.hasRemaining()) {
      int r = ch.read(b, pos + b.position());
      if (r < 0) {
        throw new IOException("unexpected end of file");
      }
    }
  }

  private static void closeQuietly(FileChannel ch) {
    try {
      ch.close();
    } catch (IOException ignored) {
      // nothing to do
    }
  }

  @Override
  public void close() {
    closeQuietly(channel);
  }
}

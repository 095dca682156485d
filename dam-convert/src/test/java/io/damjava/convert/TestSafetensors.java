package io.damjava.convert;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Writes safetensors files in tests. */
final class TestSafetensors {
  private TestSafetensors() {}

  /** Splits a safetensors file into two F32 shards plus model.safetensors.index.json. */
  static void shard(Path src, Path dir) throws IOException {
    shard(src, dir, "F32");
  }

  /** float32 to bfloat16 bits, round to nearest even (as torch does). */
  static short bf16(float x) {
    int b = Float.floatToRawIntBits(x);
    return (short) ((b + 0x7FFF + ((b >>> 16) & 1)) >>> 16);
  }

  /** Splits a safetensors file into two shards (dtype F32 or BF16) plus the index. */
  static void shard(Path src, Path dir, String dtype) throws IOException {
    int es = dtype.equals("BF16") ? 2 : 4;
    ObjectMapper om = new ObjectMapper();
    ObjectNode map = om.createObjectNode();
    List<String> names = new ArrayList<>();
    try (SafetensorsFile f = SafetensorsFile.open(src)) {
      names.addAll(f.entries().keySet());
      for (int part = 0; part < 2; part++) {
        String shardName = String.format("model-%05d-of-00002.safetensors", part + 1);
        ObjectNode header = om.createObjectNode();
        List<float[]> data = new ArrayList<>();
        long off = 0;
        for (int i = part; i < names.size(); i += 2) {
          String n = names.get(i);
          SafetensorsFile.Entry e = f.entries().get(n);
          float[] v = f.read(n);
          ObjectNode t = header.putObject(n);
          t.put("dtype", dtype);
          var shape = t.putArray("shape");
          for (long d : e.shape()) {
            shape.add(d);
          }
          t.putArray("data_offsets").add(off).add(off + (long) es * v.length);
          off += (long) es * v.length;
          data.add(v);
          map.put(n, shardName);
        }
        byte[] h = om.writeValueAsString(header).getBytes(StandardCharsets.UTF_8);
        try (OutputStream os = Files.newOutputStream(dir.resolve(shardName))) {
          os.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).array());
          os.write(h);
          for (float[] v : data) {
            ByteBuffer b = ByteBuffer.allocate(es * v.length).order(ByteOrder.LITTLE_ENDIAN);
            for (float x : v) {
              if (es == 2) {
                b.putShort(bf16(x));
              } else {
                b.putFloat(x);
              }
            }
            os.write(b.array());
          }
        }
      }
    }
    ObjectNode index = om.createObjectNode();
    index.putObject("metadata");
    index.set("weight_map", map);
    Files.writeString(dir.resolve("model.safetensors.index.json"), om.writeValueAsString(index));
  }

  /**
   * Rewrites {@code file} as F32 with the 2-D tensors named in {@code rows} cut to that many rows.
   */
  static void keepRows(Path file, java.util.Map<String, Integer> rows) throws IOException {
    ObjectMapper om = new ObjectMapper();
    ObjectNode header = om.createObjectNode();
    List<float[]> data = new ArrayList<>();
    long off = 0;
    try (SafetensorsFile f = SafetensorsFile.open(file)) {
      for (String n : new java.util.TreeSet<>(f.entries().keySet())) {
        long[] shape = f.entries().get(n).shape().clone();
        float[] v = f.read(n);
        if (rows.containsKey(n)) {
          shape[0] = rows.get(n);
          v = java.util.Arrays.copyOf(v, (int) (shape[0] * shape[1]));
        }
        ObjectNode t = header.putObject(n);
        t.put("dtype", "F32");
        var sh = t.putArray("shape");
        for (long d : shape) {
          sh.add(d);
        }
        t.putArray("data_offsets").add(off).add(off + 4L * v.length);
        off += 4L * v.length;
        data.add(v);
      }
    }
    byte[] h = om.writeValueAsString(header).getBytes(StandardCharsets.UTF_8);
    try (OutputStream os = Files.newOutputStream(file)) {
      os.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).array());
      os.write(h);
      for (float[] v : data) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : v) {
          b.putFloat(x);
        }
        os.write(b.array());
      }
    }
  }
}

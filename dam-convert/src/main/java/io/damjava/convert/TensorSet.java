package io.damjava.convert;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The weights of one checkpoint subfolder: a single {@code model.safetensors}, or the shards named
 * by {@code model.safetensors.index.json}. Reads check the expected shape.
 */
public final class TensorSet implements AutoCloseable {
  private final Path dir;
  private final List<SafetensorsFile> files;
  private final Map<String, SafetensorsFile> byName;
  // name -> rows get() returns: the leading rows of a tensor whose file holds more (padded vocab)
  private final Map<String, Long> keptRows = new TreeMap<>();

  private TensorSet(Path dir, List<SafetensorsFile> files, Map<String, SafetensorsFile> byName) {
    this.dir = dir;
    this.files = files;
    this.byName = byName;
  }

  /** Opens the weights in {@code dir}. */
  public static TensorSet open(Path dir) {
    Path single = dir.resolve("model.safetensors");
    Path index = dir.resolve("model.safetensors.index.json");
    List<SafetensorsFile> files = new ArrayList<>();
    Map<String, SafetensorsFile> byName = new TreeMap<>();
    try {
      if (Files.isRegularFile(index)) {
        JsonNode root;
        try {
          root = new ObjectMapper().readTree(index.toFile());
        } catch (IOException e) {
          throw new CheckpointException(index + ": cannot parse: " + e.getMessage(), e);
        }
        JsonNode map = root.get("weight_map");
        if (map == null || !map.isObject()) {
          throw new CheckpointException(index + ": no weight_map object");
        }
        Map<String, SafetensorsFile> shards = new LinkedHashMap<>();
        Iterator<Map.Entry<String, JsonNode>> it = map.fields();
        while (it.hasNext()) {
          Map.Entry<String, JsonNode> e = it.next();
          String shard = e.getValue().asText();
          if (shard.contains("/") || shard.contains("\\") || shard.startsWith(".")) {
            throw new CheckpointException(index + ": bad shard name '" + shard + "'");
          }
          SafetensorsFile f = shards.get(shard);
          if (f == null) {
            f = SafetensorsFile.open(dir.resolve(shard));
            shards.put(shard, f);
            files.add(f);
          }
          if (!f.entries().containsKey(e.getKey())) {
            throw new CheckpointException(
                f.path() + ": tensor '" + e.getKey() + "' is listed in " + index + " but absent");
          }
          byName.put(e.getKey(), f);
        }
      } else if (Files.isRegularFile(single)) {
        SafetensorsFile f = SafetensorsFile.open(single);
        files.add(f);
        for (String n : f.entries().keySet()) {
          byName.put(n, f);
        }
      } else {
        throw new CheckpointException(
            dir + ": no model.safetensors or model.safetensors.index.json");
      }
    } catch (RuntimeException e) {
      files.forEach(SafetensorsFile::close);
      throw e;
    }
    return new TensorSet(dir, files, byName);
  }

  /** The folder. */
  public Path dir() {
    return dir;
  }

  /** Whether a tensor exists. */
  public boolean has(String name) {
    return byName.containsKey(name);
  }

  /** Tensor names, sorted. */
  public Iterable<String> names() {
    return byName.keySet();
  }

  /** The shape of a tensor. */
  public long[] shape(String name) {
    return file(name).entries().get(name).shape();
  }

  /**
   * From now on {@link #get} returns only the first {@code rows} rows of the 2-D tensor {@code
   * name} (and expects that shape): for an embedding padded beyond the tokenizer, whose extra rows
   * the official loader drops with {@code resize_token_embeddings}.
   */
  void keepRows(String name, long rows) {
    long[] shape = shape(name);
    if (shape.length != 2 || shape[0] < rows) {
      throw new IllegalArgumentException(
          name + Arrays.toString(shape) + " has fewer rows than " + rows);
    }
    keptRows.put(name, rows);
  }

  /** Reads a tensor as float32, checking its shape. */
  public float[] get(String name, long... expected) {
    SafetensorsFile f = file(name);
    long[] shape = f.entries().get(name).shape();
    Long kept = keptRows.get(name);
    if (kept != null && kept < shape[0] && expected.length == 2 && expected[0] == kept) {
      if (shape[1] != expected[1]) {
        throw new CheckpointException(
            f.path()
                + ": tensor '"
                + name
                + "' has "
                + shape[1]
                + " columns, expected "
                + expected[1]);
      }
      return Arrays.copyOf(f.read(name), Math.toIntExact(kept * shape[1]));
    }
    if (!sameShape(shape, expected)) {
      throw new CheckpointException(
          f.path()
              + ": tensor '"
              + name
              + "' has shape "
              + Arrays.toString(shape)
              + " but the config implies "
              + Arrays.toString(expected));
    }
    return f.read(name);
  }

  private static boolean sameShape(long[] shape, long[] expected) {
    if (Arrays.equals(shape, expected)) {
      return true;
    }
    // A scalar stored as [1] or [] is the same thing.
    long n1 = 1;
    long n2 = 1;
    for (long d : shape) {
      n1 *= d;
    }
    for (long d : expected) {
      n2 *= d;
    }
    return n1 == 1 && n2 == 1 && shape.length <= 1 && expected.length <= 1;
  }

  private SafetensorsFile file(String name) {
    SafetensorsFile f = byName.get(name);
    if (f == null) {
      throw new CheckpointException(
          dir + ": tensor '" + name + "' not found in the checkpoint weights");
    }
    return f;
  }

  @Override
  public void close() {
    files.forEach(SafetensorsFile::close);
  }
}

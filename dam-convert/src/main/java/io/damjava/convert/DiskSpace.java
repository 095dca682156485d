package io.damjava.convert;

import io.damjava.onnx.bundle.BundleManifest.Precision;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The disk checks of a conversion. Before writing: the language model's weights alone, at the
 * bundle's precision, are a lower bound of the bundle's size (the vision graphs, the scales and the
 * tokenizer only add to it), so a disk with less free space is refused at once rather than after
 * minutes of work. While writing: a failed write on a disk with almost no space left is reported as
 * a full disk, not as the bare I/O error of whichever file was being written.
 */
final class DiskSpace {
  /** Below this much free space a failed write is taken to be a full disk. */
  static final long NEARLY_FULL = 64L << 20;

  private DiskSpace() {}

  /** Bytes the LLM's weights take at {@code p}: int4 half a byte a weight, int8 one, ... */
  static long lowerBound(Checkpoint c, Precision p) {
    long weights = 0;
    TensorSet llm = c.llmTensors();
    for (String name : llm.names()) {
      long n = 1;
      for (long d : llm.shape(name)) {
        n *= d;
      }
      weights += n;
    }
    return switch (p) {
      case FP32 -> weights * 4;
      case FP16 -> weights * 2;
      case INT8 -> weights;
      case INT4 -> weights / 2;
    };
  }

  /** Refuses the conversion when {@code dir}'s disk has less than {@code need} bytes free. */
  static void require(Path dir, Path out, long need, Precision p) throws IOException {
    long free = Files.getFileStore(dir).getUsableSpace();
    if (free < need) {
      throw new DiskFullException(
          "not enough disk space for "
              + out
              + ": a "
              + p.name().toLowerCase(Locale.ROOT)
              + " bundle of this checkpoint needs at least "
              + size(need)
              + " and its disk has "
              + size(free)
              + " free; free some space or give --out a folder on another disk",
          null);
    }
  }

  /**
   * @return a {@link DiskFullException} when {@code failure} happened on a (nearly) full disk, else
   *     null. Call it before removing the partial output, which frees the space again.
   */
  static DiskFullException explain(Throwable failure, Path dir, Path out) {
    IOException io = null;
    for (Throwable t = failure; t != null && io == null; t = t.getCause()) {
      if (t instanceof IOException e) {
        io = e;
      }
    }
    if (io == null) {
      return null;
    }
    long free;
    try {
      free = Files.getFileStore(dir).getUsableSpace();
    } catch (IOException e) {
      free = -1;
    }
    String m = String.valueOf(io.getMessage());
    boolean full = (free >= 0 && free < NEARLY_FULL) || m.contains("No space left");
    if (!full) {
      return null;
    }
    return new DiskFullException(
        "the disk filled up while writing "
            + out
            + " ("
            + m
            + "; "
            + (free >= 0 ? size(free) + " free now" : "free space unknown")
            + "); the partial output was removed: free some space or give --out a folder on"
            + " another disk, then convert again",
        failure);
  }

  static String size(long bytes) {
    if (bytes >= 1L << 30) {
      return String.format(Locale.ROOT, "%.1f GiB", bytes / (double) (1L << 30));
    }
    return String.format(Locale.ROOT, "%.1f MiB", bytes / (double) (1L << 20));
  }
}

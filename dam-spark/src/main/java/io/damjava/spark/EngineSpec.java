package io.damjava.spark;

import io.damjava.api.DescribeAnything;
import io.damjava.api.Device;
import io.damjava.api.InvalidInputException;
import io.damjava.api.ModelLoadException;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.spark.SparkFiles;

/**
 * Which engine an executor loads: the bundle, an optional SAM segmenter bundle, the device and the
 * runtime's intra-op threads. Two tasks with equal specs share one engine in their JVM.
 *
 * <p>A path is either a directory every executor can read (a shared filesystem mount, or the same
 * local path on every node) or {@code sparkfiles:NAME}: a directory shipped with {@code
 * spark.sparkContext().addFile(dir, true)} (or {@code spark-submit --files}), found on each
 * executor through {@link SparkFiles#get(String)}.
 *
 * @param bundle the DAM bundle directory (holds {@code dam-bundle.json})
 * @param segmenter the SAM bundle directory for box and point regions; null for none
 * @param device {@code cpu} or {@code cuda:N}
 * @param threads intra-op threads of the runtime; 0 lets the runtime choose
 */
public record EngineSpec(String bundle, String segmenter, String device, int threads)
    implements Serializable {

  /** The prefix of a path resolved with {@link SparkFiles#get(String)} on the executor. */
  public static final String SPARK_FILES = "sparkfiles:";

  public EngineSpec {
    if (bundle == null || bundle.isBlank()) {
      throw new InvalidInputException(
          "the bundle path is required (a directory or sparkfiles:NAME)");
    }
    if (segmenter != null && segmenter.isBlank()) {
      segmenter = null;
    }
    device = device == null || device.isBlank() ? "cpu" : device;
    Device.parse(device); // fail on the driver, not in every task
    if (threads < 0) {
      throw new InvalidInputException("threads must be >= 0 (0 = runtime default), got " + threads);
    }
  }

  /** A CPU engine over {@code bundle} with the runtime's default threads. */
  public static EngineSpec of(String bundle) {
    return new EngineSpec(bundle, null, "cpu", 0);
  }

  /** Loads the engine this spec names; called once per JVM by {@link DamEngines}. */
  DescribeAnything load() {
    DescribeAnything.Builder b =
        DescribeAnything.builder()
            .model(resolve(bundle))
            .device(Device.parse(device))
            .threads(threads);
    if (segmenter != null) {
      b.segmenter(resolve(segmenter));
    }
    return b.build();
  }

  static Path resolve(String path) {
    if (path.startsWith(SPARK_FILES)) {
      String name = path.substring(SPARK_FILES.length());
      Path p = Path.of(SparkFiles.get(name));
      if (!Files.isDirectory(p)) {
        throw new ModelLoadException(
            path
                + " is not a directory on this executor ("
                + p
                + "): ship it with sparkContext().addFile(dir, true) before the job runs");
      }
      return p;
    }
    return path.startsWith("file:") ? Path.of(java.net.URI.create(path)) : Path.of(path);
  }
}

package io.damjava.convert;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * What a conversion produced.
 *
 * @param bundle the bundle directory
 * @param graphs graph file names
 * @param parameters weight elements written over all graphs
 * @param bytes total bytes of the bundle's files
 * @param time wall time
 */
public record ConvertSummary(
    Path bundle, List<String> graphs, long parameters, long bytes, Duration time) {
  public ConvertSummary {
    graphs = List.copyOf(graphs);
  }

  @Override
  public String toString() {
    return String.format(
        "%s: %d graphs, %,d parameters, %,d bytes, %.1f s",
        bundle, graphs.size(), parameters, bytes, time.toMillis() / 1000.0);
  }
}

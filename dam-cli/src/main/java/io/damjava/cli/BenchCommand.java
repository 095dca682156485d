package io.damjava.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;

/**
 * {@code dam bench}: the benchmarks live in dam-bench (JMH and the side-by-side harness), which the
 * CLI jar does not carry; the {@code ./dam} launcher of a source checkout builds and runs them.
 */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description = {
      "Benchmarks, from a source checkout (see docs/PERFORMANCE.md):",
      "  ./dam bench compare [--threads 2] [--precisions fp32,int8,int4] ...",
      "      this engine against the PyTorch reference, with the machine's bounds",
      "  ./dam bench jmh [JMH options]",
      "      the JMH benchmarks of the hot path"
    })
final class BenchCommand implements Callable<Integer> {
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine()
        .getErr()
        .println(
            "dam: the benchmarks are not part of this jar: run ./dam bench compare (or jmh) from a"
                + " source checkout");
    return DamCli.USAGE;
  }
}

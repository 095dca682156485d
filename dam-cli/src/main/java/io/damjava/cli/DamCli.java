package io.damjava.cli;

import io.damjava.api.InferenceException;
import io.damjava.api.InvalidInputException;
import io.damjava.api.ModelLoadException;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code dam} command line. Exit codes: 0 ok, 2 usage, 3 bad input, 4 model or bundle problem,
 * 5 inference failure, 1 anything else. Stack traces only with {@code --verbose}.
 */
@Command(
    name = "dam",
    mixinStandardHelpOptions = true,
    versionProvider = DamCli.Version.class,
    description = "Describe Anything on the JVM: detailed descriptions of image and video regions.",
    subcommands = {DescribeCommand.class, ServeCommand.class, CommandLine.HelpCommand.class})
public final class DamCli {
  public static final int OK = 0;
  public static final int USAGE = 2;
  public static final int BAD_INPUT = 3;
  public static final int MODEL = 4;
  public static final int INFERENCE = 5;

  @CommandLine.Option(
      names = "--verbose",
      scope = CommandLine.ScopeType.INHERIT,
      description = "Print stack traces of errors.")
  boolean verbose;

  public static void main(String[] args) {
    System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
  }

  /** Runs the CLI in-process and returns its exit code. */
  public static int run(String[] args, PrintWriter out, PrintWriter err) {
    CommandLine cl = new CommandLine(new DamCli());
    cl.setOut(out);
    cl.setErr(err);
    cl.setExitCodeExceptionMapper(DamCli::exitCode);
    cl.setExecutionExceptionHandler(
        (ex, commandLine, parseResult) -> {
          boolean verbose = parseResult.hasMatchedOption("--verbose");
          commandLine.getErr().println("dam: " + message(ex));
          if (verbose) {
            ex.printStackTrace(commandLine.getErr());
          }
          commandLine.getErr().flush();
          return exitCode(ex);
        });
    return cl.execute(args);
  }

  static int exitCode(Throwable e) {
    if (e instanceof CommandLine.ParameterException) {
      return USAGE;
    }
    if (e instanceof InvalidInputException) {
      return BAD_INPUT;
    }
    if (e instanceof ModelLoadException) {
      return MODEL;
    }
    if (e instanceof InferenceException) {
      return INFERENCE;
    }
    return 1;
  }

  private static String message(Throwable e) {
    String m = e.getMessage();
    return m == null ? e.getClass().getSimpleName() : m;
  }

  /** Version from the jar manifest. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = DamCli.class.getPackage().getImplementationVersion();
      return new String[] {"dam " + (v == null ? "(development build)" : v)};
    }
  }
}

package io.damjava.cli;

import io.damjava.api.InferenceException;
import io.damjava.api.InvalidInputException;
import io.damjava.api.ModelLoadException;
import io.damjava.convert.CheckpointException;
import java.io.PrintWriter;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;

/**
 * The {@code dam} command line. Exit codes: 0 ok, 2 usage, 3 bad input, 4 model or bundle problem,
 * 5 inference failure, 1 anything else. Stack traces only with {@code --verbose}.
 */
@Command(
    name = "dam",
    mixinStandardHelpOptions = true,
    versionProvider = DamCli.Version.class,
    description = {
      "Describe Anything on the JVM: detailed descriptions of image and video regions.",
      "",
      "A model is a bundle directory written by `dam convert`, or a Hugging Face id",
      "(nvidia/DAM-3B, nvidia/DAM-3B-Video) that is downloaded and converted once into",
      "$DAM_HOME (default ~/.cache/dam-java).",
      ""
    },
    footer = {
      "",
      "Exit codes: 0 ok, 2 usage, 3 bad input, 4 model or bundle problem,",
      "5 inference failure, 1 anything else.",
      "Run `dam COMMAND --help` for a command's options; see docs/cli.md."
    },
    subcommands = {
      DescribeCommand.class,
      ConvertCommand.class,
      ServeCommand.class,
      BenchCommand.class,
      EvalCommand.class,
      CommandLine.HelpCommand.class
    })
public final class DamCli implements Callable<Integer> {
  public static final int OK = 0;
  public static final int FAILURE = 1;
  public static final int USAGE = 2;
  public static final int BAD_INPUT = 3;
  public static final int MODEL = 4;
  public static final int INFERENCE = 5;

  @Spec CommandLine.Model.CommandSpec spec;

  @CommandLine.Option(
      names = "--verbose",
      scope = CommandLine.ScopeType.INHERIT,
      description = "Print stack traces of errors.")
  boolean verbose;

  /** The environment (DAM_HOME, DAM_PROGRESS, PATH); replaced in tests. */
  final Map<String, String> env;

  DamCli(Map<String, String> env) {
    this.env = env;
  }

  public static void main(String[] args) {
    int code = run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true));
    System.out.flush();
    System.exit(code);
  }

  /** Runs the CLI in-process and returns its exit code. */
  public static int run(String[] args, PrintWriter out, PrintWriter err) {
    return run(args, out, err, System.getenv());
  }

  /** As {@link #run(String[], PrintWriter, PrintWriter)} with the given environment. */
  static int run(String[] args, PrintWriter out, PrintWriter err, Map<String, String> env) {
    CommandLine cl = new CommandLine(new DamCli(env));
    cl.setOut(out);
    cl.setErr(err);
    cl.setExitCodeExceptionMapper(DamCli::exitCode);
    cl.setParameterExceptionHandler(
        (ex, args2) -> {
          CommandLine c = ex.getCommandLine();
          c.getErr().println("dam: " + ex.getMessage());
          c.getErr().println("Run '" + c.getCommandSpec().qualifiedName() + " --help' for usage.");
          c.getErr().flush();
          return USAGE;
        });
    cl.setExecutionExceptionHandler(
        (ex, commandLine, parseResult) -> {
          PrintWriter e = commandLine.getErr();
          e.println("dam: " + message(ex));
          if (verbose(parseResult)) {
            ex.printStackTrace(e);
          }
          e.flush();
          return exitCode(ex);
        });
    int code = cl.execute(args);
    out.flush();
    err.flush();
    return code;
  }

  private static boolean verbose(CommandLine.ParseResult r) {
    for (CommandLine.ParseResult p = r; p != null; p = p.subcommand()) {
      if (p.hasMatchedOption("--verbose")) {
        return true;
      }
    }
    return false;
  }

  @Override
  public Integer call() {
    spec.commandLine().getErr().println("dam: give a command");
    spec.commandLine().usage(spec.commandLine().getErr());
    return USAGE;
  }

  static int exitCode(Throwable e) {
    if (e instanceof CommandLine.ParameterException) {
      return USAGE;
    }
    if (e instanceof InvalidInputException) {
      return BAD_INPUT;
    }
    if (e instanceof ModelLoadException || e instanceof CheckpointException) {
      return MODEL;
    }
    if (e instanceof InferenceException) {
      return INFERENCE;
    }
    return FAILURE;
  }

  private static String message(Throwable e) {
    String m = e.getMessage();
    return m == null ? e.toString() : m;
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

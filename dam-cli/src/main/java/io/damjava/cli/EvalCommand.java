package io.damjava.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.damjava.api.DescribeAnything;
import io.damjava.api.Device;
import io.damjava.api.GenerationOptions;
import io.damjava.api.InvalidInputException;
import io.damjava.eval.DlcBench;
import io.damjava.eval.DlcBenchScorer;
import io.damjava.eval.EvalProgress;
import io.damjava.eval.Generator;
import io.damjava.eval.Judge;
import io.damjava.eval.JudgeException;
import io.damjava.eval.OpenAiJudge;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code dam eval}: benchmarks. */
@Command(
    name = "eval",
    mixinStandardHelpOptions = true,
    description = {"Evaluate a model on a benchmark (see docs/evaluation.md).", ""},
    subcommands = {EvalCommand.DlcBenchCommand.class})
final class EvalCommand implements Callable<Integer> {
  @Spec CommandLine.Model.CommandSpec spec;
  @ParentCommand DamCli parent;

  @Override
  public Integer call() {
    spec.commandLine().getErr().println("dam eval: give a benchmark, e.g. dam eval dlc-bench");
    spec.commandLine().usage(spec.commandLine().getErr());
    return DamCli.USAGE;
  }

  /** {@code dam eval dlc-bench}: generate, judge and score as the official evaluation does. */
  @Command(
      name = "dlc-bench",
      mixinStandardHelpOptions = true,
      sortOptions = false,
      description = {
        "DLC-Bench as NVlabs/describe-anything's evaluation/ runs it: one description per",
        "annotation with the official settings (temperature 0.2, top-k 50, top-p 1, 512 tokens,",
        "seed 123), then the official multiple-choice questions to an OpenAI-compatible judge.",
        "Outputs (OUT/NAME.json), judge answers (OUT/NAME_eval.json) and results",
        "(OUT/NAME_results.json) are kept; a re-run continues where the last one stopped.",
        "",
        "Examples:",
        "  dam eval dlc-bench --data DLC-Bench --model nvidia/DAM-3B \\",
        "      --judge-url http://localhost:9000/v1",
        "  dam eval dlc-bench --data DLC-Bench --outputs my_model.json \\",
        "      --judge-url http://localhost:9000/v1",
        ""
      })
  static final class DlcBenchCommand implements Callable<Integer> {
    @Spec CommandLine.Model.CommandSpec spec;
    @ParentCommand EvalCommand eval;

    @Option(
        names = "--data",
        required = true,
        paramLabel = "DIR",
        description = "The DLC-Bench folder: annotations.json, class_names.json, qa.json, images/.")
    Path data;

    @Option(
        names = "--model",
        paramLabel = "DIR|HUB_ID",
        description =
            "The model that describes (a bundle or a Hugging Face id). Without it,"
                + " --outputs is scored as it is.")
    String model;

    @Option(
        names = "--outputs",
        paramLabel = "FILE",
        description =
            "The model-outputs JSON (annotation id -> description, the official shape)."
                + " Default: OUT/NAME.json.")
    Path outputs;

    @Option(
        names = "--out",
        paramLabel = "DIR",
        description = "Where outputs, judge cache and results go (default ${DEFAULT-VALUE}).")
    Path out = Path.of("dlc-bench-results");

    @Option(
        names = "--name",
        paramLabel = "NAME",
        description = "File name stem (default: the model folder's name).")
    String name;

    @Option(
        names = "--judge-url",
        paramLabel = "URL",
        description =
            "The judge's OpenAI-compatible API base, e.g. http://localhost:9000/v1."
                + " Not needed when every answer is cached.")
    String judgeUrl;

    @Option(
        names = "--judge-model",
        paramLabel = "NAME",
        description = "The judge model's name on that server (default ${DEFAULT-VALUE}).")
    String judgeModel = DlcBenchScorer.DEFAULT_JUDGE;

    @Option(
        names = "--judge-key-file",
        paramLabel = "FILE",
        description = "A file holding the judge's API key (sent as a bearer token).")
    Path judgeKeyFile;

    @Option(
        names = "--judge-timeout",
        paramLabel = "SECONDS",
        description = "Longest wait for one judge answer (default ${DEFAULT-VALUE}).")
    int judgeTimeout = 120;

    @Option(names = "--generate-only", description = "Write the descriptions; judge nothing.")
    boolean generateOnly;

    @Option(
        names = "--seed",
        paramLabel = "S",
        description = "Sampling seed (default ${DEFAULT-VALUE}, as the official script).")
    long seed = 123;

    @Option(
        names = "--device",
        paramLabel = "cpu|cuda:N",
        description = "Where to run (default ${DEFAULT-VALUE}).")
    String device = "cpu";

    @Option(
        names = "--threads",
        paramLabel = "N",
        description = "Intra-op threads, 0 = runtime default (default ${DEFAULT-VALUE}).")
    int threads;

    @Override
    public Integer call() throws IOException {
      PrintWriter stdout = spec.commandLine().getOut();
      PrintWriter err = spec.commandLine().getErr();
      if (model == null && outputs == null) {
        throw usage("give --model to generate descriptions, or --outputs FILE to score a file");
      }
      if (judgeTimeout <= 0) {
        throw usage("--judge-timeout must be > 0 seconds, got " + judgeTimeout);
      }
      DlcBench bench = DlcBench.read(data);
      boolean bars = ConsoleProgress.bars(eval.parent.env);
      String stem = name != null ? name : stem();
      Path outputsFile = outputs != null ? outputs : out.resolve(stem + ".json");
      if (model != null) {
        generate(bench, outputsFile, err, bars);
      } else if (!Files.isRegularFile(outputsFile)) {
        throw new InvalidInputException("--outputs " + outputsFile + " not found");
      }
      if (generateOnly) {
        stdout.println(outputsFile.toAbsolutePath());
        return DamCli.OK;
      }
      JsonNode predictions = new ObjectMapper().readTree(outputsFile.toFile());
      Path cache = DlcBenchScorer.cacheFile(outputsFile);
      ConsoleProgress p = new ConsoleProgress(err, bars, "dlc-bench");
      DlcBenchScorer.Result r =
          DlcBenchScorer.of(bench, m -> {})
              .score(predictions, cache, judge(cache), judgeModel, progress(p));
      p.finish();
      ObjectNode json = r.toJson();
      json.put("outputs", outputsFile.toString());
      json.put("judge_cache", cache.toString());
      Path results = outputsFile.resolveSibling(stemOf(outputsFile) + "_results.json");
      new ObjectMapper().writerWithDefaultPrettyPrinter().writeValue(results.toFile(), json);
      stdout.print(r.table());
      stdout.println("Results: " + results);
      stdout.flush();
      return DamCli.OK;
    }

    private void generate(DlcBench bench, Path outputsFile, PrintWriter err, boolean bars) {
      Device dev;
      GenerationOptions options;
      try {
        dev = Device.parse(device);
        options = Generator.officialOptions().withSeed(seed);
      } catch (InvalidInputException e) {
        throw usage(e.getMessage());
      }
      Path bundle = new ModelResolver(eval.parent.env, err, bars).resolve(model);
      try (DescribeAnything dam =
          ConsoleProgress.timed(
              err,
              bars,
              "loading " + bundle.getFileName(),
              DescribeAnything.builder().model(bundle).device(dev).threads(threads)::build)) {
        ConsoleProgress p = new ConsoleProgress(err, bars, "dlc-bench");
        Generator.run(bench, dam, options, outputsFile, progress(p));
        p.finish();
      }
    }

    private Judge judge(Path cache) throws IOException {
      if (judgeUrl == null) {
        return prompt -> {
          throw new JudgeException(
              "a question is not in " + cache + " and no --judge-url was given to ask it");
        };
      }
      String key = null;
      if (judgeKeyFile != null) {
        if (!Files.isRegularFile(judgeKeyFile)) {
          throw new InvalidInputException("--judge-key-file " + judgeKeyFile + " not found");
        }
        key = Files.readString(judgeKeyFile, StandardCharsets.UTF_8).strip();
      }
      return new OpenAiJudge(judgeUrl, judgeModel, key, Duration.ofSeconds(judgeTimeout));
    }

    private static EvalProgress progress(ConsoleProgress p) {
      return (stage, done, total) -> p.step(stage + " " + done + "/" + total);
    }

    private String stem() {
      if (model == null) {
        return stemOf(outputs);
      }
      String s = Path.of(model).getFileName().toString();
      int at = s.indexOf('@');
      return at > 0 ? s.substring(0, at) : s;
    }

    private static String stemOf(Path file) {
      String n = file.getFileName().toString();
      return n.endsWith(".json") ? n.substring(0, n.length() - 5) : n;
    }

    private CommandLine.ParameterException usage(String message) {
      return new CommandLine.ParameterException(spec.commandLine(), message);
    }
  }
}

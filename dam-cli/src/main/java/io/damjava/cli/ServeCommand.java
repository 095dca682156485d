package io.damjava.cli;

import io.damjava.api.DescribeAnything;
import io.damjava.api.Device;
import io.damjava.api.ImageLimits;
import io.damjava.onnx.bundle.BundleManifest;
import io.damjava.onnx.bundle.ManifestIo;
import io.damjava.server.DamServer;
import io.damjava.server.ServerConfig;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code dam serve}: the OpenAI-compatible server. */
@Command(
    name = "serve",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Serve a model over an OpenAI-compatible HTTP API (docs/server.md).",
      "POST /chat/completions (the reference server's shape),",
      "POST /v1/chat/completions (OpenAI's), GET /v1/models, GET /health.",
      "",
      "Examples:",
      "  dam serve --model models/DAM-3B --port 8000",
      "  dam serve --model nvidia/DAM-3B-Video --host 0.0.0.0 --api-key \"$KEY\"",
      ""
    })
final class ServeCommand implements Callable<Integer> {
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @ParentCommand DamCli parent;

  @Option(
      names = "--model",
      required = true,
      paramLabel = "DIR|HUB_ID",
      description = "A bundle directory, or a Hugging Face id (as for `dam describe`).")
  String model;

  @Option(
      names = "--segmenter",
      paramLabel = "DIR",
      description = "A SAM bundle for box/point regions.")
  Path segmenter;

  @Option(
      names = "--host",
      paramLabel = "ADDR",
      description = "Address to bind (default ${DEFAULT-VALUE}).")
  String host = "127.0.0.1";

  @Option(
      names = "--port",
      paramLabel = "N",
      description = "Port, 0 = any free one (default ${DEFAULT-VALUE}).")
  int port = 8000;

  @Option(
      names = {"--max-batch", "--workers"},
      paramLabel = "N",
      description =
          "Batch limit: generations at once, decoded together one step for all"
              + " (default ${DEFAULT-VALUE}; 1 = one at a time).")
  int workers = ServerConfig.DEFAULT_MAX_BATCH;

  @Option(
      names = "--queue",
      paramLabel = "N",
      description = "Requests waiting for a place in the batch (default ${DEFAULT-VALUE}).")
  int queue = 8;

  @Option(
      names = "--timeout",
      paramLabel = "SECONDS",
      description = "Seconds before a generation is cancelled (default ${DEFAULT-VALUE}).")
  int timeoutSeconds = 300;

  @Option(
      names = "--api-key",
      paramLabel = "KEY",
      description = "Require 'Authorization: Bearer KEY' (or env DAM_API_KEY).")
  String apiKey = System.getenv("DAM_API_KEY");

  @Option(
      names = "--max-body-mb",
      paramLabel = "MB",
      description = "Largest request body in MiB; larger ones get 413 (default ${DEFAULT-VALUE}).")
  int maxBodyMb = 32;

  @Option(
      names = "--max-image-pixels",
      paramLabel = "N",
      description =
          "Refuse an image declaring more pixels (width x height) before decoding it"
              + " (default ${DEFAULT-VALUE}).")
  long maxImagePixels = ImageLimits.DEFAULT_MAX_PIXELS;

  @Option(names = "--allow-remote-images", description = "Fetch http(s) image URLs.")
  boolean remoteImages;

  @Option(names = "--device", paramLabel = "cpu|cuda:N", description = "cpu (default) or cuda:N.")
  String device = "cpu";

  @Option(
      names = "--threads",
      paramLabel = "N",
      description = "Intra-op threads, 0 = runtime default.")
  int threads;

  @Override
  public Integer call() throws Exception {
    if (port < 0 || port > 65535) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "--port must be in 0..65535, got " + port);
    }
    if (workers < 1 || queue < 0 || timeoutSeconds < 1) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "--max-batch and --timeout must be >= 1 and --queue >= 0");
    }
    if (maxBodyMb < 1 || maxBodyMb > 2047 || maxImagePixels < 1) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "--max-body-mb must be in 1..2047 and --max-image-pixels >= 1");
    }
    PrintWriter err = spec.commandLine().getErr();
    boolean bars = ConsoleProgress.bars(parent.env);
    Path bundle = new ModelResolver(parent.env, err, bars).resolve(model);
    BundleManifest manifest = ManifestIo.read(bundle);
    ServerConfig config =
        ServerConfig.defaults(
                manifest.modelName(), manifest.variant() == BundleManifest.Variant.IMAGE_VIDEO)
            .withHost(host)
            .withPort(port)
            .withLimits(workers, queue, Duration.ofSeconds(timeoutSeconds))
            .withRemoteImages(remoteImages)
            .withMaxBodyBytes((long) maxBodyMb << 20)
            .withMaxImagePixels(maxImagePixels);
    if (apiKey != null && !apiKey.isBlank()) {
      config = config.withApiKey(apiKey);
    }
    DescribeAnything.Builder b =
        DescribeAnything.builder()
            .model(bundle)
            .device(Device.parse(device))
            .threads(threads)
            .maxBatch(workers);
    if (segmenter != null) {
      b.segmenter(segmenter);
    }
    try (DescribeAnything dam = ConsoleProgress.timed(err, bars, "loading " + model, b::build);
        DamServer server = DamServer.start(dam, config)) {
      err.println(
          "dam: serving "
              + manifest.modelName()
              + " on http://"
              + host
              + ":"
              + server.port()
              + " (Ctrl-C to stop)");
      err.flush();
      server.awaitShutdown();
    } catch (InterruptedException e) {
      // stopped (in-process use: the thread was interrupted); resources are closed above
      Thread.currentThread().interrupt();
    }
    return DamCli.OK;
  }
}

package io.damjava.cli;

import io.damjava.api.DescribeAnything;
import io.damjava.api.Device;
import io.damjava.onnx.bundle.BundleManifest;
import io.damjava.onnx.bundle.ManifestIo;
import io.damjava.server.DamServer;
import io.damjava.server.ServerConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code dam serve}: the OpenAI-compatible server. */
@Command(
    name = "serve",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Serve a model over an OpenAI-compatible HTTP API (see docs/server.md).",
      "POST /chat/completions (the reference server's shape), POST /v1/chat/completions,",
      "GET /v1/models, GET /health.",
      "",
      "Example:",
      "  dam serve --model models/DAM-3B --port 8000"
    })
final class ServeCommand implements Callable<Integer> {
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(
      names = "--model",
      required = true,
      paramLabel = "DIR",
      description = "A bundle directory.")
  Path model;

  @Option(
      names = "--segmenter",
      paramLabel = "DIR",
      description = "A SAM bundle for box/point regions.")
  Path segmenter;

  @Option(names = "--host", description = "Address to bind (default ${DEFAULT-VALUE}).")
  String host = "127.0.0.1";

  @Option(names = "--port", description = "Port (default ${DEFAULT-VALUE}).")
  int port = 8000;

  @Option(names = "--workers", description = "Generations at once (default ${DEFAULT-VALUE}).")
  int workers = 1;

  @Option(
      names = "--queue",
      description = "Requests waiting for a worker (default ${DEFAULT-VALUE}).")
  int queue = 8;

  @Option(
      names = "--timeout",
      description = "Seconds before a generation is cancelled (default ${DEFAULT-VALUE}).")
  int timeoutSeconds = 300;

  @Option(
      names = "--api-key",
      description = "Require 'Authorization: Bearer KEY' (or env DAM_API_KEY).")
  String apiKey = System.getenv("DAM_API_KEY");

  @Option(names = "--allow-remote-images", description = "Fetch http(s) image URLs.")
  boolean remoteImages;

  @Option(names = "--device", description = "cpu (default) or cuda:N.")
  String device = "cpu";

  @Option(names = "--threads", description = "Intra-op threads, 0 = runtime default.")
  int threads;

  @Override
  public Integer call() throws Exception {
    BundleManifest manifest = ManifestIo.read(model);
    ServerConfig config =
        ServerConfig.defaults(
                manifest.modelName(), manifest.variant() == BundleManifest.Variant.IMAGE_VIDEO)
            .withHost(host)
            .withPort(port)
            .withLimits(workers, queue, Duration.ofSeconds(timeoutSeconds))
            .withRemoteImages(remoteImages);
    if (apiKey != null && !apiKey.isBlank()) {
      config = config.withApiKey(apiKey);
    }
    DescribeAnything.Builder b =
        DescribeAnything.builder().model(model).device(Device.parse(device)).threads(threads);
    if (segmenter != null) {
      b.segmenter(segmenter);
    }
    try (DescribeAnything dam = b.build();
        DamServer server = DamServer.start(dam, config)) {
      spec.commandLine()
          .getErr()
          .println(
              "dam: serving "
                  + manifest.modelName()
                  + " on http://"
                  + host
                  + ":"
                  + server.port()
                  + " (Ctrl-C to stop)");
      server.awaitShutdown();
    }
    return DamCli.OK;
  }
}

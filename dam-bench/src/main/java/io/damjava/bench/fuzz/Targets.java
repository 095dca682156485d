package io.damjava.bench.fuzz;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.damjava.api.DamImage;
import io.damjava.api.ImageLimits;
import io.damjava.api.Mask;
import io.damjava.convert.SafetensorsFile;
import io.damjava.onnx.bundle.ManifestIo;
import io.damjava.server.DamServer;
import io.damjava.server.ServerConfig;
import io.damjava.tokenizer.Tokenizer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** The parsers under fuzz, each with its seeds; a target returns normally or throws. */
final class Targets {
  /** A fuzz limit well under the default, so mutated sizes stay cheap; bombs are still refused. */
  static final ImageLimits LIMITS = ImageLimits.ofMaxPixels(250_000);

  private static final ObjectMapper MAPPER = new ObjectMapper();

  /** A parser under fuzz. */
  interface Target {
    String name();

    List<byte[]> seeds();

    /** True when accepted, false when refused the documented way (a 4xx); else it throws. */
    boolean run(byte[] input) throws Exception;
  }

  /** An outcome that breaks the contract even though no exception escaped the parser. */
  static final class ContractViolation extends RuntimeException {
    private static final long serialVersionUID = 1L;

    ContractViolation(String message) {
      super(message);
    }
  }

  private Targets() {}

  static Target image() {
    return target(
        "image",
        Seeds.images(),
        b -> {
          DamImage img = DamImage.read(b, LIMITS);
          if (img.width() < 1
              || img.height() < 1
              || img.rgb().length != img.width() * img.height() * 3) {
            throw new ContractViolation("decoded image with inconsistent size " + img);
          }
        });
  }

  static Target mask() {
    List<byte[]> seeds = new ArrayList<>(Seeds.masks());
    return target(
        "mask",
        seeds,
        b -> {
          Mask m = Mask.read(b, LIMITS);
          if (m.area() < 0 || m.area() > (long) m.width() * m.height()) {
            throw new ContractViolation("mask area out of range: " + m);
          }
          if (!m.isEmpty()) {
            m.boundingBox();
          }
        });
  }

  static Target safetensors(Path scratch) {
    Path file = scratch.resolve("fuzz.safetensors");
    return target(
        "safetensors",
        Seeds.safetensors(),
        b -> {
          Files.write(file, b);
          try (SafetensorsFile f = SafetensorsFile.open(file)) {
            for (String name : f.entries().keySet()) {
              f.read(name);
            }
          }
        });
  }

  static Target manifest(Path repo) throws IOException {
    Path m = repo.resolve("dam-onnx/src/test/resources/toy-bundle/dam-bundle.json");
    return target(
        "manifest",
        List.of(Files.readAllBytes(m)),
        b -> ManifestIo.parse(new String(b, StandardCharsets.UTF_8)));
  }

  static Target sentencePiece(Path repo) throws IOException {
    Path m = repo.resolve("tools/reference/fixtures/tokenizer/tiny-bpe.model");
    return target(
        "tokenizer.model",
        List.of(Files.readAllBytes(m)),
        b -> {
          Tokenizer t = Tokenizer.fromSentencePieceModel(b);
          int[] ids = t.encode("Describe the cat, \u00e9 \ud83d\ude00 <image>", true);
          t.decode(ids, false);
        });
  }

  static Target tokenizerJson() {
    return target(
        "tokenizer.json",
        List.of(Seeds.tokenizerJson()),
        b -> {
          Tokenizer t = Tokenizer.fromTokenizerJson(new String(b, StandardCharsets.UTF_8));
          t.decode(t.encode("ab a\u00e9", true), true);
        });
  }

  /** A live server on a stand-in engine; 5xx, a non-JSON error or a leaked trace is a failure. */
  static final class Http implements Target, AutoCloseable {
    private final DamServer server;
    private final HttpClient client =
        HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private int calls;

    Http() throws IOException {
      ServerConfig config =
          ServerConfig.defaults("DAM-3B", false)
              .withPort(0)
              .withMaxBodyBytes(1 << 20)
              .withMaxImagePixels(LIMITS.maxPixels());
      server = DamServer.start(new FuzzDam(), config);
    }

    @Override
    public String name() {
      return "http";
    }

    @Override
    public List<byte[]> seeds() {
      return Seeds.httpBodies();
    }

    @Override
    public boolean run(byte[] body) throws Exception {
      String path = (calls++ % 2 == 0) ? "/v1/chat/completions" : "/chat/completions";
      HttpResponse<String> r =
          client.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
                  .timeout(Duration.ofSeconds(30))
                  .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      int s = r.statusCode();
      if (s == 200) {
        if (r.body().startsWith("data: ") && !r.body().endsWith("data: [DONE]\n\n")) {
          throw new ContractViolation("stream does not end with [DONE]: " + tail(r.body()));
        }
        return true;
      }
      if (s < 400 || s >= 500) {
        throw new ContractViolation("status " + s + ": " + tail(r.body()));
      }
      JsonNode err;
      try {
        err = MAPPER.readTree(r.body()).get("error");
      } catch (IOException e) {
        throw new ContractViolation("status " + s + " with a non-JSON body: " + tail(r.body()));
      }
      if (err == null || err.path("message").asText("").length() < 5) {
        throw new ContractViolation("status " + s + " without an error message: " + tail(r.body()));
      }
      if (r.body().contains("\tat ") || r.body().contains("Exception:")) {
        throw new ContractViolation("a stack trace leaked: " + tail(r.body()));
      }
      return false;
    }

    private static String tail(String s) {
      return s.length() > 300 ? s.substring(0, 300) + "..." : s;
    }

    @Override
    public void close() {
      server.close();
    }
  }

  /** A body that may throw anything; the harness classifies what it throws. */
  @FunctionalInterface
  interface Body {
    void run(byte[] input) throws Exception;
  }

  private static Target target(String name, List<byte[]> seeds, Body body) {
    return new Target() {
      @Override
      public String name() {
        return name;
      }

      @Override
      public List<byte[]> seeds() {
        return seeds;
      }

      @Override
      public boolean run(byte[] input) throws Exception {
        body.run(input);
        return true;
      }
    };
  }
}

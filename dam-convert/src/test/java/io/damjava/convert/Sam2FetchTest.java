package io.damjava.convert;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.damjava.convert.sam2.Sam2Bundles;
import io.damjava.onnx.sam2.Sam2Bundle;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sam2Bundles.fetch against a local server with the hub's URL layout, serving the tiny SAM 2.1
 * checkpoint as facebook/sam2.1-hiera-tiny (with the original .pt the real repositories also hold,
 * which must not be downloaded). The bundle it writes must equal a local conversion.
 */
class Sam2FetchTest {
  static final String REPO = "facebook/sam2.1-hiera-tiny";
  static final String SHA = "89abcdef0123456789abcdef0123456789abcdef";

  @TempDir Path tmp;
  HttpServer server;
  final Path src = Goldens.checkpoint("sam2-tiny");
  volatile List<String> served = List.of("config.json", "model.safetensors");
  final java.util.Set<String> fetched = java.util.concurrent.ConcurrentHashMap.newKeySet();

  @BeforeEach
  void start() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", this::handle);
    server.start();
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  void handle(HttpExchange ex) throws IOException {
    String path = ex.getRequestURI().getPath();
    if (path.startsWith("/api/models/" + REPO + "/revision/")) {
      StringBuilder sb = new StringBuilder("{\"sha\":\"" + SHA + "\",\"siblings\":[");
      for (String f : served) {
        sb.append("{\"rfilename\":\"").append(f).append("\"},");
      }
      sb.append("{\"rfilename\":\"sam2.1_hiera_tiny.pt\"}]}");
      HubDownloaderTest.send(ex, 200, sb.toString().getBytes(StandardCharsets.UTF_8), Map.of());
      return;
    }
    String prefix = "/" + REPO + "/resolve/" + SHA + "/";
    String name = path.startsWith(prefix) ? path.substring(prefix.length()) : "";
    if (!served.contains(name)) {
      HubDownloaderTest.send(ex, 404, new byte[0], Map.of());
      return;
    }
    fetched.add(name);
    Path f = src.resolve(name);
    Map<String, String> h =
        name.endsWith(".safetensors")
            ? Map.of(
                "X-Linked-Etag",
                "\"" + io.damjava.onnx.bundle.FileDigest.sha256(f) + "\"",
                "ETag",
                "\"x\"")
            : Map.of("ETag", "\"" + HubDownloader.gitBlobSha1(f) + "\"");
    HubDownloaderTest.send(ex, 200, Files.readAllBytes(f), h);
  }

  HubDownloader.Settings settings() {
    return new HubDownloader.Settings(
        "http://127.0.0.1:" + server.getAddress().getPort(), null, tmp.resolve("cache"));
  }

  @Test
  void fetchesAndConvertsLikeALocalCheckpoint() throws Exception {
    served = List.of("config.json", "model.safetensors", "processor_config.json");
    Path out = Sam2Bundles.fetch(settings(), REPO, tmp.resolve("b"), Progress.NONE);
    Sam2Bundle b = Sam2Bundle.read(out);
    assertEquals(128, b.params().imageSize());
    assertEquals(java.util.Set.copyOf(served), fetched, "the .pt is not downloaded");
    Path local = Sam2Bundles.write(src, tmp.resolve("local"));
    for (String g : Sam2Bundles.GRAPHS) {
      assertTrue(
          java.util.Arrays.equals(
              Files.readAllBytes(local.resolve(g)), Files.readAllBytes(out.resolve(g))),
          g + " differs from a local conversion");
    }
  }

  @Test
  void aRepositoryWithoutTheWeightsIsRejected() {
    served = List.of("config.json");
    CheckpointException e =
        assertThrows(
            CheckpointException.class,
            () -> Sam2Bundles.fetch(settings(), REPO, tmp.resolve("b"), Progress.NONE));
    assertTrue(e.getMessage().contains("model.safetensors"), e.getMessage());
    assertThrows(
        CheckpointException.class,
        () -> Sam2Bundles.fetch(settings(), "not a repo", tmp.resolve("c"), Progress.NONE));
  }
}

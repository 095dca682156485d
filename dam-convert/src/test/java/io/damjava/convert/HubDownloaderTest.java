package io.damjava.convert;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The hub download against a local server with the hub's URL layout. */
class HubDownloaderTest {
  static final String REPO = "nvidia/DAM-3B-tiny";
  static final String SHA = "0123456789abcdef0123456789abcdef01234567";

  @TempDir Path tmp;
  HttpServer server;
  Path src;
  List<String> files;
  final AtomicInteger ranged = new AtomicInteger();
  volatile boolean corrupt;
  volatile String seenAuth;

  @BeforeEach
  void start() throws IOException {
    src = Goldens.checkpoint("tiny-image");
    try (Stream<Path> s = Files.walk(src)) {
      files =
          s.filter(Files::isRegularFile).map(p -> src.relativize(p).toString()).sorted().toList();
    }
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", this::handle);
    server.start();
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  String endpoint() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  void handle(HttpExchange ex) throws IOException {
    String path = ex.getRequestURI().getPath();
    seenAuth = ex.getRequestHeaders().getFirst("Authorization");
    if (path.startsWith("/api/models/" + REPO + "/revision/")) {
      StringBuilder sb = new StringBuilder("{\"sha\":\"" + SHA + "\",\"siblings\":[");
      for (int i = 0; i < files.size(); i++) {
        sb.append(i > 0 ? "," : "").append("{\"rfilename\":\"").append(files.get(i)).append("\"}");
      }
      sb.append(",{\"rfilename\":\"README.md\"}]}");
      send(ex, 200, sb.toString().getBytes(StandardCharsets.UTF_8), Map.of());
      return;
    }
    String prefix = "/" + REPO + "/resolve/" + SHA + "/";
    if (!path.startsWith(prefix)) {
      send(ex, 404, new byte[0], Map.of());
      return;
    }
    Path f = src.resolve(path.substring(prefix.length()));
    byte[] body = Files.readAllBytes(f);
    String etag =
        f.toString().endsWith(".safetensors")
            ? io.damjava.onnx.bundle.FileDigest.sha256(f)
            : HubDownloader.gitBlobSha1(f);
    Map<String, String> h =
        f.toString().endsWith(".safetensors")
            ? Map.of("X-Linked-Etag", "\"" + etag + "\"", "ETag", "\"abc\"")
            : Map.of("ETag", "\"" + etag + "\"");
    if (corrupt && f.toString().endsWith(".safetensors")) {
      body = body.clone();
      body[body.length - 1] ^= 1;
    }
    String range = ex.getRequestHeaders().getFirst("Range");
    if (range != null && ex.getRequestMethod().equals("GET")) {
      int from = Integer.parseInt(range.substring("bytes=".length(), range.length() - 1));
      ranged.incrementAndGet();
      byte[] part = java.util.Arrays.copyOfRange(body, from, body.length);
      send(ex, 206, part, h);
      return;
    }
    send(ex, 200, body, h);
  }

  static void send(HttpExchange ex, int code, byte[] body, Map<String, String> headers)
      throws IOException {
    headers.forEach((k, v) -> ex.getResponseHeaders().add(k, v));
    boolean head = ex.getRequestMethod().equals("HEAD");
    ex.sendResponseHeaders(code, head ? -1 : (body.length == 0 ? -1 : body.length));
    if (!head && body.length > 0) {
      try (OutputStream os = ex.getResponseBody()) {
        os.write(body);
      }
    }
    ex.close();
  }

  HubDownloader downloader() {
    return new HubDownloader(
        new HubDownloader.Settings(endpoint(), "secret", tmp.resolve("cache")), Progress.NONE);
  }

  @Test
  void downloadsVerifiesAndResumes() throws Exception {
    // a partial file from an interrupted run
    Path target = tmp.resolve("cache").resolve("nvidia_DAM-3B-tiny@" + SHA);
    Path part = target.resolve("llm/model.safetensors.part");
    Files.createDirectories(part.getParent());
    byte[] full = Files.readAllBytes(src.resolve("llm/model.safetensors"));
    Files.write(part, java.util.Arrays.copyOf(full, 1000));
    Path dir = downloader().download(HubDownloader.Repo.parse(REPO + "@main"));
    assertEquals(target, dir);
    for (String f : files) {
      assertArrayEquals(Files.readAllBytes(src.resolve(f)), Files.readAllBytes(dir.resolve(f)), f);
    }
    assertEquals(1, ranged.get());
    assertEquals("Bearer secret", seenAuth);
    assertTrue(!Files.exists(dir.resolve("README.md")));
    // and the download converts
    Path out = tmp.resolve("bundle");
    Converter.run(ConvertOptions.of(dir, out));
    assertTrue(Files.exists(out.resolve("dam-bundle.json")));
  }

  @Test
  void checksumMismatchIsRefused() {
    corrupt = true;
    CheckpointException e =
        assertThrows(
            CheckpointException.class, () -> downloader().download(HubDownloader.Repo.parse(REPO)));
    assertTrue(e.getMessage().contains("checksum mismatch"), e.getMessage());
  }

  @Test
  void offlineFailsFastWithAHint() {
    var s = new HubDownloader.Settings("http://127.0.0.1:1", null, tmp.resolve("c"));
    long t0 = System.nanoTime();
    CheckpointException e =
        assertThrows(
            CheckpointException.class,
            () -> new HubDownloader(s, Progress.NONE).download(HubDownloader.Repo.parse(REPO)));
    assertTrue(System.nanoTime() - t0 < 15e9);
    assertTrue(e.getMessage().contains("--checkpoint"), e.getMessage());
  }

  @Test
  void environment() {
    var s =
        HubDownloader.Settings.fromMap(
            Map.of("HF_ENDPOINT", "http://x/", "HF_TOKEN", "t", "HF_HOME", "/h"));
    assertEquals("http://x", s.endpoint());
    assertEquals("t", s.token());
    assertEquals(Path.of("/h/dam-java"), s.cache());
    assertThrows(IllegalArgumentException.class, () -> HubDownloader.Repo.parse("no-slash"));
  }
}

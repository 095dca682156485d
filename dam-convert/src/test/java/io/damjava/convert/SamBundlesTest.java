package io.damjava.convert;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OrtSession;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.damjava.api.DamImage;
import io.damjava.api.Region;
import io.damjava.onnx.Segmenter;
import io.damjava.onnx.bundle.SamManifest;
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

/** SamBundles.fetch against a local server with the hub's URL layout, serving tiny graphs. */
class SamBundlesTest {
  static final String REPO = "Xenova/sam-tiny";
  static final String SHA = "89abcdef0123456789abcdef0123456789abcdef";

  @TempDir Path tmp;
  HttpServer server;
  Path src;
  List<String> files;

  @BeforeEach
  void start() throws IOException {
    src = tmp.resolve("repo");
    Path onnx = src.resolve("onnx");
    Files.createDirectories(onnx);
    TinySam.encoder(onnx.resolve("vision_encoder.onnx"), true);
    TinySam.hfDecoder(onnx.resolve("prompt_encoder_mask_decoder.onnx"));
    Files.writeString(
        src.resolve("preprocessor_config.json"),
        "{\"image_processor_type\":\"SamImageProcessor\",\"resample\":2,"
            + "\"size\":{\"longest_edge\":1024},\"pad_size\":{\"height\":1024,\"width\":1024},"
            + "\"rescale_factor\":0.00392156862745098,"
            + "\"image_mean\":[0.485,0.456,0.406],\"image_std\":[0.229,0.224,0.225]}");
    files =
        List.of(
            "onnx/vision_encoder.onnx",
            "onnx/vision_encoder.onnx.data",
            "onnx/prompt_encoder_mask_decoder.onnx",
            "onnx/prompt_encoder_mask_decoder.onnx.data",
            "preprocessor_config.json",
            "README.md");
    Files.writeString(src.resolve("README.md"), "tiny");
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
      for (int i = 0; i < files.size(); i++) {
        sb.append(i > 0 ? "," : "").append("{\"rfilename\":\"").append(files.get(i)).append("\"}");
      }
      sb.append("]}");
      HubDownloaderTest.send(ex, 200, sb.toString().getBytes(StandardCharsets.UTF_8), Map.of());
      return;
    }
    String prefix = "/" + REPO + "/resolve/" + SHA + "/";
    Path f = path.startsWith(prefix) ? src.resolve(path.substring(prefix.length())) : null;
    if (f == null || !Files.isRegularFile(f)) {
      HubDownloaderTest.send(ex, 404, new byte[0], Map.of());
      return;
    }
    HubDownloaderTest.send(
        ex, 200, Files.readAllBytes(f), Map.of("ETag", "\"" + HubDownloader.gitBlobSha1(f) + "\""));
  }

  HubDownloader.Settings settings() {
    return new HubDownloader.Settings(
        "http://127.0.0.1:" + server.getAddress().getPort(), null, tmp.resolve("cache"));
  }

  @Test
  void fetchesATransformersJsExportIntoALoadableBundle() throws Exception {
    Path out = tmp.resolve("bundle");
    SamBundles.fetch(settings(), REPO, "", out, Progress.NONE);
    SamManifest m = SamManifest.read(out);
    assertEquals(SamManifest.Layout.HF_SPLIT, m.layout());
    assertEquals("vision_encoder.onnx", m.encoder());
    assertEquals(REPO + "@main", m.source());
    assertEquals(SamManifest.Processor.defaults(), m.processor());
    assertEquals(4, m.files().size(), m.files().toString());
    try (OrtSession.SessionOptions o = new OrtSession.SessionOptions();
        Segmenter s = Segmenter.load(out, Ort.ENV, o)) {
      DamImage img = DamImage.read(Goldens.REF.resolve("fixtures/images/chelsea.png"));
      assertTrue(s.masks(img, List.of(Region.point(200, 150))).get(0).get(200, 150));
    }
  }

  @Test
  void aRepositoryWithoutTheGraphsIsRejected() {
    files = List.of("README.md");
    CheckpointException e =
        assertThrows(
            CheckpointException.class,
            () -> SamBundles.fetch(settings(), REPO, "", tmp.resolve("b"), Progress.NONE));
    assertTrue(e.getMessage().contains("vision_encoder.onnx"), e.getMessage());
  }
}

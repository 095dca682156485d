package io.damjava.convert;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.damjava.onnx.bundle.FileDigest;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Downloads the files of a DAM checkpoint from the Hugging Face hub (or any server with the same
 * URL layout): resumable through {@code .part} files and HTTP ranges, each file checked against the
 * hub's {@code X-Linked-Etag} (the SHA-256 of an LFS file) or git blob {@code ETag}. Environment:
 * {@code HF_ENDPOINT}, {@code HF_TOKEN}, {@code HF_HOME}.
 */
public final class HubDownloader {
  /** Folders and files of the checkpoint layout that are downloaded. */
  static final List<String> WANTED =
      List.of("llm/", "vision_tower/", "context_provider/", "mm_projector/");

  /**
   * Where and how to download.
   *
   * @param endpoint hub base URL
   * @param token bearer token or null
   * @param cache download folder root
   */
  public record Settings(String endpoint, String token, Path cache) {
    /** From HF_ENDPOINT, HF_TOKEN and HF_HOME (default ~/.cache/huggingface). */
    public static Settings fromEnvironment() {
      return fromMap(System.getenv());
    }

    static Settings fromMap(Map<String, String> env) {
      String endpoint =
          Optional.ofNullable(env.get("HF_ENDPOINT")).orElse("https://huggingface.co");
      String home = env.get("HF_HOME");
      Path cache =
          home != null
              ? Path.of(home)
              : Path.of(System.getProperty("user.home"), ".cache", "huggingface");
      return new Settings(stripSlash(endpoint), env.get("HF_TOKEN"), cache.resolve("dam-java"));
    }
  }

  /**
   * A repo id and revision.
   *
   * @param id owner/name
   * @param revision branch, tag or commit
   */
  public record Repo(String id, String revision) {
    /** Parses {@code owner/name[@revision]}. */
    public static Repo parse(String s) {
      String id = s;
      String rev = "main";
      int at = s.indexOf('@');
      if (at >= 0) {
        id = s.substring(0, at);
        rev = s.substring(at + 1);
      }
      if (!id.matches("[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*") || rev.isBlank()) {
        throw new IllegalArgumentException(
            "bad repo id '" + s + "': expected owner/name[@revision]");
      }
      return new Repo(id, rev);
    }

    /** The name part. */
    public String name() {
      return id.substring(id.indexOf('/') + 1);
    }
  }

  private final Settings settings;
  private final Progress progress;
  private final HttpClient http;

  public HubDownloader(Settings settings, Progress progress) {
    this.settings = settings;
    this.progress = progress;
    this.http =
        HttpClient.newBuilder()
            .connectTimeout(Duration.ofSeconds(10))
            .followRedirects(HttpClient.Redirect.NEVER)
            .build();
  }

  /** Downloads (or resumes) the checkpoint and returns its local folder. */
  public Path download(Repo repo) {
    return download(
        repo,
        f -> f.equals("config.json") || WANTED.stream().anyMatch(f::startsWith),
        List.of("config.json"),
        "is it a DAM checkpoint?");
  }

  /**
   * Downloads (or resumes) the listed files of any repository that exist there, and returns its
   * local folder; {@code required} files missing from the listing are an error.
   */
  public Path download(Repo repo, List<String> files, List<String> required) {
    return download(repo, files::contains, required, "check the repository's file names");
  }

  private Path download(
      Repo repo, java.util.function.Predicate<String> wanted, List<String> required, String hint) {
    try {
      JsonNode info =
          json(
              settings.endpoint()
                  + "/api/models/"
                  + repo.id()
                  + "/revision/"
                  + enc(repo.revision()));
      String sha = info.path("sha").asText(repo.revision());
      Path dir = settings.cache().resolve(repo.id().replace('/', '_') + "@" + sha);
      List<String> files = new ArrayList<>();
      for (JsonNode s : info.path("siblings")) {
        String f = s.path("rfilename").asText();
        if (wanted.test(f)) {
          if (f.contains("..") || f.startsWith("/")) {
            throw new CheckpointException("hub listing has a bad file name: " + f);
          }
          files.add(f);
        }
      }
      for (String r : required) {
        if (!files.contains(r)) {
          throw new CheckpointException(
              repo.id()
                  + "@"
                  + repo.revision()
                  + ": no "
                  + r
                  + " in the repository listing; "
                  + hint);
        }
      }
      files.sort(null);
      for (String f : files) {
        fetch(repo, sha, f, dir.resolve(f));
      }
      return dir;
    } catch (ConnectException | HttpConnectTimeoutException | UnknownHostException e) {
      throw offline(e);
    } catch (IOException e) {
      if (e.getCause() instanceof UnknownHostException
          || e.getCause() instanceof ConnectException) {
        throw offline(e);
      }
      throw new CheckpointException("download of " + repo.id() + " failed: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CheckpointException("download interrupted", e);
    }
  }

  private CheckpointException offline(Exception e) {
    return new CheckpointException(
        "cannot reach "
            + settings.endpoint()
            + " ("
            + e
            + "). Without network, download the checkpoint elsewhere (e.g. `huggingface-cli download"
            + " nvidia/DAM-3B --local-dir DAM-3B`), copy the folder here and run"
            + " `dam convert --checkpoint DAM-3B --out DIR`.",
        e);
  }

  private void fetch(Repo repo, String sha, String file, Path target)
      throws IOException, InterruptedException {
    if (Files.isRegularFile(target)) {
      progress.step(file + ": already downloaded");
      return;
    }
    Files.createDirectories(target.getParent());
    String url = settings.endpoint() + "/" + repo.id() + "/resolve/" + enc(sha) + "/" + file;
    HttpResponse<Void> head =
        http.send(
            request(url).method("HEAD", HttpRequest.BodyPublishers.noBody()).build(),
            HttpResponse.BodyHandlers.discarding());
    if (head.statusCode() >= 400) {
      throw new CheckpointException(
          file + ": HTTP " + head.statusCode() + " from " + url + authHint(head.statusCode()));
    }
    String linked = head.headers().firstValue("X-Linked-Etag").orElse(null);
    String etag = unquote(linked != null ? linked : head.headers().firstValue("ETag").orElse(""));
    String location = head.headers().firstValue("Location").orElse(null);
    String getUrl = location != null ? URI.create(url).resolve(location).toString() : url;
    Path part = target.resolveSibling(target.getFileName() + ".part");
    long have = Files.isRegularFile(part) ? Files.size(part) : 0;
    HttpRequest.Builder get = request(getUrl).GET();
    if (have > 0) {
      get.header("Range", "bytes=" + have + "-");
    }
    HttpResponse<InputStream> r = sendFollowing(get.build());
    boolean append = r.statusCode() == 206;
    if (r.statusCode() != 200 && !append) {
      r.body().close();
      throw new CheckpointException(
          file + ": HTTP " + r.statusCode() + " from " + getUrl + authHint(r.statusCode()));
    }
    long total = r.headers().firstValueAsLong("Content-Length").orElse(-1) + (append ? have : 0);
    progress.step(
        file
            + (append ? ": resuming at " + have : ": downloading")
            + (total > 0 ? " of " + total + " bytes" : ""));
    long done = append ? have : 0;
    int lastPct = -1;
    try (InputStream in = r.body();
        OutputStream os =
            Files.newOutputStream(
                part,
                StandardOpenOption.CREATE,
                StandardOpenOption.WRITE,
                append ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING)) {
      byte[] buf = new byte[1 << 16];
      int n;
      while ((n = in.read(buf)) > 0) {
        os.write(buf, 0, n);
        done += n;
        if (total > 0) {
          int pct = (int) (100 * done / total);
          if (pct / 10 != lastPct / 10) {
            progress.step(file + ": " + pct + "%");
            lastPct = pct;
          }
        }
      }
    }
    verify(file, part, etag);
    Files.move(part, target, StandardCopyOption.ATOMIC_MOVE);
  }

  private HttpResponse<InputStream> sendFollowing(HttpRequest req)
      throws IOException, InterruptedException {
    HttpRequest cur = req;
    for (int i = 0; i < 5; i++) {
      HttpResponse<InputStream> r = http.send(cur, HttpResponse.BodyHandlers.ofInputStream());
      int sc = r.statusCode();
      if (sc < 300 || sc >= 400) {
        return r;
      }
      r.body().close();
      String loc =
          r.headers()
              .firstValue("Location")
              .orElseThrow(() -> new IOException("redirect without Location"));
      HttpRequest.Builder nb = HttpRequest.newBuilder(cur.uri().resolve(loc)).GET();
      cur.headers().firstValue("Range").ifPresent(v -> nb.header("Range", v));
      cur = nb.build(); // no token to other hosts
    }
    throw new IOException("too many redirects for " + req.uri());
  }

  /** Checks a file against a SHA-256 (64 hex) or git blob SHA-1 (40 hex) etag. */
  static void verify(String file, Path p, String etag) throws IOException {
    String e = etag.toLowerCase(Locale.ROOT);
    if (e.startsWith("w/")) {
      return; // weak etag: nothing to check against
    }
    String got;
    if (e.matches("[0-9a-f]{64}")) {
      got = FileDigest.sha256(p);
    } else if (e.matches("[0-9a-f]{40}")) {
      got = gitBlobSha1(p);
    } else {
      return;
    }
    if (!got.equals(e)) {
      Files.delete(p);
      throw new CheckpointException(
          file
              + ": checksum mismatch (expected "
              + e
              + ", got "
              + got
              + "); the partial file was removed, run again");
    }
  }

  static String gitBlobSha1(Path p) throws IOException {
    MessageDigest md;
    try {
      md = MessageDigest.getInstance("SHA-1");
    } catch (NoSuchAlgorithmException ex) {
      throw new IllegalStateException(ex);
    }
    md.update(("blob " + Files.size(p) + "\0").getBytes(StandardCharsets.US_ASCII));
    byte[] buf = new byte[1 << 16];
    try (InputStream in = Files.newInputStream(p)) {
      int r;
      while ((r = in.read(buf)) > 0) {
        md.update(buf, 0, r);
      }
    }
    return HexFormat.of().formatHex(md.digest());
  }

  private JsonNode json(String url) throws IOException, InterruptedException {
    HttpResponse<String> r =
        http.send(request(url).GET().build(), HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new CheckpointException(
          "HTTP " + r.statusCode() + " from " + url + authHint(r.statusCode()));
    }
    return new ObjectMapper().readTree(r.body());
  }

  private HttpRequest.Builder request(String url) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofMinutes(5));
    if (settings.token() != null && !settings.token().isBlank()) {
      b.header("Authorization", "Bearer " + settings.token());
    }
    b.header("User-Agent", "dam-java-convert/0.1");
    return b;
  }

  private static String authHint(int status) {
    return status == 401 || status == 403
        ? " (set HF_TOKEN for gated or private repositories)"
        : "";
  }

  private static String unquote(String s) {
    String t = s.trim();
    if (t.startsWith("W/")) {
      return "w/";
    }
    return t.replace("\"", "");
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }

  private static String stripSlash(String s) {
    return s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
  }
}

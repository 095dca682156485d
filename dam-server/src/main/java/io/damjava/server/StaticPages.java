package io.damjava.server;

import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Map;

/**
 * The interactive page: {@code GET /} and its assets under {@code /web/}, served from the jar's
 * resources (nothing is fetched from elsewhere). The page is public like {@code /health}; the API
 * calls it makes carry the API key the user types into it.
 */
final class StaticPages {
  private static final String ROOT = "/io/damjava/server/web/";
  private static final Map<String, String> FILES =
      Map.of(
          "/", "index.html",
          "/index.html", "index.html",
          "/web/app.js", "app.js",
          "/web/core.js", "core.js",
          "/web/video.js", "video.js",
          "/web/describe.js", "describe.js",
          "/web/png.js", "png.js",
          "/web/app.css", "app.css");
  private static final Map<String, String> TYPES =
      Map.of(
          "html", "text/html; charset=utf-8",
          "js", "text/javascript; charset=utf-8",
          "css", "text/css; charset=utf-8");

  private StaticPages() {}

  /** Whether the path is one of the page's files. */
  static boolean handles(String path) {
    return FILES.containsKey(path);
  }

  static void serve(HttpExchange ex, String path) throws IOException {
    String method = ex.getRequestMethod();
    if (!method.equals("GET") && !method.equals("HEAD")) {
      throw new ApiError(405, "invalid_request_error", "use GET");
    }
    String name = FILES.get(path);
    byte[] body;
    try (InputStream in = StaticPages.class.getResourceAsStream(ROOT + name)) {
      if (in == null) {
        throw new ApiError(404, "not_found", "the page is missing from this build: " + name);
      }
      body = in.readAllBytes();
    }
    var h = ex.getResponseHeaders();
    h.set("Content-Type", TYPES.get(name.substring(name.lastIndexOf('.') + 1)));
    h.set("Cache-Control", "no-cache");
    h.set("X-Content-Type-Options", "nosniff");
    h.set(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:;"
            + " connect-src 'self'; frame-ancestors 'none'");
    if (method.equals("HEAD")) {
      ex.sendResponseHeaders(200, -1);
      return;
    }
    ex.sendResponseHeaders(200, body.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(body);
    }
  }
}

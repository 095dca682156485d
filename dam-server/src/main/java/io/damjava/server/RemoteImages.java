package io.damjava.server;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** Fetches http(s) image URLs when the operator enabled it; bounded in size and time. */
final class RemoteImages {
  private static final HttpClient CLIENT =
      HttpClient.newBuilder()
          .connectTimeout(Duration.ofSeconds(10))
          .followRedirects(HttpClient.Redirect.NORMAL)
          .build();

  private RemoteImages() {}

  static byte[] fetch(String url, long maxBytes) {
    try {
      HttpResponse<InputStream> r =
          CLIENT.send(
              HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30)).build(),
              HttpResponse.BodyHandlers.ofInputStream());
      try (InputStream in = r.body()) {
        if (r.statusCode() != 200) {
          throw ApiError.badRequest("fetching the image URL gave HTTP " + r.statusCode());
        }
        byte[] b = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxBytes + 1));
        if (b.length > maxBytes) {
          throw ApiError.badRequest("the image at the URL is larger than " + maxBytes + " bytes");
        }
        return b;
      }
    } catch (IllegalArgumentException e) {
      throw ApiError.badRequest("invalid image URL");
    } catch (IOException e) {
      throw ApiError.badRequest("cannot fetch the image URL");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw ApiError.badRequest("fetching the image URL was interrupted");
    }
  }
}

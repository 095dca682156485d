package io.damjava.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** A client that stops reading a stream must not hold its generation slot past the timeout. */
class SlowConsumerTest extends ServerTestBase {

  @Test
  void clientThatStopsReadingLosesItsSlotAtTheRequestTimeout() throws Exception {
    start(ServerConfig.defaults("DAM-3B", false).withLimits(1, 0, Duration.ofSeconds(3)), 0);
    // A query of 80 words of 100 kB: the fake engine streams one event per word, 8 MB in all,
    // far more than the socket buffers hold, so the server's writes block at once.
    String query = ("w".repeat(100_000) + " ").repeat(80);
    String body =
        fixture("sdk_image.json", rgbaDataUrl(8, 8, 3))
            .replace("\\nDescribe the masked region in detail.", query)
            .replace("\"max_tokens\": 512", "\"max_tokens\": 1000000");
    byte[] b = body.getBytes(StandardCharsets.UTF_8);
    try (Socket s = new Socket("127.0.0.1", server.port())) {
      s.setReceiveBufferSize(4096);
      OutputStream out = s.getOutputStream();
      out.write(
          ("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  + "Content-Length: "
                  + b.length
                  + "\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      out.write(b);
      out.flush();
      // Never read. Wait for the generation to start, then for the slot to come back.
      long t0 = System.nanoTime();
      while (server.inFlight() == 0 && System.nanoTime() - t0 < 15_000_000_000L) {
        Thread.sleep(10);
      }
      assertEquals(1, server.inFlight(), "the generation started");
      t0 = System.nanoTime();
      while (server.inFlight() > 0 && System.nanoTime() - t0 < 15_000_000_000L) {
        Thread.sleep(20);
      }
      assertEquals(0, server.inFlight(), "the slot was freed although the client never read");
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertTrue(ms < 10_000, "freed after " + ms + " ms");
      System.out.println(
          "slow consumer: slot freed after " + ms + " ms, cancelled=" + dam.cancelled.get());
      // And the freed slot serves someone else.
      assertEquals(
          200,
          post("/v1/chat/completions", fixture("raw_image.json", rgbaDataUrl(8, 8, 2)))
              .statusCode());
    }
  }
}

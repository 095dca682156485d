package io.damjava.onnx.bundle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VerifiedDigestsTest {
  @TempDir Path tmp;
  private String previous;

  @BeforeEach
  void ownCache() {
    previous = System.getProperty("dam.cache.dir");
    System.setProperty("dam.cache.dir", tmp.resolve("cache").toString());
  }

  @AfterEach
  void restore() {
    if (previous == null) {
      System.clearProperty("dam.cache.dir");
    } else {
      System.setProperty("dam.cache.dir", previous);
    }
  }

  private Path memo() throws IOException {
    try (Stream<Path> s = Files.list(tmp.resolve("cache").resolve("verified"))) {
      List<Path> l = s.toList();
      assertEquals(1, l.size());
      return l.get(0);
    }
  }

  @Test
  void anUnchangedFileIsAnsweredFromTheMemoAndAChangedOneIsHashedAgain() throws IOException {
    Path f = tmp.resolve("weights.bin");
    Files.write(f, new byte[] {1, 2, 3, 4});
    String real = FileDigest.sha256(f);
    assertEquals(real, VerifiedDigests.sha256(f));
    // a memo that says otherwise for this very file version is what the next call answers,
    // which proves the file is not read again
    Path m = memo();
    String fake = "a".repeat(64);
    Files.writeString(m, Files.readString(m).replace(real, fake));
    assertEquals(fake, VerifiedDigests.sha256(f));
    Files.write(f, new byte[] {1, 2, 3, 5}); // same size, new content
    String now = FileDigest.sha256(f);
    assertEquals(now, VerifiedDigests.sha256(f));
    assertTrue(Files.readString(memo()).contains(now));
  }

  @Test
  void offMeansEveryCallHashes() throws IOException {
    System.setProperty("dam.cache.dir", "off");
    Path f = tmp.resolve("w.bin");
    Files.write(f, new byte[] {9});
    assertEquals(FileDigest.sha256(f), VerifiedDigests.sha256(f));
    assertTrue(!Files.exists(tmp.resolve("cache")));
  }
}

package io.damjava.onnx.bundle;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Objects;
import java.util.Optional;

/**
 * SHA-256 of bundle files, computed once per file version and remembered.
 *
 * <p>A bundle of DAM-3B is 5-15 GB; hashing it takes seconds on every load. This memo keeps, for
 * each file it hashed (keyed by its real path), the digest with the file's size, modification time,
 * change time (ctime) and inode. A later {@link #sha256} whose file still has all four returns the
 * remembered digest without reading the file. Any write to the file changes its ctime (which,
 * unlike mtime, cannot be set back by a user), so a modified file is hashed again and a tampered
 * bundle is still refused. Where the file system has no ctime or inode, nothing is remembered. The
 * memo lives in {@link LocalCache}{@code /verified}; when caching is off, or the folder cannot be
 * written, every call hashes.
 */
public final class VerifiedDigests {
  private static final ObjectMapper JSON = new ObjectMapper();

  private VerifiedDigests() {}

  /** The file's SHA-256, from the memo when the file is unchanged since it was last hashed. */
  public static String sha256(Path file) throws IOException {
    Optional<Path> memo = memoFile(file);
    Optional<String> stamp = stamp(file);
    if (memo.isPresent() && stamp.isPresent()) {
      String known = read(memo.get(), stamp.get());
      if (known != null) {
        return known;
      }
    }
    String sha = FileDigest.sha256(file);
    if (memo.isPresent() && stamp.isPresent()) {
      write(memo.get(), stamp.get(), sha);
    }
    return sha;
  }

  /**
   * Records a digest its writer has just computed (dam-convert, after moving the bundle into
   * place), so the first load does not hash again. Best effort: failures are ignored.
   */
  public static void remember(Path file, String sha256) {
    try {
      Optional<Path> memo = memoFile(file);
      Optional<String> stamp = stamp(file);
      if (memo.isPresent() && stamp.isPresent()) {
        write(memo.get(), stamp.get(), Objects.requireNonNull(sha256));
      }
    } catch (IOException e) {
      // a memo we cannot write only costs a hash on the next load
    }
  }

  /** size, mtime, ctime and inode of the file, or empty where the file system lacks them. */
  static Optional<String> stamp(Path file) throws IOException {
    BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
    Object ino;
    Object ctime;
    try {
      ino = Files.getAttribute(file, "unix:ino", LinkOption.NOFOLLOW_LINKS);
      ctime = Files.getAttribute(file, "unix:ctime", LinkOption.NOFOLLOW_LINKS);
    } catch (UnsupportedOperationException | IllegalArgumentException e) {
      return Optional.empty();
    }
    return Optional.of(
        a.size() + "/" + nanos(a.lastModifiedTime()) + "/" + nanos((FileTime) ctime) + "/" + ino);
  }

  private static long nanos(FileTime t) {
    return t.to(java.util.concurrent.TimeUnit.NANOSECONDS);
  }

  private static Optional<Path> memoFile(Path file) throws IOException {
    Optional<Path> root = LocalCache.root();
    if (root.isEmpty()) {
      return Optional.empty();
    }
    String key = hex(file.toRealPath().toString());
    return Optional.of(root.get().resolve("verified").resolve(key + ".json"));
  }

  private static String read(Path memo, String stamp) {
    try {
      if (!Files.isRegularFile(memo)) {
        return null;
      }
      var n = JSON.readTree(memo.toFile());
      if (stamp.equals(n.path("stamp").asText()) && n.path("sha256").asText().length() == 64) {
        return n.path("sha256").asText();
      }
    } catch (IOException e) {
      // an unreadable memo is ignored: the file is hashed again
    }
    return null;
  }

  private static void write(Path memo, String stamp, String sha) {
    try {
      Files.createDirectories(memo.getParent());
      ObjectNode n = JSON.createObjectNode();
      n.put("stamp", stamp);
      n.put("sha256", sha);
      Path tmp = Files.createTempFile(memo.getParent(), ".memo", ".tmp");
      Files.writeString(tmp, JSON.writeValueAsString(n), StandardCharsets.UTF_8);
      try {
        Files.move(tmp, memo, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, memo, StandardCopyOption.REPLACE_EXISTING);
      }
    } catch (IOException e) {
      // read-only or full cache: nothing remembered
    }
  }

  private static String hex(String s) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      return HexFormat.of().formatHex(md.digest(s.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK always has SHA-256", e);
    }
  }
}

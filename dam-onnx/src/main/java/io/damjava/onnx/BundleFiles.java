package io.damjava.onnx;

import io.damjava.api.InvalidBundleException;
import io.damjava.onnx.bundle.BundleManifest;
import io.damjava.onnx.bundle.VerifiedDigests;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Checks every file a manifest lists (size, then SHA-256) before any native object is made. Files
 * are hashed in parallel, one per core; a file unchanged since it was last verified on this machine
 * is not read again ({@link VerifiedDigests}).
 */
final class BundleFiles {
  private BundleFiles() {}

  static void verify(Path dir, BundleManifest m) {
    verify(dir, m.files());
  }

  static void verify(Path dir, List<BundleManifest.FileEntry> files) {
    for (BundleManifest.FileEntry f : files) {
      checkSize(dir, f); // cheap, and names a truncated file before any hashing
    }
    int threads = Math.max(1, Math.min(files.size(), Runtime.getRuntime().availableProcessors()));
    ExecutorService pool =
        Executors.newFixedThreadPool(
            threads,
            r -> {
              Thread t = new Thread(r, "dam-verify");
              t.setDaemon(true);
              return t;
            });
    try {
      List<Future<?>> done = new ArrayList<>();
      for (BundleManifest.FileEntry f : files) {
        done.add(pool.submit(() -> checkDigest(dir, f)));
      }
      for (Future<?> d : done) {
        try {
          d.get();
        } catch (ExecutionException e) {
          if (e.getCause() instanceof RuntimeException r) {
            throw r;
          }
          throw new InvalidBundleException("cannot verify bundle files: " + e.getCause(), e);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InvalidBundleException("interrupted while verifying bundle files", e);
    } finally {
      pool.shutdownNow();
    }
  }

  private static void checkSize(Path dir, BundleManifest.FileEntry f) {
    Path p = dir.resolve(f.path());
    try {
      long size = Files.size(p);
      if (size != f.bytes()) {
        throw new InvalidBundleException(
            "bundle file "
                + f.path()
                + " has "
                + size
                + " bytes but the manifest lists "
                + f.bytes()
                + ": the file is truncated or replaced; convert the checkpoint again");
      }
    } catch (NoSuchFileException e) {
      throw new InvalidBundleException(
          "bundle file " + f.path() + " listed in the manifest is missing from " + dir, e);
    } catch (IOException e) {
      throw new InvalidBundleException(
          "cannot read bundle file " + f.path() + ": " + e.getMessage(), e);
    }
  }

  private static void checkDigest(Path dir, BundleManifest.FileEntry f) {
    String sha;
    try {
      sha = VerifiedDigests.sha256(dir.resolve(f.path()));
    } catch (NoSuchFileException e) {
      throw new InvalidBundleException(
          "bundle file " + f.path() + " listed in the manifest is missing from " + dir, e);
    } catch (IOException | UncheckedIOException e) {
      throw new InvalidBundleException(
          "cannot read bundle file " + f.path() + ": " + e.getMessage(), e);
    }
    if (!sha.equals(f.sha256())) {
      throw new InvalidBundleException(
          "bundle file "
              + f.path()
              + " has SHA-256 "
              + sha
              + " but the manifest lists "
              + f.sha256()
              + ": the file is corrupt or was modified; convert the checkpoint again");
    }
  }
}

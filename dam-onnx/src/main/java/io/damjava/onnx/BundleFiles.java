package io.damjava.onnx;

import io.damjava.api.InvalidBundleException;
import io.damjava.onnx.bundle.BundleManifest;
import io.damjava.onnx.bundle.FileDigest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Checks every file a manifest lists (size, then SHA-256) before any native object is made. */
final class BundleFiles {
  private BundleFiles() {}

  static void verify(Path dir, BundleManifest m) {
    verify(dir, m.files());
  }

  static void verify(Path dir, java.util.List<BundleManifest.FileEntry> files) {
    for (BundleManifest.FileEntry f : files) {
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
        String sha = FileDigest.sha256(p);
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
      } catch (NoSuchFileException e) {
        throw new InvalidBundleException(
            "bundle file " + f.path() + " listed in the manifest is missing from " + dir, e);
      } catch (IOException e) {
        throw new InvalidBundleException(
            "cannot read bundle file " + f.path() + ": " + e.getMessage(), e);
      }
    }
  }
}

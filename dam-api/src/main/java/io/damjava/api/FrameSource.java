package io.damjava.api;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.stream.Stream;

/**
 * The frames of a video, in order, read on demand: tracking a region through a long video visits
 * every frame once per direction and keeps none of them, so a source backed by files holds memory
 * flat whatever the length. A frame may be asked for more than once.
 *
 * <pre>{@code
 * FrameSource clip = FrameSource.folder(Path.of("frames"));   // 000001.png, 000002.png, ...
 * FrameSource inMemory = FrameSource.of(List.of(f0, f1, f2, f3, f4, f5, f6, f7));
 * }</pre>
 */
public interface FrameSource {
  /** The number of frames. */
  int size();

  /**
   * Frame {@code index}, {@code 0 <= index < size()}.
   *
   * @throws InvalidInputException if the frame cannot be read or decoded
   */
  DamImage frame(int index);

  /** Frames already in memory (the list is copied). */
  static FrameSource of(List<DamImage> frames) {
    if (frames == null || frames.isEmpty()) {
      throw new InvalidInputException("a video needs at least one frame");
    }
    List<DamImage> copy = List.copyOf(frames);
    return new FrameSource() {
      @Override
      public int size() {
        return copy.size();
      }

      @Override
      public DamImage frame(int index) {
        Objects.checkIndex(index, copy.size());
        return copy.get(index);
      }
    };
  }

  /**
   * The PNG and JPEG files of a folder, sorted by file name, within {@link ImageLimits#defaults()}.
   */
  static FrameSource folder(Path dir) {
    return folder(dir, ImageLimits.defaults());
  }

  /**
   * The PNG and JPEG files of a folder, sorted by file name; each is decoded when asked for.
   *
   * @throws InvalidInputException if {@code dir} is not a folder or holds no PNG or JPEG file
   */
  static FrameSource folder(Path dir, ImageLimits limits) {
    Objects.requireNonNull(limits, "limits");
    if (dir == null || !Files.isDirectory(dir)) {
      throw new InvalidInputException(dir + " is not a folder of frames");
    }
    List<Path> files;
    try {
      files = frameFiles(dir);
    } catch (IOException e) {
      throw new InvalidInputException(
          "cannot list the frames of " + dir + ": " + e.getMessage(), e);
    }
    if (files.isEmpty()) {
      throw new InvalidInputException(dir + " holds no PNG or JPEG frames");
    }
    return new FrameSource() {
      @Override
      public int size() {
        return files.size();
      }

      @Override
      public DamImage frame(int index) {
        Objects.checkIndex(index, files.size());
        return DamImage.read(files.get(index), limits);
      }
    };
  }

  /**
   * The PNG and JPEG files of a folder ({@code .png}, {@code .jpg}, {@code .jpeg}, any case),
   * sorted by file name: the frames {@link #folder} reads, in order. Empty when it holds none.
   *
   * @throws IOException if the folder cannot be listed
   */
  static List<Path> frameFiles(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(
              p -> {
                String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
                return n.endsWith(".png") || n.endsWith(".jpg") || n.endsWith(".jpeg");
              })
          .sorted()
          .toList();
    }
  }
}

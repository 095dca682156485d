package io.damjava.cli;

import io.damjava.api.DamImage;
import io.damjava.api.DescribeRequest;
import io.damjava.api.FrameSource;
import io.damjava.api.ImageLimits;
import io.damjava.api.InvalidInputException;
import io.damjava.api.Mask;
import io.damjava.api.VideoFrames;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The 8 frames of a video description, picked evenly as the reference does ({@link
 * VideoFrames#pick}), with one mask per picked frame. Frames come from a folder of images (sorted
 * by file name) or from a video file, extracted with ffmpeg into a temporary folder.
 */
record VideoInput(List<DamImage> frames, List<Mask> masks, int total) {
  static final int FRAMES = DescribeRequest.VIDEO_FRAMES;

  /** The default for {@code --max-frames}: about 5.5 minutes of 30 fps video. */
  static final int DEFAULT_MAX_FRAMES = 10_000;

  static VideoInput load(
      Path video, Path maskDir, Map<String, String> env, ImageLimits limits, int maxFrames)
      throws IOException {
    if (Files.isRegularFile(video)) {
      Path tmp = Files.createTempDirectory("dam-frames");
      try {
        extract(video, tmp, env, maxFrames);
        return fromFolders(tmp, maskDir, "frames extracted from " + video, limits, maxFrames);
      } finally {
        deleteTree(tmp);
      }
    }
    if (!Files.exists(video)) {
      throw new InvalidInputException("--video " + video + ": no such file or folder");
    }
    return fromFolders(video, maskDir, "--video " + video, limits, maxFrames);
  }

  /** Work over a whole video, read one frame at a time. */
  interface FrameWork<T> {
    T apply(FrameSource frames) throws IOException;
  }

  /**
   * Runs {@code work} over every frame of a folder or a video file (extracted with ffmpeg into a
   * temporary folder, deleted afterwards); frames are decoded when the work asks for them.
   */
  static <T> T withFrames(
      Path video, Map<String, String> env, ImageLimits limits, int maxFrames, FrameWork<T> work)
      throws IOException {
    if (Files.isRegularFile(video)) {
      Path tmp = Files.createTempDirectory("dam-frames");
      try {
        extract(video, tmp, env, maxFrames);
        return work.apply(frames(tmp, "frames extracted from " + video, limits, maxFrames));
      } finally {
        deleteTree(tmp);
      }
    }
    if (!Files.exists(video)) {
      throw new InvalidInputException("--video " + video + ": no such file or folder");
    }
    return work.apply(frames(video, "--video " + video, limits, maxFrames));
  }

  private static FrameSource frames(Path dir, String what, ImageLimits limits, int maxFrames)
      throws IOException {
    int n = images(dir, what).size();
    if (n > maxFrames) {
      throw new InvalidInputException(
          what + " holds more than " + maxFrames + " frames: raise --max-frames, or trim it");
    }
    return FrameSource.folder(dir, limits);
  }

  private static VideoInput fromFolders(
      Path frameDir, Path maskDir, String what, ImageLimits limits, int maxFrames)
      throws IOException {
    List<Path> frames = images(frameDir, what);
    List<Path> masks = images(maskDir, "--masks " + maskDir);
    if (frames.size() > maxFrames || masks.size() > maxFrames) {
      throw new InvalidInputException(
          what
              + " or --masks "
              + maskDir
              + " holds more than "
              + maxFrames
              + " frames: raise --max-frames, or pass fewer frames (8 are picked evenly)");
    }
    if (frames.size() < FRAMES) {
      throw new InvalidInputException(
          what + " holds " + frames.size() + " frames: a video description needs at least 8");
    }
    if (masks.size() != FRAMES && masks.size() != frames.size()) {
      throw new InvalidInputException(
          "--masks "
              + maskDir
              + " holds "
              + masks.size()
              + " images: give one per picked frame (8, in order) or one per frame ("
              + frames.size()
              + ")");
    }
    int[] pick = VideoFrames.pick(frames.size(), FRAMES);
    List<DamImage> f = new ArrayList<>();
    List<Mask> m = new ArrayList<>();
    for (int i = 0; i < pick.length; i++) {
      f.add(DamImage.read(frames.get(pick[i]), limits));
      m.add(Mask.read(masks.get(masks.size() == frames.size() ? pick[i] : i), limits));
    }
    return new VideoInput(f, m, frames.size());
  }

  private static List<Path> images(Path dir, String what) throws IOException {
    if (!Files.isDirectory(dir)) {
      throw new InvalidInputException(what + " is not a folder of images");
    }
    List<Path> l = FrameSource.frameFiles(dir);
    if (l.isEmpty()) {
      throw new InvalidInputException(what + " holds no PNG or JPEG images");
    }
    return l;
  }

  /** Finds an executable on the PATH of the given environment. */
  static Optional<Path> onPath(String name, Map<String, String> env) {
    String path = env.getOrDefault("PATH", "");
    for (String dir : path.split(File.pathSeparator)) {
      if (dir.isEmpty()) {
        continue;
      }
      Path p = Path.of(dir, name);
      if (Files.isRegularFile(p) && Files.isExecutable(p)) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }

  private static void extract(Path video, Path dir, Map<String, String> env, int maxFrames)
      throws IOException {
    Path ffmpeg =
        onPath("ffmpeg", env)
            .orElseThrow(
                () ->
                    new InvalidInputException(
                        "--video "
                            + video
                            + " is a file: reading video files needs ffmpeg on the PATH, which"
                            + " was not found. Install ffmpeg, or extract the frames yourself"
                            + " (ffmpeg -i clip.mp4 frames/%06d.png) and pass --video frames/"));
    Path logFile = Files.createTempFile("dam-ffmpeg", ".log");
    try {
      runFfmpeg(ffmpeg, video, dir, maxFrames, logFile);
    } finally {
      Files.deleteIfExists(logFile);
    }
  }

  private static void runFfmpeg(Path ffmpeg, Path video, Path dir, int maxFrames, Path logFile)
      throws IOException {
    Process p =
        new ProcessBuilder(
                ffmpeg.toString(),
                "-nostdin",
                "-loglevel",
                "error",
                "-i",
                video.toString(),
                "-vsync",
                "0",
                // One more than allowed, so that a longer video is seen and refused.
                "-frames:v",
                Integer.toString(maxFrames + 1),
                dir.resolve("%06d.png").toString())
            .redirectErrorStream(true)
            // to a file, not a pipe: nothing to drain while waiting, so the time limit holds
            .redirectOutput(logFile.toFile())
            .start();
    p.getOutputStream().close();
    long timeout = Long.getLong("dam.ffmpegTimeoutSeconds", 600);
    int rc;
    try {
      if (!p.waitFor(timeout, TimeUnit.SECONDS)) {
        p.destroyForcibly().waitFor();
        throw new InvalidInputException(
            "ffmpeg did not finish reading --video "
                + video
                + " in "
                + timeout
                + " s (a damaged or very long file?): trim it, or extract the frames yourself"
                + " and pass the folder (-Ddam.ffmpegTimeoutSeconds=N changes the limit)");
      }
      rc = p.exitValue();
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while extracting frames", e);
    }
    if (rc != 0) {
      String log = new String(Files.readAllBytes(logFile), StandardCharsets.UTF_8);
      throw new InvalidInputException(
          "ffmpeg could not read --video " + video + " (exit " + rc + "): " + log.strip());
    }
  }

  private static void deleteTree(Path root) throws IOException {
    try (Stream<Path> s = Files.walk(root)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}

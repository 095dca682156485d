package io.damjava.cli;

import io.damjava.api.DamImage;
import io.damjava.api.InvalidInputException;
import io.damjava.api.Mask;
import io.damjava.api.VideoFrames;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/** 8 frames picked evenly from a folder of images, with their masks. */
record VideoInput(List<DamImage> frames, List<Mask> masks) {

  static VideoInput load(Path frameDir, Path maskDir) throws IOException {
    List<Path> frames = images(frameDir, "--video");
    List<Path> masks = images(maskDir, "--masks");
    int[] pick = VideoFrames.pick(frames.size(), 8);
    List<DamImage> f = new ArrayList<>();
    List<Mask> m = new ArrayList<>();
    for (int i = 0; i < pick.length; i++) {
      f.add(DamImage.read(frames.get(pick[i])));
      if (masks.size() == frames.size()) {
        m.add(Mask.read(masks.get(pick[i])));
      } else if (masks.size() == 8) {
        m.add(Mask.read(masks.get(i)));
      } else {
        throw new InvalidInputException(
            "--masks holds "
                + masks.size()
                + " images: give one per frame ("
                + frames.size()
                + ") or one per picked frame (8)");
      }
    }
    return new VideoInput(f, m);
  }

  private static List<Path> images(Path dir, String flag) throws IOException {
    if (!Files.isDirectory(dir)) {
      throw new InvalidInputException(
          flag
              + " "
              + dir
              + " is not a folder of images (to use a video file, extract frames first:"
              + " ffmpeg -i clip.mp4 frames/%05d.png)");
    }
    try (Stream<Path> s = Files.list(dir)) {
      List<Path> l =
          s.filter(
                  p -> {
                    String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
                    return n.endsWith(".png") || n.endsWith(".jpg") || n.endsWith(".jpeg");
                  })
              .sorted()
              .toList();
      if (l.isEmpty()) {
        throw new InvalidInputException(flag + " " + dir + " holds no PNG or JPEG images");
      }
      return l;
    }
  }
}

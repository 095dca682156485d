package io.damjava.api;

import java.util.List;

/**
 * What a {@link VideoRegion} became: the picked frame indices and the tracked mask on each, the
 * exact masks a video describe call uses.
 *
 * @param frames the {@value DescribeRequest#VIDEO_FRAMES} picked frame indices, ascending
 * @param masks one mask per picked frame, at the video's size
 */
public record VideoMasks(int[] frames, List<Mask> masks) {
  public VideoMasks {
    frames = frames.clone();
    masks = List.copyOf(masks);
    if (frames.length != masks.size()) {
      throw new IllegalArgumentException(frames.length + " frames but " + masks.size() + " masks");
    }
  }

  @Override
  public int[] frames() {
    return frames.clone();
  }
}

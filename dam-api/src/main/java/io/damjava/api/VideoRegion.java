package io.damjava.api;

import java.util.ArrayList;
import java.util.List;

/**
 * An object annotated on one frame of a video, as DAM's video examples take it: a box, clicks, a
 * scribble or a mask on frame {@code frame}. A SAM 2.1 segmenter (configured with {@link
 * DescribeAnything.Builder#segmenter}) tracks it forward and backward through every frame; {@value
 * DescribeRequest#VIDEO_FRAMES} frames are then picked evenly over the whole video ({@link
 * VideoFrames#pick}) and described with their tracked masks.
 *
 * <pre>{@code
 * VideoRegion cup = new VideoRegion(FrameSource.folder(frames), 0, Region.box(40, 30, 200, 180));
 * Caption c = dam.describe(DescribeRequest.video(cup));
 * VideoMasks used = dam.segmentVideo(cup);   // the 8 frames and masks describe uses
 * // the object got lost around frame 40: click it there too, and track again from there
 * VideoMasks better = dam.segmentVideo(cup.refine(40, Region.point(310, 122)));
 * }</pre>
 *
 * @param frames the whole video, at least {@value DescribeRequest#VIDEO_FRAMES} frames of one size
 * @param frame the annotated frame, {@code 0 <= frame < frames.size()}
 * @param region the annotation, in that frame's pixel coordinates
 * @param refinements more annotations on other frames, applied in order after the first one has
 *     been tracked (see {@link #refine})
 */
public record VideoRegion(
    FrameSource frames, int frame, Region region, List<Refinement> refinements) {

  /**
   * A further annotation: after everything before it has been tracked, the region on {@code frame}
   * becomes another conditioning memory and the object is tracked again from there, forward and
   * backward; every frame keeps its latest result.
   *
   * @param frame the frame it is drawn on
   * @param region a box, clicks, a scribble or a mask on that frame
   */
  public record Refinement(int frame, Region region) {
    public Refinement {
      if (region == null) {
        throw new InvalidInputException("a refinement needs a region");
      }
    }
  }

  /**
   * @throws InvalidInputException for a null part, fewer than 8 frames, or a frame index outside
   *     the video
   */
  public VideoRegion {
    if (frames == null || region == null || refinements == null) {
      throw new InvalidInputException("a video region needs frames and a region");
    }
    refinements = List.copyOf(refinements);
    int n = frames.size();
    if (n < DescribeRequest.VIDEO_FRAMES) {
      throw new InvalidInputException(
          "the video has "
              + n
              + " frames: a video description needs at least "
              + DescribeRequest.VIDEO_FRAMES
              + " (for a still image describe the frame as an image)");
    }
    checkFrame(frame, n);
    for (Refinement r : refinements) {
      checkFrame(r.frame(), n);
    }
  }

  /** One annotation on one frame. */
  public VideoRegion(FrameSource frames, int frame, Region region) {
    this(frames, frame, region, List.of());
  }

  /** This region with one more annotation, on {@code frame}, applied after the others. */
  public VideoRegion refine(int frame, Region region) {
    List<Refinement> more = new ArrayList<>(refinements);
    more.add(new Refinement(frame, region));
    return new VideoRegion(frames, this.frame, this.region, more);
  }

  private static void checkFrame(int f, int n) {
    if (f < 0 || f >= n) {
      throw new InvalidInputException(
          "frame " + f + " is outside the video (frames 0.." + (n - 1) + ")");
    }
  }
}

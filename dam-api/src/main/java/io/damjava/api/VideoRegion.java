package io.damjava.api;

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
 * }</pre>
 *
 * @param frames the whole video, at least {@value DescribeRequest#VIDEO_FRAMES} frames of one size
 * @param frame the annotated frame, {@code 0 <= frame < frames.size()}
 * @param region the annotation, in that frame's pixel coordinates
 */
public record VideoRegion(FrameSource frames, int frame, Region region) {
  /**
   * @throws InvalidInputException for a null part, fewer than 8 frames, or a frame index outside
   *     the video
   */
  public VideoRegion {
    if (frames == null || region == null) {
      throw new InvalidInputException("a video region needs frames and a region");
    }
    int n = frames.size();
    if (n < DescribeRequest.VIDEO_FRAMES) {
      throw new InvalidInputException(
          "the video has "
              + n
              + " frames: a video description needs at least "
              + DescribeRequest.VIDEO_FRAMES
              + " (for a still image describe the frame as an image)");
    }
    if (frame < 0 || frame >= n) {
      throw new InvalidInputException(
          "frame " + frame + " is outside the video (frames 0.." + (n - 1) + ")");
    }
  }
}

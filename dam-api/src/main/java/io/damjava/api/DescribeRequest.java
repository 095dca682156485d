package io.damjava.api;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One describe call with every knob: the image (or 8 video frames), the region (or one mask per
 * frame), options, a streaming listener and a cancellation flag. Immutable; the {@code with}
 * methods return copies.
 *
 * <pre>{@code
 * Caption c = dam.describe(DescribeRequest.of(image, Region.mask(mask))
 *     .options(GenerationOptions.defaults().withTemperature(0))
 *     .listener(System.out::print));
 * }</pre>
 */
public final class DescribeRequest {
  /** The number of frames a video request must have, as the reference's joint checkpoint. */
  public static final int VIDEO_FRAMES = 8;

  private final List<DamImage> frames;
  private final List<Region> regions;
  private final boolean video;
  private final Optional<GenerationOptions> options;
  private final CaptionListener listener;
  private final Cancellation cancellation;
  private final VideoRegion tracked; // null unless made by video(VideoRegion)

  private DescribeRequest(
      List<DamImage> frames,
      List<Region> regions,
      boolean video,
      Optional<GenerationOptions> options,
      CaptionListener listener,
      Cancellation cancellation,
      VideoRegion tracked) {
    this.tracked = tracked;
    this.frames = frames;
    this.regions = regions;
    this.video = video;
    this.options = options;
    this.listener = listener;
    this.cancellation = cancellation;
  }

  /** Describe one region of one image. */
  public static DescribeRequest of(DamImage image, Region region) {
    if (image == null) {
      throw new InvalidInputException("image must not be null");
    }
    if (region == null) {
      throw new InvalidInputException("region must not be null");
    }
    return new DescribeRequest(
        List.of(image), List.of(region), false, Optional.empty(), null, null, null);
  }

  /**
   * Describe one object through a video: exactly {@value #VIDEO_FRAMES} frames of one size and one
   * mask per frame. Needs a bundle of the image+video variant.
   */
  public static DescribeRequest video(List<DamImage> frames, List<Mask> masks) {
    if (frames == null || masks == null) {
      throw new InvalidInputException("frames and masks must not be null");
    }
    if (frames.size() != VIDEO_FRAMES) {
      throw new InvalidInputException(
          "a video needs exactly "
              + VIDEO_FRAMES
              + " frames, got "
              + frames.size()
              + " (use VideoFrames.pick to take 8 evenly from a longer clip)");
    }
    if (masks.size() != frames.size()) {
      throw new InvalidInputException(
          "a video needs one mask per frame: "
              + frames.size()
              + " frames but "
              + masks.size()
              + " masks");
    }
    List<Region> regions = masks.stream().map(Region::mask).toList();
    for (int i = 0; i < frames.size(); i++) {
      DamImage f = Objects.requireNonNull(frames.get(i), "frame " + i);
      try {
        regions.get(i).validateFor(f.width(), f.height());
      } catch (InvalidInputException e) {
        throw new InvalidInputException("frame " + i + ": " + e.getMessage(), e);
      }
    }
    return new DescribeRequest(
        List.copyOf(frames), regions, true, Optional.empty(), null, null, null);
  }

  /**
   * Describe one object through a whole video from an annotation on one of its frames: the
   * segmenter (SAM 2.1) tracks it over every frame, then {@value #VIDEO_FRAMES} frames are picked
   * evenly and described with their tracked masks, exactly as {@link DescribeAnything#segmentVideo}
   * returns them. Needs a bundle of the image+video variant and a SAM 2.1 segmenter.
   */
  public static DescribeRequest video(VideoRegion region) {
    if (region == null) {
      throw new InvalidInputException("video region must not be null");
    }
    return new DescribeRequest(List.of(), List.of(), true, Optional.empty(), null, null, region);
  }

  public DescribeRequest options(GenerationOptions o) {
    return new DescribeRequest(
        frames,
        regions,
        video,
        Optional.of(Objects.requireNonNull(o, "options")),
        listener,
        cancellation,
        tracked);
  }

  public DescribeRequest listener(CaptionListener l) {
    return new DescribeRequest(frames, regions, video, options, l, cancellation, tracked);
  }

  public DescribeRequest cancellation(Cancellation c) {
    return new DescribeRequest(frames, regions, video, options, listener, c, tracked);
  }

  /** The annotated video of a {@link #video(VideoRegion)} request; empty otherwise. */
  public Optional<VideoRegion> videoRegion() {
    return Optional.ofNullable(tracked);
  }

  /** One image, or the 8 frames of a video; empty for a {@link #video(VideoRegion)} request. */
  public List<DamImage> frames() {
    return frames;
  }

  /**
   * One region, or one mask region per frame of a video; empty for a {@link #video(VideoRegion)}
   * request.
   */
  public List<Region> regions() {
    return regions;
  }

  public boolean isVideo() {
    return video;
  }

  /** The options of this call; empty means the engine's defaults. */
  public Optional<GenerationOptions> options() {
    return options;
  }

  public Optional<CaptionListener> listener() {
    return Optional.ofNullable(listener);
  }

  public Optional<Cancellation> cancellation() {
    return Optional.ofNullable(cancellation);
  }
}

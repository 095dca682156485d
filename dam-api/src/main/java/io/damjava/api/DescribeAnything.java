package io.damjava.api;

import io.damjava.api.spi.DamEngineProvider;
import io.damjava.api.spi.EngineConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.ServiceLoader;

/**
 * Describes regions of images and videos with NVIDIA's Describe Anything Model.
 *
 * <p>An instance holds the loaded model and is thread-safe: share one across threads. Each call
 * keeps its own state. Close it to free native memory; {@link #close()} is idempotent, waits for
 * calls still running, and any call after it throws {@link IllegalStateException}.
 *
 * <pre>{@code
 * try (DescribeAnything dam = DescribeAnything.builder()
 *         .model(Path.of("models/DAM-3B"))   // a bundle written by `dam convert`
 *         .build()) {                        // CPU by default
 *   Caption caption = dam.describe(DamImage.read(photo), Mask.read(maskPng));
 *   System.out.println(caption.text());
 * }
 * }</pre>
 *
 * <p>The engine is found with {@link ServiceLoader}: add {@code io.damjava:dam-onnx} to the runtime
 * class path.
 */
public interface DescribeAnything extends AutoCloseable {

  /** Describes one region given by its mask, with the default options. */
  default Caption describe(DamImage image, Mask mask) {
    return describe(DescribeRequest.of(image, Region.mask(mask)));
  }

  /** Describes one region (mask, box, points or scribble), with the default options. */
  default Caption describe(DamImage image, Region region) {
    return describe(DescribeRequest.of(image, region));
  }

  /**
   * Describes several regions of one image in one call: the vision work is batched and the regions
   * prefill and decode together, each with its own sampler and stop, which costs far less than one
   * call per region. Returns one caption per region, in order; greedy captions equal describing the
   * regions one at a time (with a seed, each region draws from that seed as its own call would).
   */
  List<Caption> describe(DamImage image, List<Region> regions, GenerationOptions options);

  /** Describes one object through 8 video frames, one mask per frame, with the default options. */
  default Caption describeVideo(List<DamImage> frames, List<Mask> masks) {
    return describe(DescribeRequest.video(frames, masks));
  }

  /**
   * The full form: options, streaming listener and cancellation.
   *
   * @throws InvalidInputException for unusable input, before any model work starts
   * @throws InferenceException if the runtime fails
   * @throws IllegalStateException after {@link #close()}
   */
  Caption describe(DescribeRequest request);

  /**
   * The masks that regions stand for, one per region, as describe would use them: masks as given;
   * boxes, points and scribbles through the segmenter (one image encoding for all of them). Useful
   * to show the user what was described, or to describe the same segmented region several times
   * without segmenting again.
   *
   * @throws InvalidInputException if a region does not fit the image, or needs a segmenter and none
   *     is configured
   */
  List<Mask> segment(DamImage image, List<Region> regions);

  /**
   * Tracks an object annotated on one frame through the whole video with the SAM 2.1 segmenter
   * (forward and backward from the annotated frame) and returns the {@value
   * DescribeRequest#VIDEO_FRAMES} frames picked evenly over the video with their masks: what {@code
   * describe(DescribeRequest.video(region))} describes. Frames are read on demand and memory stays
   * bounded whatever the length.
   *
   * @throws InvalidInputException if the region does not fit the annotated frame, the frames differ
   *     in size, a frame cannot be read, no SAM 2.1 segmenter is configured, or the tracked mask is
   *     empty on a picked frame (the object left the view; the message names the frames)
   */
  default VideoMasks segmentVideo(VideoRegion region) {
    throw new UnsupportedOperationException(getClass().getName() + " cannot track video regions");
  }

  /** The options used when a request carries none. */
  GenerationOptions defaultOptions();

  /** Frees the model; idempotent. */
  @Override
  void close();

  static Builder builder() {
    return new Builder();
  }

  /** Configures and loads a model. */
  final class Builder {
    private Path model;
    private Path segmenter;
    private Device device = Device.cpu();
    private boolean cpuFallback;
    private int threads;
    private GenerationOptions defaults = GenerationOptions.defaults();
    private String engine;
    private int maxBatch = EngineConfig.DEFAULT_MAX_BATCH;

    private Builder() {}

    /** The bundle directory (holds {@code dam-bundle.json}). Required. */
    public Builder model(Path dir) {
      this.model = Objects.requireNonNull(dir, "model");
      return this;
    }

    /**
     * A segmenter bundle directory, needed for box, point and scribble regions: a SAM bundle
     * ({@code sam-bundle.json}) or a SAM 2.1 bundle ({@code sam2-bundle.json}, from {@code dam
     * convert --from facebook/sam2.1-hiera-tiny}), told apart by the manifest. Only SAM 2.1 tracks
     * a {@link VideoRegion}.
     */
    public Builder segmenter(Path dir) {
      this.segmenter = Objects.requireNonNull(dir, "segmenter");
      return this;
    }

    /** Where to run; {@link Device#cpu()} by default. */
    public Builder device(Device d) {
      this.device = Objects.requireNonNull(d, "device");
      return this;
    }

    /** Run on CPU when the requested GPU cannot be used, instead of failing. Off by default. */
    public Builder allowCpuFallback(boolean allow) {
      this.cpuFallback = allow;
      return this;
    }

    /** Intra-op threads of the runtime; 0 (default) lets the runtime choose. */
    public Builder threads(int n) {
      if (n < 0) {
        throw new InvalidInputException("threads must be >= 0 (0 = runtime default), got " + n);
      }
      this.threads = n;
      return this;
    }

    /** Options used by calls that pass none. */
    public Builder defaultOptions(GenerationOptions o) {
      this.defaults = Objects.requireNonNull(o, "defaultOptions");
      return this;
    }

    /**
     * How many sequences of concurrent {@link DescribeAnything#describe(DescribeRequest)} calls may
     * decode together: a call joins the running batch at the next decode step and leaves it when it
     * stops, so N threads cost far less than N times one (decode reads the weights once per step
     * for every sequence). Greedy and seeded fp32 outputs equal those of calls made one at a time
     * (int8/int4 batches may round differently; docs/engine.md). The regions of one call count as
     * sequences too. 1 decodes one sequence at a time. Default {@value
     * EngineConfig#DEFAULT_MAX_BATCH}.
     */
    public Builder maxBatch(int n) {
      if (n < 1) {
        throw new InvalidInputException("maxBatch must be >= 1 (1 = no batching), got " + n);
      }
      this.maxBatch = n;
      return this;
    }

    /** Picks an engine by name when several are on the class path. */
    public Builder engine(String name) {
      this.engine = Objects.requireNonNull(name, "engine");
      return this;
    }

    /**
     * Loads the model.
     *
     * @throws ModelLoadException if no engine is on the class path or the model cannot be loaded
     * @throws InvalidBundleException if the bundle is corrupt
     */
    public DescribeAnything build() {
      if (model == null) {
        throw new InvalidInputException("model(Path) is required: the bundle directory");
      }
      EngineConfig config =
          new EngineConfig(
              model,
              Optional.ofNullable(segmenter),
              device,
              cpuFallback,
              threads,
              defaults,
              maxBatch);
      return findProvider().create(config);
    }

    private DamEngineProvider findProvider() {
      List<DamEngineProvider> found = new ArrayList<>();
      ServiceLoader.load(DamEngineProvider.class).forEach(found::add);
      if (found.isEmpty()) {
        throw new ModelLoadException(
            "no DAM engine on the class path: add the artifact io.damjava:dam-onnx");
      }
      if (engine != null) {
        return found.stream()
            .filter(p -> p.name().equals(engine))
            .findFirst()
            .orElseThrow(
                () ->
                    new ModelLoadException(
                        "no engine named '"
                            + engine
                            + "'; found: "
                            + found.stream().map(DamEngineProvider::name).toList()));
      }
      if (found.size() > 1) {
        throw new ModelLoadException(
            "several DAM engines on the class path "
                + found.stream().map(DamEngineProvider::name).toList()
                + ": choose one with builder().engine(name)");
      }
      return found.get(0);
    }
  }
}

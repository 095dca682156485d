package io.damjava.onnx;

import io.damjava.api.Cancellation;
import io.damjava.api.Caption;
import io.damjava.api.DamImage;
import io.damjava.api.DescribeAnything;
import io.damjava.api.DescribeRequest;
import io.damjava.api.GenerationOptions;
import io.damjava.api.InvalidBundleException;
import io.damjava.api.InvalidInputException;
import io.damjava.api.Mask;
import io.damjava.api.Region;
import io.damjava.api.StopReason;
import io.damjava.api.Timings;
import io.damjava.api.VideoMasks;
import io.damjava.api.VideoRegion;
import io.damjava.api.spi.EngineConfig;
import io.damjava.onnx.bundle.BundleManifest;
import io.damjava.onnx.bundle.ManifestIo;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The ONNX Runtime engine behind {@link DescribeAnything}. Holds only immutable things (manifest,
 * sessions, tokenizer, pipeline); each call keeps its state in its own objects, so one instance
 * serves any number of threads. Owns the sessions; {@link #close()} frees them once, after the
 * calls still running have finished: every call holds the read side of a lock that close takes for
 * writing, so no session is freed under a running graph.
 */
final class OnnxDescribeAnything implements DescribeAnything {
  private final BundleManifest manifest;
  private final GenerationOptions defaults;
  private final RegionSegmenter segmenter; // null without a segmenter bundle
  private final Graphs graphs;
  private final DamPipeline pipeline;
  private final ContinuousBatcher batcher; // null when the bundle's decoder cannot batch calls
  private final ReentrantReadWriteLock lifecycle = new ReentrantReadWriteLock();
  private boolean closed; // guarded by lifecycle

  private OnnxDescribeAnything(
      BundleManifest manifest,
      EngineConfig config,
      Graphs graphs,
      RegionSegmenter segmenter,
      DamPipeline pipeline,
      ContinuousBatcher batcher) {
    this.manifest = manifest;
    this.defaults = config.defaultOptions();
    this.segmenter = segmenter;
    this.graphs = graphs;
    this.pipeline = pipeline;
    this.batcher = batcher;
  }

  /**
   * Loads a bundle: manifest, checksums of every file, then tokenizer and sessions.
   *
   * @param tokenizers makes the tokenizer from the bundle's tokenizer file
   */
  static OnnxDescribeAnything load(EngineConfig config, Function<Path, TextTokenizer> tokenizers) {
    Path dir = config.model();
    BundleManifest m = ManifestIo.read(dir);
    if (m.preprocess().cropFactor() % 2 == 0) {
      throw new InvalidBundleException(
          "invalid bundle manifest: preprocess.cropFactor = "
              + m.preprocess().cropFactor()
              + ": must be odd (the window is centred on the box)");
    }
    BundleFiles.verify(dir, m);
    TextTokenizer tok = tokenizers.apply(dir.resolve(m.tokenizer()));
    OrtRuntime.Setup rt = OrtRuntime.setup(config.threads(), config.device(), config.cpuFallback());
    Graphs graphs;
    RegionSegmenter segmenter = null;
    graphs = new Graphs(dir, m, new SessionLoader(rt, o -> {}));
    if (config.segmenter().isPresent()) {
      try (var opts = rt.fresh()) {
        segmenter = Segmenters.load(config.segmenter().get(), rt.env(), opts);
      } catch (RuntimeException e) {
        graphs.close();
        throw e;
      }
    }
    BundleManifest.Dims d = m.dims();
    BundleManifest.Preprocess p = m.preprocess();
    // A batch's cache is Java direct memory: half the heap limit at most, as for region batches.
    ContinuousBatcher batcher =
        ContinuousBatcher.supports(m, rt.cuda())
            ? new ContinuousBatcher(
                graphs,
                d,
                m.tokens().eos(),
                config.maxBatch(),
                Runtime.getRuntime().maxMemory() / 2)
            : null;
    DamPipeline pipeline =
        new DamPipeline(
            new Preprocessor(new FocalCrop(p.minBox(), p.cropFactor()), d.imageSize()),
            new VisionEncoder(graphs, new RegionTensor(p), d),
            new PromptBuilder(m.variant(), m.prompt(), tok),
            new EmbeddingSplicer(graphs, d, m.prompt().imageTokenIndex()),
            new Decoder(graphs, d, m.tokens().eos()),
            tok,
            d.maxPositions(),
            batcher);
    return new OnnxDescribeAnything(m, config, graphs, segmenter, pipeline, batcher);
  }

  @Override
  public List<Caption> describe(DamImage image, List<Region> regions, GenerationOptions options) {
    return whileOpen(() -> describeRegions(image, regions, options));
  }

  @Override
  public Caption describe(DescribeRequest request) {
    return whileOpen(() -> describeRequest(request));
  }

  @Override
  public List<Mask> segment(DamImage image, List<Region> regions) {
    return whileOpen(
        () -> {
          if (image == null || regions == null || regions.isEmpty()) {
            throw new InvalidInputException("segment needs an image and at least one region");
          }
          return List.copyOf(masks(image, regions));
        });
  }

  @Override
  public VideoMasks segmentVideo(VideoRegion region) {
    return whileOpen(() -> track(region));
  }

  private VideoMasks track(VideoRegion region) {
    return sam2(region).track(region);
  }

  private Sam2Segmenter sam2(VideoRegion region) {
    if (region == null) {
      throw new InvalidInputException("video region must not be null");
    }
    if (!(segmenter instanceof Sam2Segmenter sam2)) {
      throw new InvalidInputException(
          "a video region needs a SAM 2.1 segmenter to track it: configure a SAM 2.1 bundle with"
              + " builder().segmenter(dir) (dam convert --from facebook/sam2.1-hiera-tiny;"
              + " docs/segmentation.md)"
              + (segmenter != null
                  ? "; the configured one is SAM, which has no video memory"
                  : ""));
    }
    return sam2;
  }

  private <T> T whileOpen(Supplier<T> call) {
    Lock read = lifecycle.readLock();
    read.lock();
    try {
      if (closed) {
        throw new IllegalStateException("DescribeAnything is closed");
      }
      return call.get();
    } finally {
      read.unlock();
    }
  }

  private List<Caption> describeRegions(
      DamImage image, List<Region> regions, GenerationOptions options) {
    if (image == null || regions == null || regions.isEmpty()) {
      throw new InvalidInputException("describe needs an image and at least one region");
    }
    if (options == null) {
      throw new InvalidInputException("options must not be null (use defaultOptions())");
    }
    options = Samplers.resolve(options, manifest.generation());
    List<Mask> masks = masks(image, regions);
    int[] ids = promptIds(options, false);
    return pipeline.describe(
        Collections.nCopies(masks.size(), image), masks, false, ids, options, null, null);
  }

  private Caption describeRequest(DescribeRequest request) {
    if (request == null) {
      throw new InvalidInputException("request must not be null");
    }
    GenerationOptions options =
        Samplers.resolve(request.options().orElse(defaults), manifest.generation());
    boolean video = request.isVideo();
    if (video && manifest.variant() != BundleManifest.Variant.IMAGE_VIDEO) {
      throw new InvalidInputException(
          "bundle "
              + manifest.modelName()
              + " is an image-only model: video needs the image+video joint checkpoint"
              + " (DAM-3B-Video)");
    }
    List<DamImage> frames = request.frames();
    List<Mask> masks = new ArrayList<>();
    if (request.videoRegion().isPresent()) {
      promptIds(options, true); // a bad query fails before the tracking work
      VideoRegion v = request.videoRegion().get();
      Cancellation cancel = request.cancellation().orElse(null);
      VideoMasks tracked;
      try {
        tracked = sam2(v).track(v, () -> cancel != null && cancel.isCancelled());
      } catch (Sam2Segmenter.Cancelled e) {
        return new Caption("", new int[0], StopReason.CANCELLED, Timings.ZERO);
      }
      frames = new ArrayList<>();
      for (int f : tracked.frames()) {
        frames.add(v.frames().frame(f));
      }
      masks.addAll(tracked.masks());
    } else if (video) {
      for (int i = 0; i < request.regions().size(); i++) {
        masks.addAll(masks(frames.get(i), List.of(request.regions().get(i))));
      }
    } else {
      masks.addAll(masks(frames.get(0), request.regions()));
    }
    int[] ids = promptIds(options, video);
    List<DamImage> perMask = video ? frames : Collections.nCopies(masks.size(), frames.get(0));
    return pipeline
        .describe(
            perMask,
            masks,
            video,
            ids,
            options,
            request.listener().orElse(null),
            request.cancellation().orElse(null))
        .get(0);
  }

  /**
   * One mask per region; non-mask regions go through the segmenter, one image encoding per call.
   */
  private List<Mask> masks(DamImage image, List<Region> regions) {
    boolean prompts = false;
    for (Region r : regions) {
      if (r == null) {
        throw new InvalidInputException("region must not be null");
      }
      r.validateFor(image.width(), image.height());
      prompts |= !(r instanceof Region.MaskRegion);
    }
    if (prompts && segmenter == null) {
      Region r = regions.stream().filter(x -> !(x instanceof Region.MaskRegion)).findFirst().get();
      throw new InvalidInputException(
          r.getClass().getSimpleName()
              + " needs a segmenter to become a mask: configure a SAM bundle with"
              + " builder().segmenter(dir) (docs/segmentation.md), or pass a mask");
    }
    if (!prompts) {
      List<Mask> masks = new ArrayList<>();
      regions.forEach(r -> masks.add(((Region.MaskRegion) r).mask()));
      return masks;
    }
    return segmenter.masks(image, regions);
  }

  private int[] promptIds(GenerationOptions options, boolean video) {
    if (video && options.query().isEmpty() && manifest.prompt().videoQuery().isBlank()) {
      throw new InvalidInputException(
          "bundle " + manifest.modelName() + " has no default video query: pass one in options");
    }
    int images = video ? DescribeRequest.VIDEO_FRAMES : 1;
    int[] ids = pipeline.promptIds(options, images, video);
    int length = pipeline.splicedLength(ids);
    if (length > manifest.dims().maxPositions()) {
      throw new InvalidInputException(
          "the prompt needs "
              + length
              + " positions but the model accepts "
              + manifest.dims().maxPositions()
              + ": shorten the query");
    }
    return ids;
  }

  /** The spliced prompt length of an image call; for tests. */
  int promptLengthForTest(GenerationOptions options) {
    return pipeline.splicedLength(pipeline.promptIds(options, 1, false));
  }

  @Override
  public GenerationOptions defaultOptions() {
    return defaults;
  }

  @Override
  public void close() {
    Lock write = lifecycle.writeLock();
    write.lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      if (batcher != null) {
        batcher.close();
      }
      if (segmenter != null) {
        segmenter.close();
      }
      pipeline.releaseBuffers();
      graphs.close();
    } finally {
      write.unlock();
    }
  }
}

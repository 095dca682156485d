package io.damjava.cli;

import io.damjava.api.Caption;
import io.damjava.api.DamImage;
import io.damjava.api.DescribeAnything;
import io.damjava.api.DescribeRequest;
import io.damjava.api.Device;
import io.damjava.api.GenerationOptions;
import io.damjava.api.ImageLimits;
import io.damjava.api.InvalidInputException;
import io.damjava.api.Mask;
import io.damjava.api.ModelLoadException;
import io.damjava.api.Region;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code dam describe}: one or more regions of an image, or one object through a video. */
@Command(
    name = "describe",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Describe regions of an image, or one object through 8 frames of a video.",
      "With one region the description streams to stdout as it is generated; several",
      "--mask/--box/... options are described in one batched call, one line each.",
      "",
      "Examples:",
      "  dam describe --model nvidia/DAM-3B --image photo.jpg --mask mask.png",
      "  dam describe --model models/DAM-3B --image photo.jpg \\",
      "      --mask a.png --mask b.png --json",
      "  dam describe --model models/DAM-3B --image photo.jpg --mask a.png \\",
      "      --output-image out.png",
      "  dam describe --model models/DAM-3B --image photo.jpg --box 40,30,200,180 \\",
      "      --segmenter models/sam",
      "  dam describe --model nvidia/DAM-3B-Video --video clip.mp4 --masks masks/",
      "  dam describe --model nvidia/DAM-3B-Video --video clip.mp4 --frame 0 \\",
      "      --box 40,30,200,180 --segmenter models/sam2.1-hiera-tiny --output-image out/",
      ""
    })
final class DescribeCommand implements Callable<Integer> {

  @Spec CommandLine.Model.CommandSpec spec;
  @ParentCommand DamCli parent;

  @Option(
      names = "--model",
      required = true,
      paramLabel = "DIR|HUB_ID",
      description =
          "A bundle directory written by `dam convert`, or a Hugging Face id"
              + " (nvidia/DAM-3B, nvidia/DAM-3B-Video[@rev]), downloaded and converted once"
              + " into $DAM_HOME/models; DAM_HOME defaults to ~/.cache/dam-java.")
  String model;

  @Option(names = "--image", paramLabel = "FILE", description = "The photo (PNG, JPEG, BMP, GIF).")
  Path image;

  @Option(
      names = "--mask",
      paramLabel = "PNG",
      description = "A region mask, same size as the photo (non-zero = inside). Repeatable.")
  List<Path> masks = new ArrayList<>();

  @Option(
      names = "--box",
      paramLabel = "x0,y0,x1,y1",
      description = "A region box in pixels (needs --segmenter). Repeatable.")
  List<String> boxes = new ArrayList<>();

  @Option(
      names = "--points",
      paramLabel = "x,y[;x,y...]",
      description =
          "Clicks on one object (needs --segmenter); x,y,0 is a negative click."
              + " Repeatable: one region per option.")
  List<String> points = new ArrayList<>();

  @Option(
      names = "--scribble",
      paramLabel = "PNG",
      description = "A brush stroke over the object (needs --segmenter). Repeatable.")
  List<Path> scribbles = new ArrayList<>();

  @Option(
      names = "--segmenter",
      paramLabel = "DIR",
      description =
          "A SAM or SAM 2.1 bundle: turns --box, --points and --scribble into masks. With"
              + " --video and --frame it must be SAM 2.1, which tracks the region.")
  Path segmenter;

  @Option(
      names = "--video",
      paramLabel = "FILE|DIR",
      description =
          "A folder of frames (sorted by name) or a video file (needs ffmpeg on the PATH);"
              + " 8 frames are picked evenly. Needs a DAM-3B-Video bundle.")
  Path video;

  @Option(
      names = "--frame",
      paramLabel = "N",
      description =
          "With --video: the frame (0-based) that --box, --points, --mask or --scribble is"
              + " drawn on (default 0); SAM 2.1 tracks it through every frame.")
  Integer frame;

  @Option(
      names = "--masks",
      paramLabel = "DIR",
      description = "With --video: the object's masks, one per picked frame (8) or one per frame.")
  Path videoMasks;

  @Option(
      names = "--query",
      paramLabel = "TEXT",
      description = "The question (default: the model's own).")
  String query;

  @Option(
      names = "--temperature",
      paramLabel = "T",
      description = "0 = greedy (default ${DEFAULT-VALUE}).")
  double temperature = GenerationOptions.DEFAULT_TEMPERATURE;

  @Option(
      names = "--top-p",
      paramLabel = "P",
      description = "Nucleus mass kept, in (0, 1] (default ${DEFAULT-VALUE}).")
  double topP = GenerationOptions.DEFAULT_TOP_P;

  @Option(
      names = "--top-k",
      paramLabel = "K",
      description =
          "Tokens kept by rank, 0 = off (default: the model's generation_config top_k, 50 when"
              + " it sets none).")
  int topK = GenerationOptions.MODEL_TOP_K;

  @Option(
      names = "--seed",
      paramLabel = "S",
      description = "Seed for reproducible sampling (default: random).")
  Long seed;

  @Option(
      names = "--max-new-tokens",
      paramLabel = "N",
      description = "Most tokens to generate (default ${DEFAULT-VALUE}).")
  int maxNewTokens = GenerationOptions.DEFAULT_MAX_NEW_TOKENS;

  @Option(
      names = "--json",
      description =
          "Print the caption as JSON instead of text (an array for several regions):"
              + " text, tokenIds, promptTokens, stopReason, timingsMs.")
  boolean json;

  @Option(
      names = "--output-image",
      paramLabel = "FILE|DIR",
      description =
          "Also write the photo with each region tinted and outlined (PNG). With --video and"
              + " --frame: a folder, given the 8 described frames with their masks"
              + " (frame_NNNNNN.png, the frame's index in the video).")
  Path outputImage;

  @Option(
      names = "--device",
      paramLabel = "cpu|cuda:N",
      description = "Where to run (default ${DEFAULT-VALUE}).")
  String device = "cpu";

  @Option(
      names = "--threads",
      paramLabel = "N",
      description = "Intra-op threads, 0 = runtime default (default ${DEFAULT-VALUE}).")
  int threads;

  @Option(
      names = "--max-image-pixels",
      paramLabel = "N",
      description =
          "Refuse an image or mask declaring more pixels (width x height) before decoding it"
              + " (default ${DEFAULT-VALUE}).")
  long maxImagePixels = ImageLimits.DEFAULT_MAX_PIXELS;

  @Option(
      names = "--max-frames",
      paramLabel = "N",
      description = "Refuse a video or frame folder with more frames (default ${DEFAULT-VALUE}).")
  int maxFrames = VideoInput.DEFAULT_MAX_FRAMES;

  ImageLimits limits;

  @Override
  public Integer call() throws IOException {
    PrintWriter out = spec.commandLine().getOut();
    if (maxImagePixels < 1 || maxFrames < VideoInput.FRAMES) {
      throw usage(
          "--max-image-pixels must be >= 1 and --max-frames >= "
              + VideoInput.FRAMES
              + ", got "
              + maxImagePixels
              + " and "
              + maxFrames);
    }
    limits = ImageLimits.ofMaxPixels(maxImagePixels);
    GenerationOptions options = options();
    Device dev = device();
    if (threads < 0) {
      throw usage("--threads must be >= 0 (0 = runtime default), got " + threads);
    }
    if (video != null) {
      return new VideoDescribe(this).run(out, options, dev);
    }
    if (videoMasks != null) {
      throw usage("--masks DIR goes with --video; for an image use --mask PNG");
    }
    if (image == null) {
      throw usage("give --image FILE (or --video FILE|DIR with --masks DIR)");
    }
    DamImage photo = DamImage.read(image, limits);
    List<Region> regions = regions();
    for (Region r : regions) {
      r.validateFor(photo.width(), photo.height());
    }
    checkSegmenter(regions);
    checkOutputImage();
    List<Mask> described;
    try (DescribeAnything dam = open(dev)) {
      // Segment once (one image encoding for every box, click and stroke), then describe the masks,
      // so the overlay shows exactly what was described.
      described = dam.segment(photo, regions);
      List<Region> maskRegions = described.stream().map(Region::mask).toList();
      List<Caption> captions;
      if (regions.size() == 1 && !json) {
        captions =
            List.of(
                dam.describe(
                    DescribeRequest.of(photo, maskRegions.get(0))
                        .options(options)
                        .listener(CaptionOutput.print(out))));
        out.println();
      } else {
        captions = dam.describe(photo, maskRegions, options);
        if (!json) {
          for (int i = 0; i < captions.size(); i++) {
            out.println("[" + (i + 1) + "] " + captions.get(i).text());
          }
        }
      }
      if (json) {
        out.println(CaptionOutput.toJson(captions));
      }
      out.flush();
    }
    if (outputImage != null) {
      RegionOverlay.write(photo, regions, described, outputImage);
    }
    return DamCli.OK;
  }

  CommandLine.ParameterException usage(String message) {
    return new CommandLine.ParameterException(spec.commandLine(), message);
  }

  private GenerationOptions options() {
    try {
      GenerationOptions.Builder b =
          GenerationOptions.builder()
              .temperature(temperature)
              .topP(topP)
              .topK(topK)
              .maxNewTokens(maxNewTokens);
      if (seed != null) {
        b.seed(seed);
      }
      if (query != null) {
        b.query(query);
      }
      return b.build();
    } catch (InvalidInputException e) {
      throw usage(e.getMessage());
    }
  }

  private Device device() {
    try {
      return Device.parse(device);
    } catch (InvalidInputException e) {
      throw usage("--device: " + e.getMessage());
    }
  }

  void checkSegmenter(List<Region> regions) {
    boolean needs = regions.stream().anyMatch(r -> !(r instanceof Region.MaskRegion));
    if (needs && segmenter == null) {
      throw new InvalidInputException(
          "--box, --points and --scribble need a segmenter to turn them into a mask: pass"
              + " --segmenter SAM_BUNDLE_DIR (see docs/segmentation.md), or give the region as"
              + " --mask PNG");
    }
    if (segmenter != null && !Files.isDirectory(segmenter)) {
      throw new ModelLoadException("--segmenter " + segmenter + ": no such folder");
    }
  }

  private void checkOutputImage() {
    if (outputImage == null) {
      return;
    }
    Path dir = outputImage.toAbsolutePath().getParent();
    if (dir == null || !Files.isDirectory(dir)) {
      throw new InvalidInputException(
          "--output-image " + outputImage + ": folder " + dir + " does not exist");
    }
    if (Files.isDirectory(outputImage)) {
      throw new InvalidInputException("--output-image " + outputImage + " is a folder");
    }
  }

  ImageLimits limits() {
    return limits != null ? limits : ImageLimits.ofMaxPixels(maxImagePixels);
  }

  List<Region> regions() {
    return new RegionArgs(this).regions();
  }

  DescribeAnything open(Device dev) {
    boolean bars = ConsoleProgress.bars(parent.env);
    PrintWriter err = spec.commandLine().getErr();
    Path bundle = new ModelResolver(parent.env, err, bars).resolve(model);
    DescribeAnything.Builder b =
        DescribeAnything.builder().model(bundle).device(dev).threads(threads);
    if (segmenter != null) {
      b.segmenter(segmenter);
    }
    return ConsoleProgress.timed(err, bars, "loading " + bundle.getFileName(), b::build);
  }
}

package io.damjava.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.damjava.api.Caption;
import io.damjava.api.DamImage;
import io.damjava.api.DescribeAnything;
import io.damjava.api.DescribeRequest;
import io.damjava.api.Device;
import io.damjava.api.GenerationOptions;
import io.damjava.api.InvalidInputException;
import io.damjava.api.Mask;
import io.damjava.api.Region;
import io.damjava.api.Timings;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code dam describe}: one or more regions of an image, or one object through a video. */
@Command(
    name = "describe",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Describe regions of an image (or an object through 8 video frames).",
      "The description streams to stdout as it is generated.",
      "",
      "Examples:",
      "  dam describe --model models/DAM-3B --image cat.jpg --mask cat-mask.png",
      "  dam describe --model models/DAM-3B --image cat.jpg --mask a.png --mask b.png --json",
      "  dam describe --model models/DAM-3B-Video --video frames/ --masks masks/"
    })
final class DescribeCommand implements Callable<Integer> {

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(
      names = "--model",
      required = true,
      paramLabel = "DIR",
      description = "A bundle directory written by `dam convert`.")
  Path model;

  @Option(names = "--image", paramLabel = "FILE", description = "The photo (PNG, JPEG, BMP, GIF).")
  Path image;

  @Option(
      names = "--mask",
      paramLabel = "PNG",
      description = "A region mask (non-zero pixels are inside). Repeat for several regions.")
  List<Path> masks = new ArrayList<>();

  @Option(
      names = "--box",
      paramLabel = "x0,y0,x1,y1",
      description = "A region box in pixels (needs a segmenter). Repeatable.")
  List<String> boxes = new ArrayList<>();

  @Option(
      names = "--points",
      paramLabel = "x,y[;x,y...]",
      description = "Clicks on the object (needs a segmenter); append ',0' for a negative click.")
  List<String> points = new ArrayList<>();

  @Option(
      names = "--scribble",
      paramLabel = "PNG",
      description = "A brush stroke over the object (needs a segmenter).")
  List<Path> scribbles = new ArrayList<>();

  @Option(
      names = "--segmenter",
      paramLabel = "DIR",
      description = "A SAM bundle, used for --box, --points and --scribble.")
  Path segmenter;

  @Option(
      names = "--video",
      paramLabel = "DIR",
      description = "A folder of frames (sorted by name); 8 are picked evenly.")
  Path video;

  @Option(
      names = "--masks",
      paramLabel = "DIR",
      description = "With --video: one mask per frame (same count as the frames) or exactly 8.")
  Path videoMasks;

  @Option(names = "--query", description = "The question (default: the model's).")
  String query;

  @Option(names = "--temperature", description = "0 = greedy (default ${DEFAULT-VALUE}).")
  double temperature = GenerationOptions.DEFAULT_TEMPERATURE;

  @Option(names = "--top-p", description = "Nucleus mass kept (default ${DEFAULT-VALUE}).")
  double topP = GenerationOptions.DEFAULT_TOP_P;

  @Option(
      names = "--top-k",
      description = "Tokens kept by rank, 0 = off (default ${DEFAULT-VALUE}).")
  int topK = GenerationOptions.DEFAULT_TOP_K;

  @Option(names = "--seed", description = "Seed for reproducible sampling.")
  Long seed;

  @Option(names = "--max-new-tokens", description = "Default ${DEFAULT-VALUE}.")
  int maxNewTokens = GenerationOptions.DEFAULT_MAX_NEW_TOKENS;

  @Option(names = "--json", description = "Print the captions as JSON instead of streaming text.")
  boolean json;

  @Option(
      names = "--output-image",
      paramLabel = "FILE",
      description = "Write the photo with each region tinted and outlined (PNG).")
  Path outputImage;

  @Option(names = "--device", description = "cpu (default) or cuda:N.")
  String device = "cpu";

  @Option(names = "--threads", description = "Intra-op threads, 0 = runtime default.")
  int threads;

  @Override
  public Integer call() throws IOException {
    PrintWriter out = spec.commandLine().getOut();
    GenerationOptions options = options();
    if (video != null) {
      return describeVideo(out, options);
    }
    if (image == null) {
      throw new InvalidInputException("give --image FILE (or --video DIR)");
    }
    DamImage photo = DamImage.read(image);
    List<Region> regions = regions();
    try (DescribeAnything dam = open()) {
      List<Caption> captions;
      if (regions.size() == 1 && !json) {
        captions =
            List.of(
                dam.describe(
                    DescribeRequest.of(photo, regions.get(0))
                        .options(options)
                        .listener(
                            delta -> {
                              out.print(delta);
                              out.flush();
                            })));
        out.println();
      } else {
        captions = dam.describe(photo, regions, options);
        if (!json) {
          for (int i = 0; i < captions.size(); i++) {
            out.println("[" + (i + 1) + "] " + captions.get(i).text());
          }
        }
      }
      if (json) {
        out.println(toJson(captions));
      }
      if (outputImage != null) {
        RegionOverlay.write(photo, masksForOverlay(regions, photo), outputImage);
      }
    }
    return DamCli.OK;
  }

  private int describeVideo(PrintWriter out, GenerationOptions options) throws IOException {
    if (videoMasks == null) {
      throw new InvalidInputException("--video needs --masks DIR: one mask per frame");
    }
    VideoInput input = VideoInput.load(video, videoMasks);
    try (DescribeAnything dam = open()) {
      DescribeRequest request =
          DescribeRequest.video(input.frames(), input.masks()).options(options);
      if (!json) {
        request =
            request.listener(
                delta -> {
                  out.print(delta);
                  out.flush();
                });
      }
      Caption c = dam.describe(request);
      out.println(json ? toJson(List.of(c)) : "");
    }
    return DamCli.OK;
  }

  private GenerationOptions options() {
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
  }

  private DescribeAnything open() {
    if (!Files.isDirectory(model)) {
      throw new io.damjava.api.ModelLoadException(
          "model directory not found: "
              + model
              + " (convert a checkpoint first: dam convert --checkpoint DIR --out "
              + model
              + ")");
    }
    DescribeAnything.Builder b =
        DescribeAnything.builder().model(model).device(Device.parse(device)).threads(threads);
    if (segmenter != null) {
      b.segmenter(segmenter);
    }
    return b.build();
  }

  List<Region> regions() {
    List<Region> regions = new ArrayList<>();
    for (Path m : masks) {
      regions.add(Region.mask(Mask.read(m)));
    }
    for (String b : boxes) {
      double[] v = numbers("--box", b, 4);
      regions.add(Region.box(v[0], v[1], v[2], v[3]));
    }
    for (String p : points) {
      List<Region.Point> pts = new ArrayList<>();
      for (String one : p.split(";")) {
        String[] parts = one.trim().split(",");
        if (parts.length != 2 && parts.length != 3) {
          throw new InvalidInputException("--points: expected x,y or x,y,label, got '" + one + "'");
        }
        double[] v = numbers("--points", one, parts.length);
        pts.add(new Region.Point(v[0], v[1], parts.length == 2 || v[2] != 0));
      }
      regions.add(Region.points(pts));
    }
    for (Path s : scribbles) {
      regions.add(Region.scribble(Mask.read(s)));
    }
    if (regions.isEmpty()) {
      throw new InvalidInputException(
          "give a region: --mask PNG, --box x0,y0,x1,y1, --points x,y or --scribble PNG");
    }
    return regions;
  }

  private static double[] numbers(String flag, String text, int n) {
    String[] parts = text.trim().split(",");
    if (parts.length != n) {
      throw new InvalidInputException(
          flag + ": expected " + n + " comma-separated numbers, got '" + text + "'");
    }
    double[] v = new double[n];
    for (int i = 0; i < n; i++) {
      try {
        v[i] = Double.parseDouble(parts[i].trim());
      } catch (NumberFormatException e) {
        throw new InvalidInputException(flag + ": '" + parts[i].trim() + "' is not a number", e);
      }
    }
    return v;
  }

  private static List<Mask> masksForOverlay(List<Region> regions, DamImage photo) {
    List<Mask> out = new ArrayList<>();
    for (Region r : regions) {
      if (r instanceof Region.MaskRegion m) {
        out.add(m.mask());
      } else if (r instanceof Region.BoxRegion b) {
        out.add(RegionOverlay.boxMask(b, photo.width(), photo.height()));
      }
    }
    return out;
  }

  static String toJson(List<Caption> captions) {
    ObjectMapper mapper = new ObjectMapper();
    ArrayNode arr = mapper.createArrayNode();
    for (Caption c : captions) {
      ObjectNode o = arr.addObject();
      o.put("text", c.text());
      ArrayNode ids = o.putArray("tokenIds");
      for (int id : c.tokenIds()) {
        ids.add(id);
      }
      o.put("stopReason", c.stopReason().name());
      Timings t = c.timings();
      ObjectNode tm = o.putObject("timingsMs");
      tm.put("preprocess", t.preprocess().toNanos() / 1e6);
      tm.put("vision", t.vision().toNanos() / 1e6);
      tm.put("prefill", t.prefill().toNanos() / 1e6);
      tm.put("decode", t.decode().toNanos() / 1e6);
      tm.put("total", t.total().toNanos() / 1e6);
    }
    return (captions.size() == 1 ? arr.get(0) : arr).toPrettyString();
  }
}

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
import io.damjava.api.VideoMasks;
import io.damjava.api.VideoRegion;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@code --video} half of {@link DescribeCommand}: 8 picked frames with {@code --masks DIR}, or
 * one region on {@code --frame N} that a SAM 2.1 segmenter tracks through the whole video.
 */
final class VideoDescribe {
  private final DescribeCommand c;

  VideoDescribe(DescribeCommand command) {
    this.c = command;
  }

  int run(PrintWriter out, GenerationOptions options, Device dev) throws IOException {
    boolean annotated =
        !c.boxes.isEmpty() || !c.points.isEmpty() || !c.scribbles.isEmpty() || !c.masks.isEmpty();
    if (c.videoMasks == null && (annotated || c.frame != null)) {
      return tracked(out, options, dev);
    }
    if (c.frame != null) {
      throw c.usage("--frame N goes with a region drawn on that frame, not with --masks DIR");
    }
    if (c.image != null
        || !c.masks.isEmpty()
        || !c.boxes.isEmpty()
        || !c.points.isEmpty()
        || !c.scribbles.isEmpty()) {
      throw c.usage(
          "--video takes its region from --masks DIR; --image, --mask, --box, --points and"
              + " --scribble are for images");
    }
    if (c.outputImage != null) {
      throw c.usage("--output-image works with --image only");
    }
    if (c.videoMasks == null) {
      throw c.usage(
          "--video needs a region: --masks DIR (the object's mask in each picked frame), or"
              + " --frame N with --box, --points, --mask or --scribble and a SAM 2.1 --segmenter");
    }
    VideoInput input = VideoInput.load(c.video, c.videoMasks, c.parent.env, c.limits, c.maxFrames);
    try (DescribeAnything dam = c.open(dev)) {
      DescribeRequest request =
          DescribeRequest.video(input.frames(), input.masks()).options(options);
      if (!c.json) {
        request = request.listener(CaptionOutput.print(out));
      }
      Caption caption = dam.describe(request);
      out.println(c.json ? CaptionOutput.toJson(List.of(caption)) : "");
      out.flush();
    }
    return DamCli.OK;
  }

  /** One region on one frame, tracked by SAM 2.1 through the whole video, then described. */
  private int tracked(PrintWriter out, GenerationOptions options, Device dev) throws IOException {
    if (c.image != null) {
      throw c.usage("--video and --image exclude each other");
    }
    List<Region> regions = c.regions();
    if (regions.size() != 1) {
      throw c.usage(
          "--video with --frame takes exactly one region (--box, --points, --mask or --scribble),"
              + " got "
              + regions.size());
    }
    if (c.segmenter == null) {
      throw c.usage(
          "--video with --frame needs --segmenter DIR, a SAM 2.1 bundle (dam convert --from"
              + " facebook/sam2.1-hiera-tiny) that tracks the region through the video");
    }
    c.checkSegmenter(regions);
    if (c.outputImage != null && Files.isRegularFile(c.outputImage)) {
      throw new InvalidInputException(
          "--output-image " + c.outputImage + " is a file: with --video give a folder");
    }
    int at = c.frame != null ? c.frame : 0;
    PrintWriter err = c.spec.commandLine().getErr();
    boolean bars = ConsoleProgress.bars(c.parent.env);
    return VideoInput.withFrames(
        c.video,
        c.parent.env,
        c.limits,
        c.maxFrames,
        src -> {
          VideoRegion region = new VideoRegion(src, at, regions.get(0));
          List<DamImage> frames = new ArrayList<>();
          VideoMasks used;
          try (DescribeAnything dam = c.open(dev)) {
            used =
                ConsoleProgress.timed(
                    err,
                    bars,
                    "tracking through " + src.size() + " frames",
                    () -> dam.segmentVideo(region));
            for (int f : used.frames()) {
              frames.add(src.frame(f));
            }
            DescribeRequest request = DescribeRequest.video(frames, used.masks()).options(options);
            if (!c.json) {
              request = request.listener(CaptionOutput.print(out));
            }
            Caption caption = dam.describe(request);
            if (c.json) {
              ObjectNode o =
                  (ObjectNode) new ObjectMapper().readTree(CaptionOutput.toJson(List.of(caption)));
              ArrayNode picked = o.putArray("frames");
              for (int f : used.frames()) {
                picked.add(f);
              }
              out.println(o.toPrettyString());
            } else {
              out.println();
            }
            out.flush();
          }
          if (c.outputImage != null) {
            Files.createDirectories(c.outputImage);
            int[] idx = used.frames();
            for (int i = 0; i < idx.length; i++) {
              Mask m = used.masks().get(i);
              List<Region> drawn = idx[i] == at ? List.of(regions.get(0)) : List.of(Region.mask(m));
              RegionOverlay.write(
                  frames.get(i),
                  drawn,
                  List.of(m),
                  c.outputImage.resolve(String.format("frame_%06d.png", idx[i])));
            }
          }
          return DamCli.OK;
        });
  }
}

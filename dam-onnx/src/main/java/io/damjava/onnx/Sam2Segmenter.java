package io.damjava.onnx;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.damjava.api.DamImage;
import io.damjava.api.DescribeRequest;
import io.damjava.api.FrameSource;
import io.damjava.api.InvalidInputException;
import io.damjava.api.Mask;
import io.damjava.api.Region;
import io.damjava.api.VideoFrames;
import io.damjava.api.VideoMasks;
import io.damjava.api.VideoRegion;
import io.damjava.onnx.sam2.Sam2Model;
import io.damjava.onnx.sam2.Sam2Numerics;
import io.damjava.onnx.sam2.Sam2VideoPredictor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * SAM 2.1 as DAM's segmenter, over a {@link Sam2Model}.
 *
 * <p>Still image: each box, click set or scribble is a prompt on a one-frame video, so the mask is
 * what the video predictor gives its annotated frame (multimask best IoU for one click, the
 * single-mask token with the dynamic-stability fallback otherwise), upsampled to the image and
 * thresholded at 0. The image is encoded once per call.
 *
 * <p>Video ({@link #track}): the annotation on one frame becomes the conditioning memory; the
 * object is tracked to the last frame, then back to frame 0, one frame at a time; only the 8 picked
 * frames' low-res logits are kept, so memory is flat in the video length. Each refinement then adds
 * a conditioning memory on its frame and tracks again from there, both ways.
 */
public final class Sam2Segmenter implements RegionSegmenter {
  private final Sam2Model model;

  private Sam2Segmenter(Sam2Model model) {
    this.model = model;
  }

  /** Opens a SAM 2.1 bundle ({@code sam2-bundle.json}); {@code options} are not closed here. */
  public static Sam2Segmenter load(
      Path dir, OrtEnvironment env, OrtSession.SessionOptions options) {
    return new Sam2Segmenter(Sam2Model.load(dir, env, options));
  }

  @Override
  public List<Mask> masks(DamImage image, List<Region> regions) {
    int w = image.width();
    int h = image.height();
    Mask[] out = new Mask[regions.size()];
    boolean prompts = false;
    for (int i = 0; i < out.length; i++) {
      Region r = regions.get(i);
      r.validateFor(w, h);
      if (r instanceof Region.MaskRegion mr) {
        out[i] = mr.mask();
      } else {
        prompts = true;
      }
    }
    if (prompts) {
      int s = model.params().imageSize();
      float[] px = Sam2Pixels.pixelValues(image.rgb(), w, h, s);
      try (Sam2VideoPredictor p = model.predictor(1, f -> px)) {
        for (int i = 0; i < out.length; i++) {
          if (out[i] == null) {
            out[i] = mask(prompt(p, 0, regions.get(i), w, h).lowRes(), h, w);
            if (out[i].isEmpty()) {
              throw new InvalidInputException(
                  "the segmenter found nothing for "
                      + regions.get(i)
                      + ": its mask is empty; pass another prompt or a mask");
            }
          }
        }
      }
    }
    return List.of(out);
  }

  /**
   * Tracks the annotated object through the whole video and returns the {@value
   * DescribeRequest#VIDEO_FRAMES} frames picked evenly ({@link VideoFrames#pick}) with their masks.
   *
   * @throws InvalidInputException if the region does not fit the annotated frame, frames differ in
   *     size, or the tracked mask is empty on a picked frame
   */
  public VideoMasks track(VideoRegion v) {
    return track(v, () -> false);
  }

  /** Thrown by {@link #track(VideoRegion, BooleanSupplier)} when its flag is set. */
  static final class Cancelled extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Cancelled() {
      super("tracking cancelled", null, false, false);
    }
  }

  /**
   * As {@link #track(VideoRegion)}, checking {@code cancelled} before every frame.
   *
   * @throws Cancelled when {@code cancelled} turns true
   */
  VideoMasks track(VideoRegion v, BooleanSupplier cancelled) {
    FrameSource src = v.frames();
    int n = src.size();
    int a = v.frame();
    DamImage annotated = src.frame(a);
    int w = annotated.width();
    int h = annotated.height();
    validate(a, v.region(), w, h);
    for (VideoRegion.Refinement r : v.refinements()) {
      validate(r.frame(), r.region(), w, h); // all prompts are checked before any model work
    }
    int s = model.params().imageSize();
    int[] picks = VideoFrames.pick(n, DescribeRequest.VIDEO_FRAMES);
    Map<Integer, float[]> kept = new HashMap<>();
    for (int f : picks) {
      kept.put(f, null);
    }
    try (Sam2VideoPredictor p =
        model.predictor(
            n,
            f -> {
              if (cancelled.getAsBoolean()) {
                throw new Cancelled();
              }
              DamImage im = f == a ? annotated : src.frame(f);
              if (im.width() != w || im.height() != h) {
                throw new InvalidInputException(
                    "frame "
                        + f
                        + " is "
                        + im.width()
                        + "x"
                        + im.height()
                        + " but frame "
                        + a
                        + " is "
                        + w
                        + "x"
                        + h
                        + ": every frame of a video must have one size");
              }
              return Sam2Pixels.pixelValues(im.rgb(), w, h, s);
            })) {
      List<VideoRegion.Refinement> steps = new ArrayList<>();
      steps.add(new VideoRegion.Refinement(a, v.region()));
      steps.addAll(v.refinements());
      for (VideoRegion.Refinement step : steps) {
        prompt(p, step.frame(), step.region(), w, h);
        for (boolean reverse : new boolean[] {false, true}) {
          p.propagate(
              reverse,
              fr -> {
                if (kept.containsKey(fr.frame())) {
                  kept.put(fr.frame(), fr.lowRes());
                }
              });
        }
      }
    }
    List<Mask> masks = new ArrayList<>();
    List<Integer> empty = new ArrayList<>();
    for (int f : picks) {
      Mask m = mask(kept.get(f), h, w);
      if (m.isEmpty()) {
        empty.add(f);
      }
      masks.add(m);
    }
    if (!empty.isEmpty()) {
      throw new InvalidInputException(
          "the tracked mask is empty on picked frame"
              + (empty.size() > 1 ? "s " : " ")
              + empty
              + " of "
              + n
              + " (the object left the view or SAM 2.1 lost it), and DAM cannot describe an empty"
              + " mask: trim the video to where the object is visible, annotate it more clearly,"
              + " or give 8 masks yourself");
    }
    return new VideoMasks(picks, masks);
  }

  private static void validate(int f, Region r, int w, int h) {
    try {
      r.validateFor(w, h);
    } catch (InvalidInputException e) {
      throw new InvalidInputException("frame " + f + ": " + e.getMessage(), e);
    }
  }

  private Sam2VideoPredictor.Frame prompt(Sam2VideoPredictor p, int f, Region r, int w, int h) {
    if (r instanceof Region.BoxRegion b) {
      return p.addPrompt(
          f,
          null,
          null,
          new float[] {(float) b.x0(), (float) b.y0(), (float) b.x1(), (float) b.y1()},
          w,
          h);
    }
    if (r instanceof Region.MaskRegion m) {
      boolean[] bits = new boolean[w * h];
      byte[] v = m.mask().toBytes();
      for (int i = 0; i < bits.length; i++) {
        bits[i] = v[i] != 0;
      }
      return p.addMask(f, Sam2Numerics.promptMask(bits, h, w, model.params().imageSize()));
    }
    List<float[]> xy = new ArrayList<>();
    List<Integer> labels = new ArrayList<>();
    if (r instanceof Region.PointsRegion pr) {
      for (Region.Point q : pr.points()) {
        xy.add(new float[] {(float) q.x(), (float) q.y()});
        labels.add(q.positive() ? 1 : 0);
      }
    } else if (r instanceof Region.ScribbleRegion sr) {
      for (int[] q : ScribblePoints.choose(sr.stroke())) {
        xy.add(new float[] {q[0], q[1]});
        labels.add(1);
      }
    }
    int[] lab = labels.stream().mapToInt(Integer::intValue).toArray();
    return p.addPrompt(f, xy.toArray(new float[0][]), lab, null, w, h);
  }

  private Mask mask(float[] low, int h, int w) {
    int side = model.params().imageSize() / 4;
    return Mask.of(Sam2Numerics.videoMask(low, side, h, w), w, h);
  }

  @Override
  public void close() {
    model.close();
  }
}

package io.damjava.bench;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.damjava.api.DamImage;
import io.damjava.api.FrameSource;
import io.damjava.onnx.Sam2Pixels;
import io.damjava.onnx.sam2.Sam2Model;
import io.damjava.onnx.sam2.Sam2VideoPredictor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code ./dam bench sam2}: SAM 2.1 propagation speed and memory. One click on frame 0 of a video
 * of {@code --frames N} frames (the 14 committed frames of tools/reference/sam2/frames, cycled),
 * then forward propagation; every frame is timed from its pixels (read and resized in the loop) to
 * its memory. Prints one JSON object: the prompt frame's ms, the median and mean ms of the tracked
 * frames after {@code --warmup}, frames per second, RSS (VmRSS) every {@code --rss-every} frames,
 * and the memory bank's size at the end. tools/reference/sam2/bench_sam2_reference.py is the
 * PyTorch side on the same checkpoint, frames and threads.
 *
 * <pre>
 * ./dam bench sam2 --bundle DIR [--frames 16] [--threads 2] [--warmup 2] [--rss-every 10]
 * </pre>
 */
public final class Sam2Bench {
  private Sam2Bench() {}

  public static void main(String[] args) throws IOException, OrtException {
    Path bundle = null;
    Path frames = Path.of("tools/reference/sam2/frames");
    int n = 16;
    int threads = 2;
    int warmup = 2;
    int rssEvery = 10;
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (a.equals("--help") || a.equals("-h") || i + 1 >= args.length) {
        System.out.println(
            "usage: dam bench sam2 --bundle DIR [--frames N] [--threads T] [--warmup W]"
                + " [--rss-every K] [--frame-folder DIR]");
        System.exit(a.equals("--help") || a.equals("-h") ? 0 : 2);
      }
      String v = args[++i];
      switch (a) {
        case "--bundle" -> bundle = Path.of(v);
        case "--frames" -> n = Integer.parseInt(v);
        case "--threads" -> threads = Integer.parseInt(v);
        case "--warmup" -> warmup = Integer.parseInt(v);
        case "--rss-every" -> rssEvery = Integer.parseInt(v);
        case "--frame-folder" -> frames = Path.of(v);
        default -> {
          System.err.println("dam bench sam2: unknown option " + a);
          System.exit(2);
        }
      }
    }
    if (bundle == null) {
      System.err.println("dam bench sam2: --bundle DIR (a SAM 2.1 bundle) is required");
      System.exit(2);
    }
    FrameSource src = FrameSource.folder(frames);
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    List<Long> rss = new ArrayList<>();
    List<Double> ms = new ArrayList<>();
    double promptMs;
    int bankSize;
    int spatial;
    Map<String, Double> afterPrompt;
    Map<String, Double> atEnd;
    long t0;
    try (OrtSession.SessionOptions o = new OrtSession.SessionOptions();
        Sam2Model model = load(bundle, env, o, threads)) {
      int s = model.params().imageSize();
      int count = src.size();
      try (Sam2VideoPredictor p =
          model.predictor(
              n,
              f -> {
                DamImage im = src.frame(f % count);
                return Sam2Pixels.pixelValues(im.rgb(), im.width(), im.height(), s);
              })) {
        DamImage first = src.frame(0);
        t0 = System.nanoTime();
        p.addPrompt(
            0,
            new float[][] {{first.width() * 0.2f, first.height() * 0.5f}},
            new int[] {1},
            null,
            first.width(),
            first.height());
        promptMs = (System.nanoTime() - t0) / 1e6;
        afterPrompt = p.graphSeconds();
        long[] last = {System.nanoTime()};
        int every = rssEvery;
        p.propagate(
            false,
            fr -> {
              if (fr.frame() == 0) {
                last[0] = System.nanoTime();
                rss.add(rssKb());
                return;
              }
              long now = System.nanoTime();
              ms.add((now - last[0]) / 1e6);
              last[0] = now;
              if (fr.frame() % every == 0) {
                rss.add(rssKb());
              }
            });
        atEnd = p.graphSeconds();
        bankSize = p.bank().size();
        spatial = p.bank().spatialSize();
      }
    }
    List<Double> timed = ms.subList(Math.min(warmup, ms.size()), ms.size());
    List<Double> sorted = new ArrayList<>(timed);
    sorted.sort(null);
    double median = sorted.isEmpty() ? 0 : sorted.get(sorted.size() / 2);
    double mean = timed.stream().mapToDouble(Double::doubleValue).average().orElse(0);
    StringBuilder stages = new StringBuilder(); // mean ms per tracked frame inside each graph
    for (Map.Entry<String, Double> e : atEnd.entrySet()) {
      double per = (e.getValue() - afterPrompt.get(e.getKey())) * 1000 / Math.max(1, ms.size());
      stages.append(stages.length() > 0 ? ", " : "");
      stages.append(String.format(Locale.ROOT, "\"%s\": %.1f", e.getKey(), per));
    }
    StringBuilder r = new StringBuilder();
    for (int i = 0; i < rss.size(); i++) {
      r.append(i > 0 ? ", " : "").append(rss.get(i) / 1024);
    }
    System.out.printf(
        Locale.ROOT,
        "{\"impl\": \"dam-java\", \"bundle\": \"%s\", \"frames\": %d, \"threads\": %d,"
            + " \"prompt_ms\": %.1f, \"tracked_median_ms\": %.1f, \"tracked_mean_ms\": %.1f,"
            + " \"fps\": %.3f, \"timed_frames\": %d, \"rss_mb_every_%d\": [%s],"
            + " \"bank_entries\": %d, \"bank_spatial\": %d, \"graph_ms_per_tracked_frame\": {%s}}%n",
        bundle.getFileName(),
        n,
        threads,
        promptMs,
        median,
        mean,
        mean > 0 ? 1000 / mean : 0,
        timed.size(),
        rssEvery,
        r,
        bankSize,
        spatial,
        stages);
  }

  private static Sam2Model load(
      Path bundle, OrtEnvironment env, OrtSession.SessionOptions o, int threads)
      throws OrtException {
    o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
    o.setIntraOpNumThreads(threads);
    o.setInterOpNumThreads(1);
    return Sam2Model.load(bundle, env, o);
  }

  private static long rssKb() {
    try {
      for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (l.startsWith("VmRSS:")) {
          return Long.parseLong(l.replaceAll("[^0-9]", ""));
        }
      }
    } catch (IOException | NumberFormatException e) {
      return -1;
    }
    return -1;
  }
}

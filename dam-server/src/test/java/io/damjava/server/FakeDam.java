package io.damjava.server;

import io.damjava.api.Caption;
import io.damjava.api.DamImage;
import io.damjava.api.DescribeAnything;
import io.damjava.api.DescribeRequest;
import io.damjava.api.GenerationOptions;
import io.damjava.api.InvalidInputException;
import io.damjava.api.Region;
import io.damjava.api.StopReason;
import io.damjava.api.Timings;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A stand-in engine whose caption is a pure function of the request (frame count, mask areas,
 * query, options), streamed word by word with a delay, so protocol tests can check that every
 * client gets exactly its own answer. Honours cancellation before every word, like the engine.
 */
final class FakeDam implements DescribeAnything {
  final AtomicInteger cancelled = new AtomicInteger();
  final AtomicInteger running = new AtomicInteger();
  final AtomicInteger maxRunning = new AtomicInteger();
  final java.util.concurrent.atomic.AtomicReference<GenerationOptions> lastOptions =
      new java.util.concurrent.atomic.AtomicReference<>();
  private final long wordDelayMs;

  FakeDam(long wordDelayMs) {
    this.wordDelayMs = wordDelayMs;
  }

  static String expected(DescribeRequest r) {
    StringBuilder sb = new StringBuilder();
    sb.append(r.isVideo() ? "video" : "image");
    for (Region region : r.regions()) {
      if (region instanceof Region.MaskRegion m) {
        sb.append(" area ").append(m.mask().area());
      } else {
        sb.append(" region ").append(region.getClass().getSimpleName());
      }
    }
    GenerationOptions o = r.options().orElse(GenerationOptions.defaults());
    sb.append(" t ").append(o.temperature()).append(" p ").append(o.topP());
    sb.append(" q ").append(o.query().orElse("default"));
    return sb.toString();
  }

  @Override
  public Caption describe(DescribeRequest r) {
    lastOptions.set(r.options().orElse(null));
    for (Region region : r.regions()) {
      DamImage f = r.frames().get(0);
      region.validateFor(f.width(), f.height());
      if (!(region instanceof Region.MaskRegion)) {
        throw new InvalidInputException("no segmenter configured");
      }
    }
    int now = running.incrementAndGet();
    maxRunning.accumulateAndGet(now, Math::max);
    try {
      String[] words = expected(r).split(" ");
      List<Integer> ids = new ArrayList<>();
      StringBuilder text = new StringBuilder();
      int max = r.options().orElse(GenerationOptions.defaults()).maxNewTokens();
      for (int i = 0; i < words.length; i++) {
        if (r.cancellation().map(c -> c.isCancelled()).orElse(false)) {
          cancelled.incrementAndGet();
          return new Caption(text.toString(), toArray(ids), 7, StopReason.CANCELLED, Timings.ZERO);
        }
        if (ids.size() == max) {
          return new Caption(text.toString(), toArray(ids), 7, StopReason.MAX_TOKENS, Timings.ZERO);
        }
        String piece = (i == 0 ? "" : " ") + words[i];
        text.append(piece);
        ids.add(i + 3);
        r.listener().ifPresent(l -> l.onText(piece));
        sleep();
      }
      return new Caption(text.toString(), toArray(ids), 7, StopReason.EOS, Timings.ZERO);
    } finally {
      running.decrementAndGet();
    }
  }

  private void sleep() {
    if (wordDelayMs > 0) {
      try {
        Thread.sleep(wordDelayMs);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private static int[] toArray(List<Integer> l) {
    return l.stream().mapToInt(Integer::intValue).toArray();
  }

  @Override
  public List<Caption> describe(DamImage image, List<Region> regions, GenerationOptions options) {
    return regions.stream()
        .map(r -> describe(DescribeRequest.of(image, r).options(options)))
        .toList();
  }

  @Override
  public List<io.damjava.api.Mask> segment(DamImage image, List<Region> regions) {
    return regions.stream().map(r -> ((Region.MaskRegion) r).mask()).toList();
  }

  @Override
  public GenerationOptions defaultOptions() {
    return GenerationOptions.defaults();
  }

  @Override
  public void close() {}
}

package io.damjava.bench.fuzz;

import io.damjava.api.Caption;
import io.damjava.api.DamImage;
import io.damjava.api.DescribeAnything;
import io.damjava.api.DescribeRequest;
import io.damjava.api.GenerationOptions;
import io.damjava.api.InvalidInputException;
import io.damjava.api.Mask;
import io.damjava.api.Region;
import io.damjava.api.StopReason;
import io.damjava.api.Timings;
import java.util.List;

/**
 * A stand-in engine for fuzzing the server's request handling: it validates regions as the engine
 * does and answers with the mask areas, so only the HTTP and parsing layers are under test.
 */
final class FuzzDam implements DescribeAnything {
  @Override
  public Caption describe(DescribeRequest r) {
    StringBuilder sb = new StringBuilder("area");
    for (int i = 0; i < r.regions().size(); i++) {
      Region region = r.regions().get(i);
      DamImage f = r.frames().get(Math.min(i, r.frames().size() - 1));
      region.validateFor(f.width(), f.height());
      if (!(region instanceof Region.MaskRegion m)) {
        throw new InvalidInputException("box and point regions need a segmenter");
      }
      sb.append(' ').append(m.mask().area());
    }
    String text = sb.toString();
    r.listener().ifPresent(l -> l.onText(text));
    return new Caption(text, new int[] {3, 4}, StopReason.EOS, Timings.ZERO);
  }

  @Override
  public List<Caption> describe(DamImage image, List<Region> regions, GenerationOptions options) {
    return regions.stream()
        .map(reg -> describe(DescribeRequest.of(image, reg).options(options)))
        .toList();
  }

  @Override
  public List<Mask> segment(DamImage image, List<Region> regions) {
    throw new InvalidInputException("no segmenter");
  }

  @Override
  public GenerationOptions defaultOptions() {
    return GenerationOptions.defaults();
  }

  @Override
  public void close() {}
}

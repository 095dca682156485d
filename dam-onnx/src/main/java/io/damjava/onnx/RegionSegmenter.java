package io.damjava.onnx;

import io.damjava.api.DamImage;
import io.damjava.api.Mask;
import io.damjava.api.Region;
import java.util.List;

/**
 * Turns image regions into masks: {@link Segmenter} (SAM) or {@link Sam2Segmenter} (SAM 2.1).
 * Thread-safe; {@link #close()} frees the sessions once.
 */
public interface RegionSegmenter extends AutoCloseable {
  /**
   * One mask per region, in order: a mask region as given, every other region through the model.
   *
   * @throws io.damjava.api.InvalidInputException for a region that does not fit the image or a
   *     prompt whose mask is empty
   */
  List<Mask> masks(DamImage image, List<Region> regions);

  @Override
  void close();
}

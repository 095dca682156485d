package io.damjava.onnx;

import io.damjava.onnx.bundle.BundleManifest;
import java.util.Random;

/**
 * Stand-ins for one projected image in the decoder tests: {@code imageTokens x hidden} standard
 * normal floats, the rows {@link EmbeddingSplicer} puts at a {@code <image>} placeholder. The same
 * seed gives the same image, so a batched run and its run alone see the same rows.
 */
final class RandomImages {
  private RandomImages() {}

  /** One image's embeddings for a bundle's dims, from {@code new Random(seed)}. */
  static float[] images(BundleManifest m, int seed) {
    BundleManifest.Dims d = m.dims();
    float[] x = new float[d.imageTokens() * d.hidden()];
    Random r = new Random(seed);
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) r.nextGaussian();
    }
    return x;
  }
}

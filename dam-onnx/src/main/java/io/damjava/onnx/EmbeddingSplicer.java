package io.damjava.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtSession;
import io.damjava.onnx.bundle.BundleManifest;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.Map;

/**
 * Prompt ids + image embeddings → the decoder's input embeddings, as the reference's {@code
 * prepare_inputs_labels_for_multimodal}: the text ids (placeholders replaced by 0) go through the
 * embed_tokens graph, then every placeholder's row is replaced by the next image's I rows.
 *
 * <pre>
 * ids (T) with k placeholders, images (k, I, H) --> embeds (1, T - k + k*I, H), direct buffer
 * </pre>
 */
final class EmbeddingSplicer {
  private final Graphs g;
  private final int imageTokens; // I
  private final int hidden; // H
  private final int placeholder; // -200

  EmbeddingSplicer(Graphs g, BundleManifest.Dims d, int placeholder) {
    this.g = g;
    this.imageTokens = d.imageTokens();
    this.hidden = d.hidden();
    this.placeholder = placeholder;
  }

  /** The spliced length of a prompt. */
  int length(int[] ids) {
    int k = 0;
    for (int id : ids) {
      k += id == placeholder ? 1 : 0;
    }
    return ids.length - k + k * imageTokens;
  }

  /**
   * @param images (B, I, H) float32, all regions' embeddings
   * @param first index of the first image of this prompt in {@code images}
   * @return (1, L, H) float32, the caller's to close
   */
  OffHeap splice(int[] ids, float[] images, int first) {
    OffHeap spliced = OffHeap.floats((long) length(ids) * hidden);
    FloatBuffer out = spliced.floats();
    BundleManifest.GraphSpec es = g.specs.embedTokens();
    try (OffHeap idHeap = OffHeap.longs(ids.length); // (1, T) int64
        OnnxTensor t = Tensors.of(g.env, ids(idHeap.longs(), ids), 1, ids.length);
        OrtSession.Result r =
            Graphs.run(g.embedTokens, "embedTokens", Map.of(es.input("ids"), t))) {
      FloatBuffer text = Graphs.output(r, es.output("embeds"), "embedTokens").getFloatBuffer();
      int image = first;
      int rowsPerImage = imageTokens * hidden;
      for (int i = 0; i < ids.length; i++) {
        if (ids[i] == placeholder) {
          out.put(images, image++ * rowsPerImage, rowsPerImage);
        } else {
          out.put(text.duplicate().position(i * hidden).limit((i + 1) * hidden));
        }
      }
    } catch (RuntimeException e) {
      spliced.close();
      throw e;
    }
    out.rewind();
    return spliced;
  }

  /** The prompt's ids into {@code buf}, placeholders as 0 (their rows are replaced). */
  private LongBuffer ids(LongBuffer buf, int[] ids) {
    for (int i = 0; i < ids.length; i++) {
      buf.put(i, ids[i] == placeholder ? 0 : ids[i]);
    }
    return buf;
  }
}

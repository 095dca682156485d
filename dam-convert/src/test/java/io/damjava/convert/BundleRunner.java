package io.damjava.convert;

import ai.onnxruntime.OrtException;
import io.damjava.convert.Ort.T;
import io.damjava.onnx.bundle.BundleManifest;
import io.damjava.onnx.bundle.ManifestIo;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Runs the five graphs of a bundle the way the engine will (test-side twin). */
final class BundleRunner implements AutoCloseable {
  final BundleManifest m;
  final Ort context;
  final Ort focal;
  final Ort projector;
  final Ort embed;
  final Ort decoder;

  BundleRunner(Path bundle) throws OrtException {
    m = ManifestIo.read(bundle);
    context = new Ort(bundle.resolve(m.graphs().visionContext().file()));
    focal = new Ort(bundle.resolve(m.graphs().visionFocal().file()));
    projector = new Ort(bundle.resolve(m.graphs().projector().file()));
    embed = new Ort(bundle.resolve(m.graphs().embedTokens().file()));
    decoder = new Ort(bundle.resolve(m.graphs().decoder().file()));
  }

  int hidden() {
    return m.dims().hidden();
  }

  float[] visionContext(float[] pixels, int batch) throws OrtException {
    int s = m.dims().imageSize();
    return context
        .run(Map.of("pixel_values", T.f(pixels, batch, 4, s, s)))
        .get("context_features")
        .f();
  }

  float[] visionFocal(float[] pixels, float[] ctx, int batch) throws OrtException {
    int s = m.dims().imageSize();
    return focal
        .run(
            Map.of(
                "pixel_values", T.f(pixels, batch, 4, s, s),
                "context_features",
                    T.f(ctx, batch, m.dims().visionTokens(), m.dims().visionHidden())))
        .get("focal_features")
        .f();
  }

  float[] project(float[] features, int batch) throws OrtException {
    return projector
        .run(
            Map.of(
                "image_features",
                T.f(features, batch, m.dims().visionTokens(), m.dims().visionHidden())))
        .get("image_embeds")
        .f();
  }

  float[] embed(long[] ids) throws OrtException {
    return embed.run(Map.of("input_ids", T.l(ids, 1, ids.length))).get("inputs_embeds").f();
  }

  /** Prompt ids with -200 placeholders replaced by the image embeddings, in order. */
  float[] splice(long[] ids, float[] images) throws OrtException {
    int h = hidden();
    int per = m.dims().imageTokens() * h;
    long[] safe = ids.clone();
    int n = 0;
    for (int i = 0; i < safe.length; i++) {
      if (safe[i] == -200) {
        safe[i] = 0;
        n++;
      }
    }
    float[] e = embed(safe);
    float[] out = new float[(ids.length - n) * h + n * per];
    int o = 0;
    int img = 0;
    for (int i = 0; i < ids.length; i++) {
      if (ids[i] == -200) {
        System.arraycopy(images, img * per, out, o, per);
        o += per;
        img++;
      } else {
        System.arraycopy(e, i * h, out, o, h);
        o += h;
      }
    }
    return out;
  }

  /** KV state of a sequence. */
  final class State {
    Map<String, T> past = new HashMap<>();
    int length;

    State() {
      long[] shape = {1, m.dims().kvHeads(), 0, m.dims().headDim()};
      for (int l = 0; l < m.dims().layers(); l++) {
        past.put(String.format("past_key_values.%d.key", l), T.f(new float[0], shape));
        past.put(String.format("past_key_values.%d.value", l), T.f(new float[0], shape));
      }
    }

    /** Feeds embeddings [T*H], returns last logits. */
    float[] step(float[] embeds) throws OrtException {
      int t = embeds.length / hidden();
      Map<String, T> in = new HashMap<>(past);
      in.put("inputs_embeds", T.f(embeds, 1, t, hidden()));
      long[] mask = new long[length + t];
      java.util.Arrays.fill(mask, 1);
      in.put("attention_mask", T.l(mask, 1, mask.length));
      long[] pos = new long[t];
      for (int i = 0; i < t; i++) {
        pos[i] = length + i;
      }
      in.put("position_ids", T.l(pos, 1, t));
      Map<String, T> out = decoder.run(in);
      for (int l = 0; l < m.dims().layers(); l++) {
        past.put(
            String.format("past_key_values.%d.key", l),
            out.get(String.format("present.%d.key", l)));
        past.put(
            String.format("past_key_values.%d.value", l),
            out.get(String.format("present.%d.value", l)));
      }
      length += t;
      return out.get("logits").f();
    }
  }

  static int argmax(float[] v) {
    int b = 0;
    for (int i = 1; i < v.length; i++) {
      if (v[i] > v[b]) {
        b = i;
      }
    }
    return b;
  }

  @Override
  public void close() throws OrtException {
    for (Ort o : List.of(context, focal, projector, embed, decoder)) {
      o.close();
    }
  }
}

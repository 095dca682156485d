package io.damjava.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxTensorLike;
import io.damjava.onnx.bundle.BundleManifest;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * The decoder's input and output names, and the maps of one in-place run: the cache tensors (key,
 * value per layer, as {@link KvSlots} orders them) as the {@code past_key_values.*} inputs and as
 * the pinned {@code present.*} outputs.
 */
final class InPlaceIo {
  final String embeds;
  final String mask;
  final String positions;
  final String logits;
  final Set<String> logitsOnly;
  private final String[] pastKey;
  private final String[] pastValue;
  private final String[] presentKey;
  private final String[] presentValue;

  InPlaceIo(BundleManifest.GraphSpec d, int layers) {
    embeds = d.input("embeds");
    mask = d.input("attentionMask");
    positions = d.input("positionIds");
    logits = d.output("logits");
    logitsOnly = Set.of(logits);
    pastKey = new String[layers];
    pastValue = new String[layers];
    presentKey = new String[layers];
    presentValue = new String[layers];
    for (int i = 0; i < layers; i++) {
      pastKey[i] = String.format(d.input("pastKey"), i);
      pastValue[i] = String.format(d.input("pastValue"), i);
      presentKey[i] = String.format(d.output("presentKey"), i);
      presentValue[i] = String.format(d.output("presentValue"), i);
    }
  }

  /** Embeds, mask, positions and the cache as past. */
  Map<String, OnnxTensorLike> inputs(
      OnnxTensorLike e, OnnxTensor m, OnnxTensor pos, OnnxTensor[] kvs) {
    Map<String, OnnxTensorLike> in = new HashMap<>();
    in.put(embeds, e);
    in.put(mask, m);
    in.put(positions, pos);
    for (int i = 0; i < pastKey.length; i++) {
      in.put(pastKey[i], kvs[2 * i]);
      in.put(pastValue[i], kvs[2 * i + 1]);
    }
    return in;
  }

  /** The cache as the pinned presents (a mutable map: callers may pin more). */
  Map<String, OnnxTensor> pinned(OnnxTensor[] kvs) {
    Map<String, OnnxTensor> out = new HashMap<>();
    for (int i = 0; i < presentKey.length; i++) {
      out.put(presentKey[i], kvs[2 * i]);
      out.put(presentValue[i], kvs[2 * i + 1]);
    }
    return out;
  }
}

package io.damjava.bench;

import ai.onnxruntime.OrtSession;
import io.damjava.onnx.EngineStages;
import java.nio.FloatBuffer;
import java.util.List;

/**
 * One region through vision, splice and prefill, timed as {@link JavaStages} and {@link
 * DeviceCheck} report it: vision of the region (one warm-up, then {@code reps} timed runs), its
 * rows spliced into the default prompt, then prefill of that prompt with the logits copied out (one
 * warm-up, then {@code reps} timed runs).
 *
 * @param embeds the spliced prompt's embeddings (rewind before feeding them again)
 * @param length the spliced prompt's length
 * @param visionMs ms of each timed vision run, sorted
 * @param prefillMs ms of each timed prefill run, sorted
 */
record PrefillStage(FloatBuffer embeds, int length, double[] visionMs, double[] prefillMs) {

  static PrefillStage run(EngineStages e, Object region, int reps) {
    List<Object> one = List.of(region);
    e.vision(one); // warm-up
    double[] vision = JavaStages.sortedMs(reps, 1, () -> e.vision(one));
    int[] ids = e.defaultPromptIds();
    int length = e.splicedLength(ids);
    FloatBuffer embeds = e.splice(ids, e.vision(one));
    Runnable prefill =
        () -> {
          try (OrtSession.Result r = e.prefill(embeds.rewind(), length)) {
            e.logits(r);
          }
        };
    prefill.run(); // warm-up
    return new PrefillStage(embeds, length, vision, JavaStages.sortedMs(reps, 1, prefill));
  }
}

package io.damjava.onnx;

import ai.onnxruntime.OnnxTensor;

/**
 * Past tensors made by {@link EngineStages#randomPast}; owns them. A benchmark seam (dam-bench),
 * not part of the stable API, which is dam-api.
 */
public final class StageKv implements AutoCloseable {
  final OnnxTensor[] keys;
  final OnnxTensor[] values;

  StageKv(OnnxTensor[] keys, OnnxTensor[] values) {
    this.keys = keys;
    this.values = values;
  }

  @Override
  public void close() {
    for (int i = 0; i < keys.length; i++) {
      keys[i].close();
      values[i].close();
    }
  }
}

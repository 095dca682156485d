package io.damjava.convert;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/** Minimal ONNX Runtime runner for tests: float/long arrays in, float arrays out. */
final class Ort implements AutoCloseable {
  static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();

  /** A tensor: data plus shape. */
  record T(float[] f, long[] l, long[] shape) {
    static T f(float[] d, long... shape) {
      return new T(d, null, shape);
    }

    static T l(long[] d, long... shape) {
      return new T(null, d, shape);
    }
  }

  private final OrtSession session;

  Ort(Path model) throws OrtException {
    OrtSession.SessionOptions o = new OrtSession.SessionOptions();
    o.setIntraOpNumThreads(1);
    o.setInterOpNumThreads(1);
    this.session = ENV.createSession(model.toString(), o);
  }

  OrtSession session() {
    return session;
  }

  /** Runs and returns every output as (data, shape). */
  Map<String, T> run(Map<String, T> inputs) throws OrtException {
    Map<String, OnnxTensor> in = new HashMap<>();
    try {
      for (var e : inputs.entrySet()) {
        T t = e.getValue();
        in.put(
            e.getKey(),
            t.f() != null
                ? OnnxTensor.createTensor(ENV, FloatBuffer.wrap(t.f()), t.shape())
                : OnnxTensor.createTensor(ENV, LongBuffer.wrap(t.l()), t.shape()));
      }
      Map<String, T> out = new LinkedHashMap<>();
      try (OrtSession.Result r = session.run(in)) {
        for (Map.Entry<String, OnnxValue> e : r) {
          OnnxTensor t = (OnnxTensor) e.getValue();
          long[] shape = t.getInfo().getShape();
          FloatBuffer fb = t.getFloatBuffer();
          float[] d = new float[fb.remaining()];
          fb.get(d);
          out.put(e.getKey(), T.f(d, shape));
        }
      }
      return out;
    } finally {
      in.values().forEach(OnnxTensor::close);
    }
  }

  @Override
  public void close() throws OrtException {
    session.close();
  }
}

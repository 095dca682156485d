package io.damjava.convert;

import io.damjava.convert.onnx.OnnxProto.GraphProto;
import io.damjava.convert.onnx.OnnxProto.ModelProto;
import io.damjava.convert.onnx.OnnxProto.OperatorSetIdProto;
import io.damjava.convert.onnx.OnnxProto.StringStringEntryProto;
import io.damjava.convert.onnx.OnnxProto.TensorProto;
import io.damjava.convert.onnx.OnnxProto.TensorShapeProto;
import io.damjava.convert.onnx.OnnxProto.TypeProto;
import io.damjava.convert.onnx.OnnxProto.ValueInfoProto;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The protobuf encoding behind {@link OnnxBuilder}, none of it tied to one graph's state: value
 * infos, tensor headers and external-data references, little-endian raw bytes of float32, float16
 * and int64 values, and the model envelope (IR version, producer, opsets).
 */
final class OnnxProtos {
  private OnnxProtos() {}

  /** A tensor value info; dims are Long/Integer (fixed) or String (symbolic). */
  static ValueInfoProto valueInfo(String name, int elemType, Object... dims) {
    TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
    for (Object d : dims) {
      TensorShapeProto.Dimension.Builder db = TensorShapeProto.Dimension.newBuilder();
      if (d instanceof String s) {
        db.setDimParam(s);
      } else {
        db.setDimValue(((Number) d).longValue());
      }
      shape.addDim(db);
    }
    return ValueInfoProto.newBuilder()
        .setName(name)
        .setType(
            TypeProto.newBuilder()
                .setTensorType(TypeProto.Tensor.newBuilder().setElemType(elemType).setShape(shape)))
        .build();
  }

  /** Throws unless the dims' product is {@code n}. */
  static void check(String name, int n, long... dims) {
    long p = 1;
    for (long d : dims) {
      p *= d;
    }
    if (p != n) {
      throw new IllegalArgumentException(name + ": " + n + " values for dims product " + p);
    }
  }

  /** A tensor's name, element type and dims; its data still to be set. */
  static TensorProto.Builder tensor(String name, int elemType, long... dims) {
    TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(elemType);
    for (long d : dims) {
      t.addDims(d);
    }
    return t;
  }

  /** Points {@code t} at {@code length} bytes at {@code offset} of the data file {@code file}. */
  static void external(TensorProto.Builder t, String file, long offset, long length) {
    t.setDataLocation(TensorProto.DataLocation.EXTERNAL)
        .addExternalData(kv("location", file))
        .addExternalData(kv("offset", Long.toString(offset)))
        .addExternalData(kv("length", Long.toString(length)));
  }

  private static StringStringEntryProto kv(String k, String v) {
    return StringStringEntryProto.newBuilder().setKey(k).setValue(v).build();
  }

  /** Little-endian float32 bytes. */
  static ByteBuffer floatBytes(float[] v) {
    ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    b.asFloatBuffer().put(v);
    return b;
  }

  /** Little-endian float16 bytes (values rounded to nearest even). */
  static ByteBuffer halfBytes(float[] v) {
    ByteBuffer b = ByteBuffer.allocate(v.length * 2).order(ByteOrder.LITTLE_ENDIAN);
    for (float x : v) {
      b.putShort(Half.fromFloat(x));
    }
    b.flip();
    return b;
  }

  /** Little-endian int64 bytes. */
  static ByteBuffer longBytes(long[] v) {
    ByteBuffer b = ByteBuffer.allocate(v.length * 8).order(ByteOrder.LITTLE_ENDIAN);
    b.asLongBuffer().put(v);
    return b;
  }

  /** The model around a graph: IR 8, opset 17 and com.microsoft 1. */
  static ModelProto model(GraphProto.Builder graph) {
    return ModelProto.newBuilder()
        .setIrVersion(8)
        .setProducerName("dam-java")
        .setProducerVersion("0.1")
        .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(17))
        .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain(OnnxBuilder.MS).setVersion(1))
        .setGraph(graph)
        .build();
  }
}

package io.damjava.convert;

import com.google.protobuf.ByteString;
import io.damjava.convert.onnx.OnnxProto.AttributeProto;
import io.damjava.convert.onnx.OnnxProto.GraphProto;
import io.damjava.convert.onnx.OnnxProto.ModelProto;
import io.damjava.convert.onnx.OnnxProto.NodeProto;
import io.damjava.convert.onnx.OnnxProto.TensorProto;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A small ONNX graph builder. Large initializers are streamed, tensor by tensor, into an external
 * data file ({@code <graph>.onnx.data}, or one shared by several graphs: {@link ExternalData}; each
 * tensor 4096-byte aligned), so the weights never sit on the heap together; small constants are
 * stored inline. Value names are generated deterministically, so the same calls give the same
 * bytes.
 */
public final class OnnxBuilder implements AutoCloseable {
  /** ONNX element types used here. */
  public static final int FLOAT = TensorProto.DataType.FLOAT_VALUE;

  public static final int UINT8 = TensorProto.DataType.UINT8_VALUE;
  public static final int INT8 = TensorProto.DataType.INT8_VALUE;
  public static final int INT32 = TensorProto.DataType.INT32_VALUE;
  public static final int INT64 = TensorProto.DataType.INT64_VALUE;
  public static final int BOOL = TensorProto.DataType.BOOL_VALUE;
  public static final int FLOAT16 = TensorProto.DataType.FLOAT16_VALUE;

  static final int INLINE_LIMIT = 1024;
  static final String MS = "com.microsoft";

  /** A node attribute. */
  public record A(AttributeProto proto) {
    public static A i(String name, long v) {
      return new A(
          AttributeProto.newBuilder()
              .setName(name)
              .setType(AttributeProto.AttributeType.INT)
              .setI(v)
              .build());
    }

    public static A f(String name, float v) {
      return new A(
          AttributeProto.newBuilder()
              .setName(name)
              .setType(AttributeProto.AttributeType.FLOAT)
              .setF(v)
              .build());
    }

    public static A ints(String name, long... v) {
      AttributeProto.Builder b =
          AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
      for (long x : v) {
        b.addInts(x);
      }
      return new A(b.build());
    }
  }

  private final Path onnxFile;
  private final boolean fp16Weights;
  private final ExternalData data;
  private final boolean ownsData;
  private final GraphProto.Builder graph;
  private final List<NodeProto.Builder> nodes = new ArrayList<>();
  private boolean fp16Compute;
  private final Map<String, String> renames = new HashMap<>();
  private int counter;
  private long parameters;

  /**
   * Starts a graph.
   *
   * @param onnxFile the .onnx file to write; the data file goes next to it
   * @param fp16Weights store float weights as float16 (a Cast node widens them in the graph)
   */
  public OnnxBuilder(Path onnxFile, boolean fp16Weights) throws IOException {
    this(
        onnxFile,
        fp16Weights,
        new ExternalData(onnxFile.resolveSibling(onnxFile.getFileName() + ".data")),
        true);
  }

  /**
   * Starts a graph whose large initializers go to a data file shared with other graphs (the caller
   * closes it after the last graph is saved).
   */
  OnnxBuilder(Path onnxFile, boolean fp16Weights, ExternalData shared) {
    this(onnxFile, fp16Weights, shared, false);
  }

  private OnnxBuilder(Path onnxFile, boolean fp16Weights, ExternalData data, boolean ownsData) {
    this.onnxFile = onnxFile;
    this.fp16Weights = fp16Weights;
    this.data = data;
    this.ownsData = ownsData;
    String name = onnxFile.getFileName().toString().replace(".onnx", "");
    this.graph = GraphProto.newBuilder().setName(name);
  }

  /**
   * Makes this graph compute in float16: {@link #weight} then returns the float16 initializer
   * itself (no widening Cast), {@link #act()} is FLOAT16 and {@link #actScalar} gives float16
   * constants. Needs float16 weight storage.
   */
  public OnnxBuilder fp16Compute() {
    if (!fp16Weights) {
      throw new IllegalStateException("float16 compute needs float16 weight storage");
    }
    fp16Compute = true;
    return this;
  }

  /** Whether activations are float16. */
  public boolean isFp16Compute() {
    return fp16Compute;
  }

  /** The element type of activations: FLOAT16 when computing in float16, else FLOAT. */
  public int act() {
    return fp16Compute ? FLOAT16 : FLOAT;
  }

  /** A scalar in the activation type. */
  public String actScalar(float v) {
    return fp16Compute ? constH(new long[0], v) : scalar(v);
  }

  /** x (float32) cast to the activation type; x itself when computing in float32. */
  public String toAct(String x) {
    return fp16Compute ? op("Cast", List.of(x), A.i("to", FLOAT16)) : x;
  }

  /** x (activation type) cast to float32; x itself when computing in float32. */
  public String toF32(String x) {
    return fp16Compute ? op("Cast", List.of(x), A.i("to", FLOAT)) : x;
  }

  /** The data file's name (relative to the .onnx file). */
  public String dataFileName() {
    return data.fileName();
  }

  /** Adds to the parameter count (for weights written with {@link #raw}). */
  public void countParameters(long n) {
    parameters += n;
  }

  /** Number of weight elements written so far. */
  public long parameters() {
    return parameters;
  }

  private String fresh(String hint) {
    return hint + "_" + (counter++);
  }

  // ---- graph inputs and outputs ----

  /** Declares a graph input; dims are Long/Integer (fixed) or String (symbolic). */
  public String input(String name, int elemType, Object... dims) {
    graph.addInput(OnnxProtos.valueInfo(name, elemType, dims));
    return name;
  }

  /** Declares a graph output, renaming the value that produces it. */
  public void output(String value, String name, int elemType, Object... dims) {
    if (!value.equals(name)) {
      renames.put(value, name);
    }
    graph.addOutput(OnnxProtos.valueInfo(name, elemType, dims));
  }

  // ---- initializers ----

  /**
   * A float weight, written to the data file (as float16 when the graph stores fp16 weights, then
   * widened by a Cast node unless the graph computes in float16). Returns the value name, in the
   * activation type.
   */
  public String weight(String name, float[] values, long... dims) throws IOException {
    OnnxProtos.check(name, values.length, dims);
    parameters += values.length;
    if (!fp16Weights) {
      return external(name, FLOAT, OnnxProtos.floatBytes(values), dims);
    }
    String raw = external(name, FLOAT16, OnnxProtos.halfBytes(values), dims);
    return fp16Compute ? raw : op("Cast", List.of(raw), A.i("to", FLOAT));
  }

  /** A float weight always stored as float32 (norm weights, tables). */
  public String weightF32(String name, float[] values, long... dims) throws IOException {
    OnnxProtos.check(name, values.length, dims);
    parameters += values.length;
    return external(name, FLOAT, OnnxProtos.floatBytes(values), dims);
  }

  /** Raw little-endian bytes of any element type, written to the data file. */
  public String raw(String name, int elemType, ByteBuffer bytes, long... dims) throws IOException {
    return external(name, elemType, bytes, dims);
  }

  private String external(String name, int elemType, ByteBuffer bytes, long... dims)
      throws IOException {
    TensorProto.Builder t = OnnxProtos.tensor(name, elemType, dims);
    if (bytes.remaining() <= INLINE_LIMIT) {
      t.setRawData(ByteString.copyFrom(bytes));
    } else {
      ExternalData.Slot s = data.put(name, elemType, bytes);
      if (s.reused() && (elemType == FLOAT || elemType == FLOAT16)) {
        parameters -=
            s.length() / (elemType == FLOAT ? 4 : 2); // counted by the graph that wrote it
      }
      OnnxProtos.external(t, data.fileName(), s.offset(), s.length());
    }
    graph.addInitializer(t);
    return name;
  }

  /** An inline float constant. */
  public String constF(long[] dims, float... v) {
    return inline(FLOAT, dims, OnnxProtos.floatBytes(v));
  }

  /** An inline float16 constant (values rounded to nearest even). */
  public String constH(long[] dims, float... v) {
    return inline(FLOAT16, dims, OnnxProtos.halfBytes(v));
  }

  /** A float scalar. */
  public String scalar(float v) {
    return constF(new long[0], v);
  }

  /** An inline int64 1-D constant. */
  public String ints(long... v) {
    return constI64(new long[] {v.length}, v);
  }

  /** An inline int64 constant with the given dims. */
  public String constI64(long[] dims, long... v) {
    return inline(INT64, dims, OnnxProtos.longBytes(v));
  }

  /** An inline constant under a fresh name. */
  private String inline(int elemType, long[] dims, ByteBuffer bytes) {
    TensorProto.Builder t = OnnxProtos.tensor(fresh("c"), elemType, dims);
    t.setRawData(ByteString.copyFrom(bytes));
    graph.addInitializer(t);
    return t.getName();
  }

  // ---- nodes ----

  /** A default-domain node with one output. */
  public String op(String type, List<String> in, A... attrs) {
    return node("", type, 1, in, attrs)[0];
  }

  /** A node with several outputs ("" outputs are left unnamed). */
  public String[] node(String domain, String type, int outputs, List<String> in, A... attrs) {
    NodeProto.Builder n =
        NodeProto.newBuilder().setOpType(type).setDomain(domain).setName(fresh(type));
    n.addAllInput(in);
    String[] out = new String[outputs];
    for (int i = 0; i < outputs; i++) {
      out[i] = fresh(type.toLowerCase(java.util.Locale.ROOT));
      n.addOutput(out[i]);
    }
    for (A a : attrs) {
      n.addAttribute(a.proto());
    }
    nodes.add(n);
    return out;
  }

  /** A com.microsoft node with one output. */
  public String ms(String type, List<String> in, A... attrs) {
    return node(MS, type, 1, in, attrs)[0];
  }

  // ---- common helpers ----

  public String add(String a, String b) {
    return op("Add", List.of(a, b));
  }

  public String mul(String a, String b) {
    return op("Mul", List.of(a, b));
  }

  public String matmul(String a, String b) {
    return op("MatMul", List.of(a, b));
  }

  public String reshape(String x, long... shape) {
    return op("Reshape", List.of(x, ints(shape)));
  }

  public String transpose(String x, long... perm) {
    return op("Transpose", List.of(x), A.ints("perm", perm));
  }

  /** Writes the .onnx file and closes the data file (unless it is shared). */
  public void save() throws IOException {
    if (ownsData) {
      data.close();
    }
    for (NodeProto.Builder n : nodes) {
      for (int i = 0; i < n.getInputCount(); i++) {
        String r = renames.get(n.getInput(i));
        if (r != null) {
          n.setInput(i, r);
        }
      }
      for (int i = 0; i < n.getOutputCount(); i++) {
        String r = renames.get(n.getOutput(i));
        if (r != null) {
          n.setOutput(i, r);
        }
      }
      graph.addNode(n);
    }
    ModelProto model = OnnxProtos.model(graph);
    try (OutputStream os = Files.newOutputStream(onnxFile)) {
      model.writeTo(os);
    }
  }

  @Override
  public void close() throws IOException {
    if (ownsData) {
      data.close();
    }
  }
}

package io.damjava.api;

/**
 * Where the model runs. CPU is the default; CUDA needs the GPU build of ONNX Runtime and CUDA 12
 * libraries on the machine.
 *
 * <pre>{@code
 * DescribeAnything.builder().model(dir).device(Device.cuda(0)).build();
 * }</pre>
 *
 * @param kind CPU or CUDA
 * @param index the CUDA device ordinal; 0 for CPU
 */
public record Device(Kind kind, int index) {

  /** The execution provider family. */
  public enum Kind {
    CPU,
    CUDA
  }

  private static final Device CPU = new Device(Kind.CPU, 0);

  public Device {
    if (kind == null) {
      throw new InvalidInputException("device kind must not be null");
    }
    if (index < 0 || (kind == Kind.CPU && index != 0)) {
      throw new InvalidInputException("invalid device index " + index + " for " + kind);
    }
  }

  public static Device cpu() {
    return CPU;
  }

  public static Device cuda(int index) {
    return new Device(Kind.CUDA, index);
  }

  /** Parses {@code cpu}, {@code cuda} or {@code cuda:N}. */
  public static Device parse(String text) {
    String t = text == null ? "" : text.trim().toLowerCase(java.util.Locale.ROOT);
    if (t.equals("cpu")) {
      return CPU;
    }
    if (t.equals("cuda")) {
      return cuda(0);
    }
    if (t.startsWith("cuda:")) {
      try {
        return cuda(Integer.parseInt(t.substring(5)));
      } catch (NumberFormatException e) {
        // fall through to the message below
      }
    }
    throw new InvalidInputException("unknown device '" + text + "': use cpu, cuda or cuda:N");
  }

  @Override
  public String toString() {
    return kind == Kind.CPU ? "cpu" : "cuda:" + index;
  }
}

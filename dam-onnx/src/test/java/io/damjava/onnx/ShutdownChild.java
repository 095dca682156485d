package io.damjava.onnx;

import io.damjava.api.DescribeAnything;
import io.damjava.api.DescribeRequest;
import io.damjava.api.Device;
import io.damjava.api.spi.EngineConfig;
import java.nio.file.Path;
import java.util.Optional;

/** Describes in a loop until killed; prints "ready" once the first caption is out. */
final class ShutdownChild {
  private ShutdownChild() {}

  public static void main(String[] args) {
    try (DescribeAnything dam =
        OnnxDescribeAnything.load(
            new EngineConfig(
                Path.of(args[0]), Optional.empty(), Device.cpu(), false, 2, EngineTest.GREEDY),
            ByteTokenizer::load)) {
      var image = EngineTest.randomImage(100, 80, 1);
      var region = EngineTest.regions().get(1);
      for (long i = 0; ; i++) {
        dam.describe(DescribeRequest.of(image, region).options(EngineTest.GREEDY));
        if (i == 0) {
          System.out.println("ready");
          System.out.flush();
        }
      }
    }
  }
}

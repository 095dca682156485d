package io.damjava.onnx;

import io.damjava.api.DescribeAnything;
import io.damjava.api.DescribeRequest;
import io.damjava.api.Device;
import io.damjava.api.InferenceException;
import io.damjava.api.spi.EngineConfig;
import java.nio.file.Path;
import java.util.Optional;

/** Describes in a loop until killed; prints "ready" once the first caption is out. */
final class ShutdownChild {
  private ShutdownChild() {}

  private static void parkUntilExit() {
    while (true) {
      try {
        Thread.sleep(60_000);
      } catch (InterruptedException ignored) {
        // only the JVM's exit ends this thread
      }
    }
  }

  public static void main(String[] args) {
    try (DescribeAnything dam =
        OnnxDescribeAnything.load(
            new EngineConfig(
                Path.of(args[0]), Optional.empty(), Device.cpu(), false, 2, EngineTest.GREEDY),
            ByteTokenizer::load)) {
      var image = EngineTest.randomImage(100, 80, 1);
      var region = EngineTest.regions().get(1);
      for (long i = 0; ; i++) {
        try {
          dam.describe(DescribeRequest.of(image, region).options(EngineTest.GREEDY));
        } catch (InferenceException e) {
          if (!String.valueOf(e.getMessage()).contains("the JVM is stopping")) {
            throw e;
          }
          // the typed refusal a call gets once SIGTERM has arrived: wait for the JVM's own exit
          // (status 143), as an application would, instead of racing it with main's status 1
          parkUntilExit();
        }
        if (i == 0) {
          System.out.println("ready");
          System.out.flush();
        }
      }
    }
  }
}

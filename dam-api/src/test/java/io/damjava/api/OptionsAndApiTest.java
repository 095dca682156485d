package io.damjava.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class OptionsAndApiTest {

  private static void fails(String expected, Executable call) {
    InvalidInputException e = assertThrows(InvalidInputException.class, call);
    assertTrue(
        e.getMessage().contains(expected),
        "message '" + e.getMessage() + "' lacks '" + expected + "'");
  }

  @Test
  void defaultsFollowTheReference() {
    GenerationOptions d = GenerationOptions.defaults();
    assertEquals(0.2, d.temperature());
    assertEquals(0.5, d.topP());
    assertEquals(GenerationOptions.MODEL_TOP_K, d.topK()); // the engine applies the model's
    assertEquals(512, d.maxNewTokens());
    assertTrue(d.seed().isEmpty());
    assertFalse(d.greedy());
    assertTrue(d.withTemperature(0).greedy());
  }

  @Test
  void everyBadOptionNamesTheFieldAndValue() {
    var b = GenerationOptions.builder();
    fails(
        "temperature must be a finite number >= 0 (0 = greedy), got -0.1",
        () -> b.temperature(-0.1).build());
    fails("temperature", () -> GenerationOptions.builder().temperature(Double.NaN).build());
    fails("topP must be in (0, 1], got 0.0", () -> GenerationOptions.builder().topP(0).build());
    fails("topP must be in (0, 1], got 1.5", () -> GenerationOptions.builder().topP(1.5).build());
    fails("topK must be >= 0", () -> GenerationOptions.builder().topK(-2).build());
    fails(
        "maxNewTokens must be >= 1, got 0",
        () -> GenerationOptions.builder().maxNewTokens(0).build());
    fails("query must not be blank", () -> GenerationOptions.builder().query("  ").build());
  }

  @Test
  void optionsAreValuesAndWithersCopy() {
    GenerationOptions a = GenerationOptions.builder().seed(7).query("What colour is it?").build();
    GenerationOptions b = a.withMaxNewTokens(16);
    assertEquals(512, a.maxNewTokens());
    assertEquals(16, b.maxNewTokens());
    assertEquals(a.seed(), b.seed());
    assertEquals(a, a.toBuilder().build());
  }

  @Test
  void captionCopiesItsTokenIds() {
    int[] ids = {5, 6};
    Caption c = new Caption("a cat", ids, StopReason.EOS, Timings.ZERO);
    ids[0] = 9;
    assertEquals(5, c.tokenIds()[0]);
    c.tokenIds()[1] = 9;
    assertEquals(6, c.tokenIds()[1]);
    assertEquals(2, c.tokenCount());
    assertEquals(new Caption("a cat", new int[] {5, 6}, StopReason.EOS, Timings.ZERO), c);
  }

  @Test
  void timingsRejectNulls() {
    assertThrows(
        NullPointerException.class,
        () -> new Timings(null, Duration.ZERO, Duration.ZERO, Duration.ZERO, Duration.ZERO));
  }

  @Test
  void deviceParsing() {
    assertEquals(Device.cpu(), Device.parse("CPU"));
    assertEquals(Device.cuda(0), Device.parse("cuda"));
    assertEquals(Device.cuda(3), Device.parse("cuda:3"));
    assertEquals("cuda:3", Device.cuda(3).toString());
    fails("unknown device 'gpu'", () -> Device.parse("gpu"));
    fails("unknown device 'cuda:x'", () -> Device.parse("cuda:x"));
    fails("invalid device index -1", () -> Device.cuda(-1));
  }

  @Test
  void cancellationIsSticky() {
    Cancellation c = new Cancellation();
    assertFalse(c.isCancelled());
    c.cancel();
    c.cancel();
    assertTrue(c.isCancelled());
  }

  @Test
  void builderWithoutEngineSaysWhichArtifactToAdd() {
    // dam-api's own tests have no engine on the class path.
    ModelLoadException e =
        assertThrows(
            ModelLoadException.class,
            () -> DescribeAnything.builder().model(Path.of("models/DAM-3B")).build());
    assertTrue(e.getMessage().contains("io.damjava:dam-onnx"), e.getMessage());
  }

  @Test
  void builderRequiresAModelAndSaneThreads() {
    fails("model(Path) is required", () -> DescribeAnything.builder().build());
    fails("threads must be >= 0", () -> DescribeAnything.builder().threads(-2));
  }
}

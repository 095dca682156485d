package io.damjava.onnx;

import io.damjava.api.ModelLoadException;
import java.nio.file.Path;

/** Loads the bundle's tokenizer file. */
final class TextTokenizers {
  private TextTokenizers() {}

  /**
   * The production tokenizer. dam-tokenizer has not published its API yet; until it does, loading a
   * bundle through the service provider fails here with a clear message.
   */
  static TextTokenizer load(Path file) {
    throw new ModelLoadException(
        "cannot load tokenizer "
            + file
            + ": the SentencePiece tokenizer (dam-tokenizer) is not wired into dam-onnx yet");
  }
}

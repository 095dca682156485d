package io.damjava.onnx;

import io.damjava.api.InvalidBundleException;
import io.damjava.api.ModelLoadException;
import io.damjava.tokenizer.IncrementalDetokenizer;
import io.damjava.tokenizer.PromptBuilder;
import io.damjava.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Path;

/** Loads the bundle's tokenizer file with dam-tokenizer and adapts it to {@link TextTokenizer}. */
final class TextTokenizers {
  private TextTokenizers() {}

  /** {@code tokenizer.model} (SentencePiece) or {@code tokenizer.json}, by file name. */
  static TextTokenizer load(Path file) {
    Tokenizer tok;
    try {
      tok = Tokenizer.load(file);
    } catch (IOException e) {
      throw new ModelLoadException("cannot read tokenizer " + file + ": " + e.getMessage(), e);
    } catch (RuntimeException e) {
      throw new InvalidBundleException("bad tokenizer " + file + ": " + e.getMessage(), e);
    }
    return new Adapter(tok, new PromptBuilder(tok));
  }

  /** dam-tokenizer behind the engine's seam; immutable. */
  private record Adapter(Tokenizer tok, PromptBuilder chunks) implements TextTokenizer {
    @Override
    public int[] encodeWithBos(String text) {
      return chunks.encodeChunk(text);
    }

    @Override
    public String decode(int[] ids) {
      return tok.decode(ids, true);
    }

    @Override
    public Stream newStream() {
      IncrementalDetokenizer d = new IncrementalDetokenizer(tok);
      return new Stream() {
        @Override
        public String push(int id) {
          return d.accept(id);
        }

        @Override
        public String finish() {
          return d.finish();
        }
      };
    }
  }
}

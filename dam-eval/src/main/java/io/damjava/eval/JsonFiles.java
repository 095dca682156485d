package io.damjava.eval;

import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.damjava.api.InvalidInputException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** Reading and atomically rewriting the JSON files a run keeps (outputs, judge cache, results). */
final class JsonFiles {
  static final ObjectMapper JSON = new ObjectMapper();
  private static final ObjectWriter PRETTY =
      JSON.writer(
          new DefaultPrettyPrinter()
              .withObjectIndenter(new DefaultIndenter("    ", "\n"))
              .withArrayIndenter(new DefaultIndenter("    ", "\n")));

  private JsonFiles() {}

  /** The object in a file, or an empty object if there is no file. */
  static ObjectNode readObjectOrEmpty(Path file) {
    if (!Files.exists(file)) {
      return JSON.createObjectNode();
    }
    try {
      JsonNode n = JSON.readTree(file.toFile());
      if (n == null || !n.isObject()) {
        throw new InvalidInputException(file + " is not a JSON object; move it away to start over");
      }
      return (ObjectNode) n;
    } catch (IOException e) {
      throw new InvalidInputException(
          file + " is not valid JSON (" + e.getMessage() + "); move it away to start over", e);
    }
  }

  /** Writes through a temporary file and a rename, so a crash never leaves half a file. */
  static void write(Path file, JsonNode value) {
    try {
      Path dir = file.toAbsolutePath().getParent();
      Files.createDirectories(dir);
      Path tmp = Files.createTempFile(dir, file.getFileName().toString(), ".tmp");
      PRETTY.writeValue(tmp.toFile(), value);
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }
}

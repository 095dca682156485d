package io.damjava.tokenizer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The real Llama-2 vocabulary (32000 pieces, 61249 merges) from the npm package
 * llama-tokenizer-js@1.2.2, rebuilt into a Llama {@code tokenizer.json}. Not committed: fetch it
 * with {@code sh dam-tokenizer/src/test/fetch-llama-vocab.sh} (or set LLAMA_VOCAB_DIR to the folder
 * that holds {@code package/llama-tokenizer.js}).
 */
final class LlamaFixture {
  static final String SCRIPT = "sh dam-tokenizer/src/test/fetch-llama-vocab.sh";
  private static String json;
  private static Path jsonPath;

  private LlamaFixture() {}

  static Path jsFile() {
    String dir = System.getenv("LLAMA_VOCAB_DIR");
    Path base = dir != null && !dir.isEmpty() ? Path.of(dir) : Path.of("target/llama-tokenizer-js");
    return base.resolve("package/llama-tokenizer.js");
  }

  static boolean available() {
    return Files.isRegularFile(jsFile());
  }

  static String skipReason() {
    return "Llama-2 vocabulary not found at " + jsFile().toAbsolutePath() + "; run " + SCRIPT;
  }

  /** Returns the rebuilt tokenizer.json text (merges as "a b" strings, or as [a, b] arrays). */
  static synchronized String tokenizerJson(boolean mergesAsArrays) {
    if (json != null && !mergesAsArrays) {
      return json;
    }
    try {
      String js = Files.readString(jsFile(), StandardCharsets.UTF_8);
      String[] vocab =
          new String(
                  Base64.getDecoder().decode(literal(js, "llama_vocab_base64")),
                  StandardCharsets.UTF_8)
              .split("\n", -1);
      byte[] merges = Base64.getDecoder().decode(literal(js, "llama_merges_binary"));
      if (vocab.length != 32000 || merges.length != 61249 * 4) {
        throw new IllegalStateException(
            "unexpected fixture sizes: "
                + vocab.length
                + " pieces, "
                + merges.length / 4
                + " merges");
      }
      ObjectMapper mapper = new ObjectMapper();
      ObjectNode root = mapper.createObjectNode();
      root.put("version", "1.0");
      root.putNull("truncation");
      root.putNull("padding");
      ArrayNode added = root.putArray("added_tokens");
      for (int i = 0; i < 3; i++) {
        ObjectNode t = added.addObject();
        t.put("id", i);
        t.put("content", vocab[i]);
        t.put("single_word", false);
        t.put("lstrip", false);
        t.put("rstrip", false);
        t.put("normalized", false);
        t.put("special", true);
      }
      ObjectNode normalizer = root.putObject("normalizer");
      normalizer.put("type", "Sequence");
      ArrayNode norms = normalizer.putArray("normalizers");
      norms.addObject().put("type", "Prepend").put("prepend", "\u2581");
      ObjectNode replace = norms.addObject().put("type", "Replace");
      replace.putObject("pattern").put("String", " ");
      replace.put("content", "\u2581");
      root.putNull("pre_tokenizer");
      ObjectNode post = root.putObject("post_processor");
      post.put("type", "TemplateProcessing");
      ArrayNode single = post.putArray("single");
      single.addObject().putObject("SpecialToken").put("id", "<s>").put("type_id", 0);
      single.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
      ArrayNode pair = post.putArray("pair");
      pair.addObject().putObject("SpecialToken").put("id", "<s>").put("type_id", 0);
      pair.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
      pair.addObject().putObject("SpecialToken").put("id", "<s>").put("type_id", 1);
      pair.addObject().putObject("Sequence").put("id", "B").put("type_id", 1);
      ObjectNode bos = post.putObject("special_tokens").putObject("<s>");
      bos.put("id", "<s>");
      bos.putArray("ids").add(1);
      bos.putArray("tokens").add("<s>");
      ObjectNode decoder = root.putObject("decoder");
      decoder.put("type", "Sequence");
      ArrayNode decs = decoder.putArray("decoders");
      ObjectNode dr = decs.addObject().put("type", "Replace");
      dr.putObject("pattern").put("String", "\u2581");
      dr.put("content", " ");
      decs.addObject().put("type", "ByteFallback");
      decs.addObject().put("type", "Fuse");
      decs.addObject().put("type", "Strip").put("content", " ").put("start", 1).put("stop", 0);
      ObjectNode model = root.putObject("model");
      model.put("type", "BPE");
      model.putNull("dropout");
      model.put("unk_token", "<unk>");
      model.putNull("continuing_subword_prefix");
      model.putNull("end_of_word_suffix");
      model.put("fuse_unk", true);
      model.put("byte_fallback", true);
      ObjectNode v = model.putObject("vocab");
      for (int i = 0; i < vocab.length; i++) {
        v.put(vocab[i], i);
      }
      ArrayNode m = model.putArray("merges");
      for (int i = 0; i < merges.length; i += 4) {
        int a = (merges[i] & 0xff) | (merges[i + 1] & 0xff) << 8;
        int b = (merges[i + 2] & 0xff) | (merges[i + 3] & 0xff) << 8;
        if (mergesAsArrays) {
          m.addArray().add(vocab[a]).add(vocab[b]);
        } else {
          m.add(vocab[a] + " " + vocab[b]);
        }
      }
      String text = mapper.writeValueAsString(root);
      if (!mergesAsArrays) {
        json = text;
      }
      return text;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Writes the tokenizer.json under target/ (for DJL) and returns its path. */
  static synchronized Path tokenizerJsonPath() throws IOException {
    if (jsonPath == null) {
      Path p = Path.of("target/llama-fixture/tokenizer.json");
      Files.createDirectories(p.getParent());
      Files.writeString(p, tokenizerJson(false), StandardCharsets.UTF_8);
      jsonPath = p;
    }
    return jsonPath;
  }

  private static String literal(String js, String name) {
    Matcher m = Pattern.compile(name + "\\s*=\\s*\"([A-Za-z0-9+/=]+)\"").matcher(js);
    if (!m.find()) {
      throw new IllegalStateException(name + " not found in " + jsFile());
    }
    return m.group(1);
  }
}

package io.damjava.tokenizer;

import static io.damjava.tokenizer.BpeTokenizerBase.SPACE_SYMBOL;
import static io.damjava.tokenizer.TokenizerJsonReader.isTokenId;
import static io.damjava.tokenizer.TokenizerJsonReader.require;

import com.fasterxml.jackson.databind.JsonNode;
import io.damjava.tokenizer.HuggingFaceTokenizer.Added;
import io.damjava.tokenizer.HuggingFaceTokenizer.Builder;
import io.damjava.tokenizer.HuggingFaceTokenizer.NormStep;
import io.damjava.tokenizer.HuggingFaceTokenizer.Prepend;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The {@code tokenizer.json} sections around the BPE model, read into a {@link
 * HuggingFaceTokenizer.Builder}: normalizer, pre-tokenizer, post-processor and decoder.
 */
final class TokenizerJsonPipeline {
  private TokenizerJsonPipeline() {}

  static void parseNormalizer(JsonNode n, String path, Builder b) {
    if (n == null || n.isNull()) {
      return;
    }
    String type = require(n, "type", path).asText();
    switch (type) {
      case "Sequence" -> {
        JsonNode list = require(n, "normalizers", path);
        for (int i = 0; i < list.size(); i++) {
          parseNormalizer(list.get(i), path + ".normalizers[" + i + "]", b);
        }
      }
      case "Prepend" ->
          b.normalizer.add(new NormStep(require(n, "prepend", path).asText(), null, null));
      case "Replace" ->
          b.normalizer.add(
              new NormStep(
                  null,
                  stringPattern(require(n, "pattern", path), path + ".pattern"),
                  require(n, "content", path).asText()));
      default ->
          throw new TokenizerFormatException(
              "tokenizer.json: " + path + ".type " + type + " is not supported");
    }
  }

  private static String stringPattern(JsonNode pattern, String path) {
    JsonNode s = pattern.get("String");
    if (s == null || s.isNull()) {
      throw new TokenizerFormatException(
          "tokenizer.json: " + path + " must be {\"String\": ...} (Regex is not supported)");
    }
    return s.asText();
  }

  static void parsePreTokenizer(JsonNode n, Builder b) {
    if (n == null || n.isNull()) {
      return;
    }
    String path = "$.pre_tokenizer";
    String type = require(n, "type", path).asText();
    if (!"Metaspace".equals(type)) {
      throw new TokenizerFormatException(
          "tokenizer.json: " + path + ".type " + type + " is not supported (only Metaspace)");
    }
    b.metaspace = true;
    b.metaspaceReplacement = metaspaceChar(n, path);
    b.metaspacePrepend = prependScheme(n, path);
    b.metaspaceSplit = n.path("split").asBoolean(true);
  }

  private static char metaspaceChar(JsonNode n, String path) {
    String r = require(n, "replacement", path).asText();
    if (r.length() != 1) {
      throw new TokenizerFormatException(
          "tokenizer.json: " + path + ".replacement must be one character");
    }
    return r.charAt(0);
  }

  private static Prepend prependScheme(JsonNode n, String path) {
    JsonNode scheme = n.get("prepend_scheme");
    if (scheme != null && !scheme.isNull()) {
      return switch (scheme.asText()) {
        case "always" -> Prepend.ALWAYS;
        case "first" -> Prepend.FIRST;
        case "never" -> Prepend.NEVER;
        default ->
            throw new TokenizerFormatException(
                "tokenizer.json: " + path + ".prepend_scheme " + scheme.asText() + " is unknown");
      };
    }
    return n.path("add_prefix_space").asBoolean(true) ? Prepend.ALWAYS : Prepend.NEVER;
  }

  static void parsePostProcessor(JsonNode n, Builder b) {
    if (n == null || n.isNull()) {
      return;
    }
    String path = "$.post_processor";
    String type = require(n, "type", path).asText();
    if (!"TemplateProcessing".equals(type)) {
      throw new TokenizerFormatException(
          "tokenizer.json: " + path + ".type " + type + " is not supported");
    }
    JsonNode single = require(n, "single", path);
    JsonNode specials = require(n, "special_tokens", path);
    IntList prefix = new IntList(2);
    IntList suffix = new IntList(2);
    boolean seenSequence = false;
    for (int i = 0; i < single.size(); i++) {
      JsonNode item = single.get(i);
      String itemPath = path + ".single[" + i + "]";
      if (item.has("Sequence")) {
        seenSequence = true;
      } else if (item.has("SpecialToken")) {
        String name = require(item.get("SpecialToken"), "id", itemPath + ".SpecialToken").asText();
        JsonNode tokenIds =
            require(
                require(specials, name, path + ".special_tokens"),
                "ids",
                path + ".special_tokens." + name);
        for (JsonNode idNode : tokenIds) {
          if (!isTokenId(idNode) || idNode.asInt() >= b.pieces.length) {
            throw new TokenizerFormatException(
                "tokenizer.json: "
                    + path
                    + ".special_tokens."
                    + name
                    + ".ids holds "
                    + idNode
                    + ", not a token id of the vocabulary (0 to "
                    + (b.pieces.length - 1)
                    + ")");
          }
          (seenSequence ? suffix : prefix).add(idNode.asInt());
          if (!seenSequence && b.bos < 0) {
            b.bos = idNode.asInt();
          }
        }
      } else {
        throw new TokenizerFormatException("tokenizer.json: " + itemPath + " is not understood");
      }
    }
    b.templatePrefix = prefix.toArray();
    b.templateSuffix = suffix.toArray();
  }

  static DecodeTable parseDecoder(JsonNode n, Builder b) {
    String path = "$.decoder";
    if (n == null || n.isNull()) {
      throw new TokenizerFormatException("tokenizer.json: missing field " + path);
    }
    List<JsonNode> steps = new ArrayList<>();
    List<String> paths = new ArrayList<>();
    if ("Sequence".equals(require(n, "type", path).asText())) {
      JsonNode list = require(n, "decoders", path);
      for (int i = 0; i < list.size(); i++) {
        steps.add(list.get(i));
        paths.add(path + ".decoders[" + i + "]");
      }
    } else {
      steps.add(n);
      paths.add(path);
    }
    // Supported shape, in this order: [Replace(▁→' ') | Metaspace]? ByteFallback? Fuse? Strip?
    int stage = 0;
    boolean replace = false;
    boolean metaspaceFirst = false;
    boolean byteFallbackDecode = false;
    boolean fused = false;
    int stripStart = 0;
    char stripChar = ' ';
    for (int i = 0; i < steps.size(); i++) {
      JsonNode s = steps.get(i);
      String p = paths.get(i);
      String type = require(s, "type", p).asText();
      int order =
          switch (type) {
            case "Replace", "Metaspace" -> 1;
            case "ByteFallback" -> 2;
            case "Fuse" -> 3;
            case "Strip" -> 4;
            default ->
                throw new TokenizerFormatException(
                    "tokenizer.json: " + p + ".type " + type + " is not supported");
          };
      if (order <= stage) {
        throw new TokenizerFormatException(
            "tokenizer.json: " + p + " (" + type + ") is in an unsupported position");
      }
      stage = order;
      switch (type) {
        case "Replace" -> {
          String pattern = stringPattern(require(s, "pattern", p), p + ".pattern");
          String content = require(s, "content", p).asText();
          if (!pattern.equals(String.valueOf(SPACE_SYMBOL)) || !content.equals(" ")) {
            throw new TokenizerFormatException(
                "tokenizer.json: " + p + " must replace \"\u2581\" by \" \"");
          }
          replace = true;
        }
        case "Metaspace" -> {
          if (metaspaceChar(s, p) != SPACE_SYMBOL) {
            throw new TokenizerFormatException(
                "tokenizer.json: " + p + ".replacement must be \"\u2581\"");
          }
          replace = true;
          metaspaceFirst = prependScheme(s, p) != Prepend.NEVER;
        }
        case "ByteFallback" -> byteFallbackDecode = true;
        case "Fuse" -> fused = true;
        default -> {
          String content = require(s, "content", p).asText();
          if (!fused || content.length() != 1 || s.path("stop").asInt(0) != 0) {
            throw new TokenizerFormatException(
                "tokenizer.json: " + p + " is supported only after Fuse, with stop 0");
          }
          stripStart = s.path("start").asInt(0);
          stripChar = content.charAt(0);
        }
      }
    }
    int size = b.pieces.length;
    String[] text = new String[size];
    String[] noMeta = new String[size];
    int[] byteValue = new int[size];
    boolean[] special = new boolean[size];
    Arrays.fill(byteValue, -1);
    for (Added a : b.added) {
      special[a.id()] = a.special();
    }
    for (int i = 0; i < size; i++) {
      String piece = b.pieces[i];
      text[i] = replace ? piece.replace(SPACE_SYMBOL, ' ') : piece;
      noMeta[i] = piece.replace(String.valueOf(SPACE_SYMBOL), "");
      if (byteFallbackDecode
          && piece.length() == 6
          && piece.startsWith("<0x")
          && piece.endsWith(">")) {
        try {
          byteValue[i] = Integer.parseInt(piece.substring(3, 5), 16);
        } catch (NumberFormatException e) {
          byteValue[i] = -1;
        }
      }
    }
    return new DecodeTable(
        DecodeTable.Flavor.HUGGING_FACE,
        text,
        null,
        byteValue,
        special,
        text,
        false,
        false,
        stripStart,
        stripChar,
        metaspaceFirst,
        noMeta,
        -1);
  }
}

package io.damjava.tokenizer;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.damjava.tokenizer.HuggingFaceTokenizer.Added;
import io.damjava.tokenizer.HuggingFaceTokenizer.Builder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Reads a Hugging Face {@code tokenizer.json} into the settings of a {@link HuggingFaceTokenizer}:
 * the BPE model (vocab, added tokens, unk, byte fallback, merges) here, the normalizer,
 * pre-tokenizer, post-processor and decoder in {@link TokenizerJsonPipeline}.
 */
final class TokenizerJsonReader {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private TokenizerJsonReader() {}

  static Builder read(String json) {
    JsonNode root;
    try {
      root = MAPPER.readTree(json);
    } catch (JsonProcessingException e) {
      throw new TokenizerFormatException(
          "tokenizer.json: not valid JSON: " + e.getOriginalMessage());
    }
    if (root == null || !root.isObject()) {
      throw new TokenizerFormatException("tokenizer.json: the top level must be an object");
    }
    Builder b = new Builder();
    JsonNode model = require(root, "model", "$");
    JsonNode type = model.get("type");
    if (type != null && !"BPE".equals(type.asText())) {
      throw new TokenizerFormatException(
          "tokenizer.json: $.model.type is " + type.asText() + "; only BPE is supported");
    }
    for (String unsupported : new String[] {"continuing_subword_prefix", "end_of_word_suffix"}) {
      JsonNode n = model.get(unsupported);
      if (n != null && !n.isNull() && !n.asText().isEmpty()) {
        throw new TokenizerFormatException(
            "tokenizer.json: $.model." + unsupported + " is not supported");
      }
    }
    JsonNode dropout = model.get("dropout");
    if (dropout != null && !dropout.isNull() && dropout.asDouble() != 0.0) {
      throw new TokenizerFormatException("tokenizer.json: $.model.dropout is not supported");
    }
    b.byteFallback = model.path("byte_fallback").asBoolean(false);
    b.fuseUnk = model.path("fuse_unk").asBoolean(false);
    b.ignoreMerges = model.path("ignore_merges").asBoolean(false);

    JsonNode vocab = require(model, "vocab", "$.model");
    if (!vocab.isObject()) {
      throw new TokenizerFormatException("tokenizer.json: $.model.vocab must be an object");
    }
    Map<String, Integer> ids = new HashMap<>(vocab.size() * 2);
    int maxId = -1;
    for (Iterator<Map.Entry<String, JsonNode>> it = vocab.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      if (!isTokenId(e.getValue())) {
        throw new TokenizerFormatException(
            "tokenizer.json: $.model.vocab[\""
                + e.getKey()
                + "\"] must be an integer from 0 to "
                + (MAX_TOKEN_ID - 1));
      }
      int id = e.getValue().asInt();
      ids.put(e.getKey(), id);
      maxId = Math.max(maxId, id);
    }
    JsonNode addedNode = root.get("added_tokens");
    if (addedNode != null && !addedNode.isNull()) {
      if (!addedNode.isArray()) {
        throw new TokenizerFormatException("tokenizer.json: $.added_tokens must be an array");
      }
      for (int i = 0; i < addedNode.size(); i++) {
        String path = "$.added_tokens[" + i + "]";
        JsonNode t = addedNode.get(i);
        JsonNode idNode = require(t, "id", path);
        int id = isTokenId(idNode) ? idNode.asInt() : -1;
        String content = require(t, "content", path).asText();
        if (id < 0 || content.isEmpty()) {
          throw new TokenizerFormatException(
              "tokenizer.json: " + path + " has a bad id or content");
        }
        if (t.path("single_word").asBoolean(false)) {
          throw new TokenizerFormatException(
              "tokenizer.json: " + path + ".single_word=true is not supported");
        }
        Added a =
            new Added(
                content,
                id,
                t.path("special").asBoolean(false),
                t.path("lstrip").asBoolean(false),
                t.path("rstrip").asBoolean(false));
        b.added.add(a);
        b.addedByFirstChar.computeIfAbsent(content.charAt(0), k -> new ArrayList<>()).add(a);
        ids.putIfAbsent(content, id);
        maxId = Math.max(maxId, id);
      }
    }
    for (List<Added> list : b.addedByFirstChar.values()) {
      list.sort((x, y) -> Integer.compare(y.content().length(), x.content().length()));
    }
    b.ids = ids;
    b.pieces = new String[maxId + 1];
    for (Iterator<Map.Entry<String, JsonNode>> it = vocab.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      b.pieces[e.getValue().asInt()] = e.getKey();
    }
    for (Added a : b.added) {
      b.pieces[a.id()] = a.content();
    }
    for (int i = 0; i < b.pieces.length; i++) {
      if (b.pieces[i] == null) {
        throw new TokenizerFormatException(
            "tokenizer.json: id " + i + " has no token in $.model.vocab or $.added_tokens");
      }
    }
    b.bmpIds = new int[65536];
    Arrays.fill(b.bmpIds, -1);
    for (Iterator<Map.Entry<String, JsonNode>> it = vocab.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      String k = e.getKey();
      if (!k.isEmpty() && k.codePointCount(0, k.length()) == 1) {
        int cp = k.codePointAt(0);
        if (cp < 65536) {
          b.bmpIds[cp] = e.getValue().asInt();
        } else {
          b.otherIds.put(cp, e.getValue().asInt());
        }
      }
    }
    for (int i = 0; i < 256; i++) {
      Integer id = vocabId(vocab, String.format("<0x%02X>", i));
      b.byteIds[i] = id == null ? -1 : id;
    }
    JsonNode unkToken = model.get("unk_token");
    if (unkToken != null && !unkToken.isNull()) {
      Integer id = vocabId(vocab, unkToken.asText());
      if (id == null) {
        throw new TokenizerFormatException(
            "tokenizer.json: $.model.unk_token " + unkToken.asText() + " is not in the vocab");
      }
      b.unk = id;
    }
    parseMerges(require(model, "merges", "$.model"), vocab, b);
    TokenizerJsonPipeline.parseNormalizer(root.get("normalizer"), "$.normalizer", b);
    TokenizerJsonPipeline.parsePreTokenizer(root.get("pre_tokenizer"), b);
    TokenizerJsonPipeline.parsePostProcessor(root.get("post_processor"), b);
    if (b.bos < 0) {
      b.bos = ids.getOrDefault("<s>", -1);
    }
    b.eos = ids.getOrDefault("</s>", -1);
    b.table = TokenizerJsonPipeline.parseDecoder(root.get("decoder"), b);
    return b;
  }

  private static Integer vocabId(JsonNode vocab, String token) {
    JsonNode n = vocab.get(token);
    return n == null ? null : n.asInt();
  }

  /**
   * Token ids index dense tables, so a bound keeps a file that claims id 1e308 (or 2^31 - 1) from
   * sizing an array by it; real vocabularies stay far below it.
   */
  static final int MAX_TOKEN_ID = 1 << 24;

  static boolean isTokenId(JsonNode n) {
    return n.isIntegralNumber()
        && n.canConvertToInt()
        && n.asInt() >= 0
        && n.asInt() < MAX_TOKEN_ID;
  }

  static JsonNode require(JsonNode parent, String field, String path) {
    JsonNode n = parent == null ? null : parent.get(field);
    if (n == null || n.isNull()) {
      throw new TokenizerFormatException("tokenizer.json: missing field " + path + "." + field);
    }
    return n;
  }

  private static void parseMerges(JsonNode merges, JsonNode vocab, Builder b) {
    if (!merges.isArray()) {
      throw new TokenizerFormatException("tokenizer.json: $.model.merges must be an array");
    }
    b.merges = new PairMap(merges.size());
    for (int i = 0; i < merges.size(); i++) {
      JsonNode m = merges.get(i);
      String left;
      String right;
      if (m.isTextual()) {
        String[] parts = m.asText().split(" ", -1);
        if (parts.length != 2) {
          throw new TokenizerFormatException(
              "tokenizer.json: $.model.merges[" + i + "] must be \"a b\", got " + m);
        }
        left = parts[0];
        right = parts[1];
      } else if (m.isArray() && m.size() == 2) {
        left = m.get(0).asText();
        right = m.get(1).asText();
      } else {
        throw new TokenizerFormatException(
            "tokenizer.json: $.model.merges[" + i + "] must be a string or a pair, got " + m);
      }
      Integer a = vocabId(vocab, left);
      Integer c = vocabId(vocab, right);
      Integer merged = vocabId(vocab, left + right);
      if (a == null || c == null || merged == null) {
        throw new TokenizerFormatException(
            "tokenizer.json: $.model.merges[" + i + "] uses a token missing from the vocab");
      }
      b.merges.put(a, c, i, merged);
    }
  }
}

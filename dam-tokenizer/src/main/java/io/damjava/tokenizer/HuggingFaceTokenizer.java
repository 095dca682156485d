package io.damjava.tokenizer;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Hugging Face {@code tokenizer.json} with a BPE model, encoding and decoding as the {@code
 * tokenizers} library does for the Llama family: added-token splitting, Prepend/Replace
 * normalizers, optional Metaspace pre-tokenizer, rank-ordered merges with byte fallback,
 * TemplateProcessing, and Replace/ByteFallback/Fuse/Strip or Metaspace decoders.
 */
final class HuggingFaceTokenizer extends BpeTokenizerBase {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  /** One normalizer step: a non-null prepend, or a literal replacement. */
  private record NormStep(String prepend, String pattern, String content) {}

  private record Added(String content, int id, boolean special, boolean lstrip, boolean rstrip) {}

  private enum Prepend {
    ALWAYS,
    FIRST,
    NEVER
  }

  private final PairMap merges;
  private final int[] bmpIds;
  private final Map<Integer, Integer> otherIds;
  private final int[] byteIds;
  private final boolean byteFallback;
  private final boolean fuseUnk;
  private final boolean ignoreMerges;
  private final List<NormStep> normalizer;
  private final boolean metaspace;
  private final char metaspaceReplacement;
  private final Prepend metaspacePrepend;
  private final boolean metaspaceSplit;
  private final List<Added> added;
  private final Map<Character, List<Added>> addedByFirstChar;
  private final int[] templatePrefix;
  private final int[] templateSuffix;
  private final boolean splitBeforeSpace;

  private HuggingFaceTokenizer(Builder b) {
    super(b.pieces, b.ids, b.table, b.bos, b.eos, b.unk);
    this.merges = b.merges;
    this.bmpIds = b.bmpIds;
    this.otherIds = b.otherIds;
    this.byteIds = b.byteIds;
    this.byteFallback = b.byteFallback;
    this.fuseUnk = b.fuseUnk;
    this.ignoreMerges = b.ignoreMerges;
    this.normalizer = b.normalizer;
    this.metaspace = b.metaspace;
    this.metaspaceReplacement = b.metaspaceReplacement;
    this.metaspacePrepend = b.metaspacePrepend;
    this.metaspaceSplit = b.metaspaceSplit;
    this.added = b.added;
    this.addedByFirstChar = b.addedByFirstChar;
    this.templatePrefix = b.templatePrefix;
    this.templateSuffix = b.templateSuffix;
    this.splitBeforeSpace =
        charId(SPACE_SYMBOL) >= 0 && canSplitBeforeSpace(java.util.Arrays.asList(b.pieces));
  }

  /** Mutable parse state. */
  private static final class Builder {
    String[] pieces;
    Map<String, Integer> ids;
    DecodeTable table;
    int bos = -1;
    int eos = -1;
    int unk = -1;
    PairMap merges;
    int[] bmpIds;
    Map<Integer, Integer> otherIds = new HashMap<>();
    int[] byteIds = new int[256];
    boolean byteFallback;
    boolean fuseUnk;
    boolean ignoreMerges;
    List<NormStep> normalizer = new ArrayList<>();
    boolean metaspace;
    char metaspaceReplacement = SPACE_SYMBOL;
    Prepend metaspacePrepend = Prepend.ALWAYS;
    boolean metaspaceSplit = true;
    List<Added> added = new ArrayList<>();
    Map<Character, List<Added>> addedByFirstChar = new HashMap<>();
    int[] templatePrefix = new int[0];
    int[] templateSuffix = new int[0];
  }

  static HuggingFaceTokenizer parse(String json) {
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
    parseNormalizer(root.get("normalizer"), "$.normalizer", b);
    parsePreTokenizer(root.get("pre_tokenizer"), b);
    parsePostProcessor(root.get("post_processor"), b);
    if (b.bos < 0) {
      b.bos = ids.getOrDefault("<s>", -1);
    }
    b.eos = ids.getOrDefault("</s>", -1);
    b.table = parseDecoder(root.get("decoder"), b);
    return new HuggingFaceTokenizer(b);
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

  private static boolean isTokenId(JsonNode n) {
    return n.isIntegralNumber()
        && n.canConvertToInt()
        && n.asInt() >= 0
        && n.asInt() < MAX_TOKEN_ID;
  }

  private static JsonNode require(JsonNode parent, String field, String path) {
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

  private static void parseNormalizer(JsonNode n, String path, Builder b) {
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

  private static void parsePreTokenizer(JsonNode n, Builder b) {
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

  private static void parsePostProcessor(JsonNode n, Builder b) {
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

  private static DecodeTable parseDecoder(JsonNode n, Builder b) {
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

  // ---------------------------------------------------------------- encoding

  @Override
  public int[] encode(String text, boolean addBos) {
    String s = replaceLoneSurrogates(text);
    IntList out = new IntList(s.length() / 3 + 4);
    if (addBos) {
      for (int id : templatePrefix) {
        out.add(id);
      }
    }
    int segmentStart = 0;
    int i = 0;
    int n = s.length();
    while (i < n) {
      Added match = addedAt(s, i);
      if (match == null) {
        i++;
        continue;
      }
      int matchStart = i;
      int matchEnd = i + match.content().length();
      if (match.lstrip()) {
        while (matchStart > segmentStart && Character.isWhitespace(s.charAt(matchStart - 1))) {
          matchStart--;
        }
      }
      if (match.rstrip()) {
        while (matchEnd < n && Character.isWhitespace(s.charAt(matchEnd))) {
          matchEnd++;
        }
      }
      if (matchStart > segmentStart) {
        encodeSegment(s.substring(segmentStart, matchStart), segmentStart == 0, true, out);
      }
      out.add(match.id());
      segmentStart = matchEnd;
      i = matchEnd;
    }
    if (segmentStart < n) {
      encodeSegment(s.substring(segmentStart), segmentStart == 0, true, out);
    }
    if (addBos) {
      for (int id : templateSuffix) {
        out.add(id);
      }
    }
    return out.toArray();
  }

  @Override
  int[] encodeWithoutPrefix(String text) {
    String s = replaceLoneSurrogates(text);
    IntList out = new IntList(s.length() / 3 + 4);
    if (!s.isEmpty()) {
      encodeSegment(s, true, false, out);
    }
    return out.toArray();
  }

  @Override
  List<Map.Entry<String, Integer>> specialTokens() {
    List<Map.Entry<String, Integer>> list = new ArrayList<>();
    for (Added a : added) {
      list.add(Map.entry(a.content(), a.id()));
    }
    return list;
  }

  private Added addedAt(String s, int i) {
    if (addedByFirstChar.isEmpty()) {
      return null;
    }
    List<Added> candidates = addedByFirstChar.get(s.charAt(i));
    if (candidates != null) {
      for (Added a : candidates) {
        if (s.startsWith(a.content(), i)) {
          return a;
        }
      }
    }
    return null;
  }

  /** Normalizer, pre-tokenizer and model on one piece of text between added tokens. */
  private void encodeSegment(String segment, boolean atStart, boolean prefix, IntList out) {
    String s = segment;
    for (NormStep step : normalizer) {
      if (step.prepend() != null) {
        if (prefix && !s.isEmpty()) {
          s = step.prepend() + s;
        }
      } else {
        s = s.replace(step.pattern(), step.content());
      }
    }
    if (!metaspace) {
      encodeWord(s, out);
      return;
    }
    s = s.replace(' ', metaspaceReplacement);
    boolean startsWithReplacement = !s.isEmpty() && s.charAt(0) == metaspaceReplacement;
    if (prefix
        && !startsWithReplacement
        && (metaspacePrepend == Prepend.ALWAYS || (metaspacePrepend == Prepend.FIRST && atStart))) {
      s = metaspaceReplacement + s;
    }
    if (!metaspaceSplit) {
      encodeWord(s, out);
      return;
    }
    int wordStart = 0;
    for (int k = 1; k < s.length(); k++) {
      if (s.charAt(k) == metaspaceReplacement) {
        encodeWord(s.substring(wordStart, k), out);
        wordStart = k;
      }
    }
    if (wordStart < s.length()) {
      encodeWord(s.substring(wordStart), out);
    }
  }

  private int charId(int cp) {
    if (cp < 65536) {
      return bmpIds[cp];
    }
    Integer id = otherIds.get(cp);
    return id == null ? -1 : id;
  }

  private void encodeWord(String w, IntList out) {
    if (!splitBeforeSpace) {
      encodeStretch(w, out);
      return;
    }
    for (int start = 0; start < w.length(); ) {
      int end = stretchEnd(w, start);
      encodeStretch(start == 0 && end == w.length() ? w : w.substring(start, end), out);
      start = end;
    }
  }

  /** tokenizers' {@code BPE::merge_word} followed by {@code Word::merge_all}. */
  private void encodeStretch(String w, IntList out) {
    int n = w.length();
    if (n == 0) {
      return;
    }
    if (ignoreMerges) {
      Integer whole = ids.get(w);
      if (whole != null) {
        out.add(whole);
        return;
      }
    }
    int[] sym = new int[n * 4];
    int count = 0;
    int pendingUnk = -1;
    for (int i = 0; i < n; ) {
      int cp = w.codePointAt(i);
      int len = Character.charCount(cp);
      int id = charId(cp);
      if (id >= 0) {
        if (pendingUnk >= 0) {
          sym[count++] = pendingUnk;
          pendingUnk = -1;
        }
        sym[count++] = id;
      } else {
        boolean handled = false;
        if (byteFallback) {
          byte[] bytes = w.substring(i, i + len).getBytes(StandardCharsets.UTF_8);
          boolean all = true;
          for (byte x : bytes) {
            all &= byteIds[x & 0xff] >= 0;
          }
          if (all) {
            for (byte x : bytes) {
              sym[count++] = byteIds[x & 0xff];
            }
            handled = true;
          }
        }
        if (!handled && unk >= 0) {
          if (pendingUnk >= 0 && !fuseUnk) {
            sym[count++] = pendingUnk;
          }
          pendingUnk = unk;
        }
      }
      i += len;
    }
    if (pendingUnk >= 0) {
      sym[count++] = pendingUnk;
    }
    mergeAll(sym, count, out);
  }

  private void mergeAll(int[] sym, int count, IntList out) {
    int[] prev = new int[count];
    int[] next = new int[count];
    boolean[] dead = new boolean[count];
    MergeHeap heap = new MergeHeap(count);
    for (int i = 0; i < count; i++) {
      prev[i] = i - 1;
      next[i] = i + 1 < count ? i + 1 : -1;
      if (i + 1 < count) {
        int slot = merges.find(sym[i], sym[i + 1]);
        if (slot >= 0) {
          heap.push(merges.rank(slot), i, merges.value(slot));
        }
      }
    }
    while (!heap.isEmpty()) {
      int pos = heap.topPos();
      int newId = heap.topAux();
      heap.pop();
      if (dead[pos] || next[pos] < 0) {
        continue;
      }
      int right = next[pos];
      int slot = merges.find(sym[pos], sym[right]);
      if (slot < 0 || merges.value(slot) != newId) {
        continue;
      }
      sym[pos] = newId;
      dead[right] = true;
      next[pos] = next[right];
      if (next[right] >= 0) {
        prev[next[right]] = pos;
      }
      if (prev[pos] >= 0) {
        int s = merges.find(sym[prev[pos]], sym[pos]);
        if (s >= 0) {
          heap.push(merges.rank(s), prev[pos], merges.value(s));
        }
      }
      if (next[pos] >= 0) {
        int s = merges.find(sym[pos], sym[next[pos]]);
        if (s >= 0) {
          heap.push(merges.rank(s), pos, merges.value(s));
        }
      }
    }
    for (int i = 0; i < count; i++) {
      if (!dead[i]) {
        out.add(sym[i]);
      }
    }
  }
}

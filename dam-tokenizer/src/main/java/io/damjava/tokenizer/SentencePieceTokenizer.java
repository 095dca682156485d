package io.damjava.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * SentencePiece BPE model ({@code tokenizer.model}), encoding as sentencepiece's {@code
 * bpe::Model::SampleEncode} with identity normalisation and decoding as {@code DecodeIds}. {@link
 * SentencePieceModelReader} reads the file into a {@link Model}; this class keeps it and encodes.
 */
final class SentencePieceTokenizer extends BpeTokenizerBase {
  static final int NORMAL = 1;
  static final int UNKNOWN = 2;
  static final int CONTROL = 3;
  static final int USER_DEFINED = 4;
  static final int UNUSED = 5;
  static final int BYTE = 6;

  private final float[] scores;
  private final int[] types;

  /** NORMAL, USER_DEFINED and UNUSED pieces: the only ones a merge can produce. */
  private final Map<String, Integer> mergeable;

  /** UNKNOWN, CONTROL and BYTE pieces: looked up first, as sentencepiece's PieceToId does. */
  private final Map<String, Integer> reserved;

  private final boolean byteFallback;
  private final int[] byteIds = new int[256];
  private final boolean addDummyPrefix;
  private final boolean removeExtraWhitespaces;
  private final boolean escapeWhitespaces;

  /** User-defined symbols by first char, longest first. */
  private final Map<Character, List<String>> userDefined;

  private final boolean splitBeforeSpace;

  private SentencePieceTokenizer(Model m) {
    super(m.pieces, m.ids, m.table, m.bos, m.eos, m.unk);
    this.scores = m.scores;
    this.types = m.types;
    this.mergeable = m.mergeable;
    this.reserved = m.reserved;
    this.byteFallback = m.byteFallback;
    this.addDummyPrefix = m.addDummyPrefix;
    this.removeExtraWhitespaces = m.removeExtraWhitespaces;
    this.escapeWhitespaces = m.escapeWhitespaces;
    this.userDefined = m.userDefined;
    this.splitBeforeSpace =
        m.mergeable.containsKey(String.valueOf(SPACE_SYMBOL))
            && canSplitBeforeSpace(m.mergeable.keySet());
    Arrays.fill(byteIds, -1);
    for (int b = 0; b < 256; b++) {
      Integer id = m.ids.get(String.format("<0x%02X>", b));
      if (id != null && m.types[id] == BYTE) {
        byteIds[b] = id;
      }
    }
  }

  /** Parsed fields of the ModelProto, with the id map and decode table built from them. */
  static final class Model {
    String[] pieces;
    float[] scores;
    int[] types;
    Map<String, Integer> ids;
    DecodeTable table;
    Map<String, Integer> mergeable = new HashMap<>();
    Map<String, Integer> reserved = new HashMap<>();
    Map<Character, List<String>> userDefined = new HashMap<>();
    int modelType = 1; // proto default UNIGRAM
    boolean byteFallback;
    boolean treatWhitespaceAsSuffix;
    String unkSurface = " \u2047 ";
    String bosPiece = "<s>";
    String eosPiece = "</s>";
    String normalizerName = "";
    int charsMapLength;
    boolean addDummyPrefix = true;
    boolean removeExtraWhitespaces = true;
    boolean escapeWhitespaces = true;
    int bos = -1;
    int eos = -1;
    int unk = -1;
  }

  static SentencePieceTokenizer parse(byte[] bytes) {
    return new SentencePieceTokenizer(SentencePieceModelReader.read(bytes));
  }

  @Override
  public int[] encode(String text, boolean addBos) {
    IntList out = new IntList(text.length() / 3 + 2);
    if (addBos && bos >= 0) {
      out.add(bos);
    }
    encodeNormalized(normalize(replaceLoneSurrogates(text), addDummyPrefix), out);
    return out.toArray();
  }

  @Override
  int[] encodeWithoutPrefix(String text) {
    IntList out = new IntList(text.length() / 3 + 2);
    encodeNormalized(normalize(replaceLoneSurrogates(text), false), out);
    return out.toArray();
  }

  @Override
  List<Map.Entry<String, Integer>> specialTokens() {
    List<Map.Entry<String, Integer>> list = new ArrayList<>();
    for (int i = 0; i < pieces.length; i++) {
      if (types[i] == CONTROL || types[i] == UNKNOWN) {
        list.add(Map.entry(pieces[i], i));
      }
    }
    return list;
  }

  /** Length of the user-defined symbol starting at {@code i}, or 0. */
  private int userDefinedAt(String s, int i) {
    if (userDefined.isEmpty()) {
      return 0;
    }
    List<String> candidates = userDefined.get(s.charAt(i));
    if (candidates != null) {
      for (String c : candidates) {
        if (s.startsWith(c, i)) {
          return c.length();
        }
      }
    }
    return 0;
  }

  /** sentencepiece {@code Normalizer::Normalize} with an identity rule set. */
  String normalize(String input, boolean dummyPrefix) {
    int n = input.length();
    int i = 0;
    if (removeExtraWhitespaces) {
      while (i < n && input.charAt(i) == ' ' && userDefinedAt(input, i) == 0) {
        i++;
      }
    }
    if (i == n) {
      return "";
    }
    StringBuilder sb = new StringBuilder(n + 8);
    char space = escapeWhitespaces ? SPACE_SYMBOL : ' ';
    if (dummyPrefix) {
      sb.append(space);
    }
    boolean isPrevSpace = removeExtraWhitespaces;
    while (i < n) {
      int len = userDefinedAt(input, i);
      if (len == 0) {
        len = Character.charCount(input.codePointAt(i));
      }
      int start = i;
      int end = i + len;
      while (isPrevSpace && start < end && input.charAt(start) == ' ') {
        start++;
      }
      if (start < end) {
        for (int k = start; k < end; k++) {
          char c = input.charAt(k);
          sb.append(c == ' ' ? space : c);
        }
        isPrevSpace = input.charAt(end - 1) == ' ';
      }
      i = end;
      if (!removeExtraWhitespaces) {
        isPrevSpace = false;
      }
    }
    if (removeExtraWhitespaces) {
      int len = sb.length();
      while (len > 0 && sb.charAt(len - 1) == space) {
        len--;
      }
      sb.setLength(len);
    }
    return sb.toString();
  }

  private void encodeNormalized(String s, IntList out) {
    boolean[] prevUnk = new boolean[1];
    if (!splitBeforeSpace) {
      encodeStretch(s, out, prevUnk);
      return;
    }
    for (int start = 0; start < s.length(); ) {
      int end = stretchEnd(s, start);
      encodeStretch(start == 0 && end == s.length() ? s : s.substring(start, end), out, prevUnk);
      start = end;
    }
  }

  /**
   * sentencepiece {@code bpe::Model::SampleEncode} (no dropout) plus byte fallback / unk fusing.
   */
  private void encodeStretch(String s, IntList out, boolean[] prevUnk) {
    int n = s.length();
    if (n == 0) {
      return;
    }
    int[] start = new int[n];
    int[] end = new int[n];
    int[] prev = new int[n];
    int[] next = new int[n];
    boolean[] freeze = new boolean[n];
    int count = 0;
    for (int i = 0; i < n; ) {
      int len = userDefinedAt(s, i);
      freeze[count] = len > 0;
      if (len == 0) {
        len = Character.charCount(s.codePointAt(i));
      }
      start[count] = i;
      end[count] = i + len;
      prev[count] = count - 1;
      next[count] = i + len < n ? count + 1 : -1;
      count++;
      i += len;
    }
    Map<String, String[]> revMerge = null;
    MergeHeap heap = new MergeHeap(count);
    for (int i = 1; i < count; i++) {
      revMerge = maybeAdd(s, i - 1, i, start, end, freeze, heap, revMerge);
    }
    while (!heap.isEmpty()) {
      int left = heap.topPos();
      int size = heap.topAux();
      heap.pop();
      int right = next[left];
      if (end[left] == start[left] || right < 0 || end[right] - start[left] != size) {
        continue; // stale
      }
      end[left] = end[right];
      start[right] = end[right]; // now empty
      next[left] = next[right];
      if (next[right] >= 0) {
        prev[next[right]] = left;
      }
      revMerge = maybeAdd(s, prev[left], left, start, end, freeze, heap, revMerge);
      revMerge = maybeAdd(s, left, next[left], start, end, freeze, heap, revMerge);
    }
    for (int i = 0; i != -1; i = next[i]) {
      resegment(s.substring(start[i], end[i]), revMerge, out, prevUnk);
    }
  }

  private Map<String, String[]> maybeAdd(
      String s,
      int left,
      int right,
      int[] start,
      int[] end,
      boolean[] freeze,
      MergeHeap heap,
      Map<String, String[]> revMerge) {
    if (left < 0 || right < 0 || freeze[left] || freeze[right]) {
      return revMerge;
    }
    String piece = s.substring(start[left], end[right]);
    Integer id = mergeable.get(piece);
    if (id == null) {
      return revMerge;
    }
    heap.push(MergeHeap.scoreKey(scores[id]), left, end[right] - start[left]);
    if (types[id] == UNUSED) {
      if (revMerge == null) {
        revMerge = new HashMap<>();
      }
      revMerge.put(
          piece,
          new String[] {
            s.substring(start[left], end[left]), s.substring(start[right], end[right])
          });
    }
    return revMerge;
  }

  private int pieceId(String w) {
    Integer id = reserved.get(w);
    if (id == null) {
      id = mergeable.get(w);
    }
    return id == null ? unk : id;
  }

  private void resegment(String w, Map<String, String[]> revMerge, IntList out, boolean[] prevUnk) {
    int id = pieceId(w);
    if (types[id] == UNUSED && revMerge != null) {
      String[] pair = revMerge.get(w);
      if (pair != null) {
        resegment(pair[0], revMerge, out, prevUnk);
        resegment(pair[1], revMerge, out, prevUnk);
        return;
      }
    }
    boolean isUnk = types[id] == UNKNOWN;
    if (types[id] == CONTROL) {
      out.add(id);
    } else if (isUnk && byteFallback) {
      for (byte b : w.getBytes(StandardCharsets.UTF_8)) {
        out.add(byteIds[b & 0xff]);
      }
    } else if (!(isUnk && prevUnk[0])) {
      out.add(id);
    }
    prevUnk[0] = isUnk;
  }
}

package io.damjava.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Hugging Face {@code tokenizer.json} with a BPE model, encoding and decoding as the {@code
 * tokenizers} library does for the Llama family: added-token splitting, Prepend/Replace
 * normalizers, optional Metaspace pre-tokenizer, rank-ordered merges with byte fallback,
 * TemplateProcessing, and Replace/ByteFallback/Fuse/Strip or Metaspace decoders. {@link
 * TokenizerJsonReader} reads the file into a {@link Builder}; this class keeps its settings and
 * encodes.
 */
final class HuggingFaceTokenizer extends BpeTokenizerBase {

  /** One normalizer step: a non-null prepend, or a literal replacement. */
  record NormStep(String prepend, String pattern, String content) {}

  record Added(String content, int id, boolean special, boolean lstrip, boolean rstrip) {}

  enum Prepend {
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
  static final class Builder {
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
    return new HuggingFaceTokenizer(TokenizerJsonReader.read(json));
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

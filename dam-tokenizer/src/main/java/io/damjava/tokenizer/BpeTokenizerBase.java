package io.damjava.tokenizer;

import java.util.List;
import java.util.Map;

/** Shared state and decoding of the two implementations. */
abstract sealed class BpeTokenizerBase implements Tokenizer
    permits SentencePieceTokenizer, HuggingFaceTokenizer {
  static final char SPACE_SYMBOL = '\u2581';

  final String[] pieces;
  final Map<String, Integer> ids;
  final DecodeTable table;
  final int bos;
  final int eos;
  final int unk;

  BpeTokenizerBase(
      String[] pieces, Map<String, Integer> ids, DecodeTable table, int bos, int eos, int unk) {
    this.pieces = pieces;
    this.ids = ids;
    this.table = table;
    this.bos = bos;
    this.eos = eos;
    this.unk = unk;
  }

  /**
   * Encodes without any dummy-prefix / prepend step and without splitting out special tokens: what
   * transformers' {@code sp_model.encode} does for a slow LlamaTokenizer with {@code legacy=False}.
   */
  abstract int[] encodeWithoutPrefix(String text);

  /** Literal strings the slow tokenizer splits out before encoding, with their ids. */
  abstract List<Map.Entry<String, Integer>> specialTokens();

  /** The unknown token's string (e.g. {@code <unk>}). */
  String unkPiece() {
    return unk >= 0 ? pieces[unk] : "<unk>";
  }

  @Override
  public String decode(int[] ids, boolean skipSpecial) {
    DecodeStream stream = new DecodeStream(table, skipSpecial);
    StringBuilder out = new StringBuilder(ids.length * 4);
    for (int id : ids) {
      stream.accept(id, out);
    }
    stream.finish(out);
    return out.toString();
  }

  @Override
  public int vocabSize() {
    return pieces.length;
  }

  @Override
  public int bosId() {
    return bos;
  }

  @Override
  public int eosId() {
    return eos;
  }

  @Override
  public int unkId() {
    return unk;
  }

  @Override
  public String idToPiece(int id) {
    if (id < 0 || id >= pieces.length) {
      throw new IllegalArgumentException(
          "token id " + id + " is out of range [0, " + pieces.length + ")");
    }
    return pieces[id];
  }

  @Override
  public int pieceToId(String piece) {
    Integer id = ids.get(piece);
    return id == null ? -1 : id;
  }

  /**
   * True if no piece has a U+2581 right after another character: then no merge can join the symbols
   * on either side of such a position, and encoding each stretch between them separately gives the
   * same ids, in a small, cache-friendly heap instead of one heap over the whole text.
   */
  static boolean canSplitBeforeSpace(Iterable<String> pieces) {
    for (String p : pieces) {
      for (int i = 1; i < p.length(); i++) {
        if (p.charAt(i) == SPACE_SYMBOL && p.charAt(i - 1) != SPACE_SYMBOL) {
          return false;
        }
      }
    }
    return true;
  }

  /** End of the stretch starting at {@code start}: the next U+2581 that follows another char. */
  static int stretchEnd(String s, int start) {
    for (int k = start + 1; k < s.length(); k++) {
      if (s.charAt(k) == SPACE_SYMBOL && s.charAt(k - 1) != SPACE_SYMBOL) {
        return k;
      }
    }
    return s.length();
  }

  /** Replaces unpaired surrogates by U+FFFD; returns the input itself when there are none. */
  static String replaceLoneSurrogates(String s) {
    StringBuilder sb = null;
    int n = s.length();
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      boolean bad = false;
      if (Character.isHighSurrogate(c)) {
        if (i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
          if (sb != null) {
            sb.append(c).append(s.charAt(i + 1));
          }
          i++;
          continue;
        }
        bad = true;
      } else if (Character.isLowSurrogate(c)) {
        bad = true;
      }
      if (bad && sb == null) {
        sb = new StringBuilder(n);
        sb.append(s, 0, i);
      }
      if (sb != null) {
        sb.append(bad ? '\uFFFD' : c);
      }
    }
    return sb == null ? s : sb.toString();
  }
}

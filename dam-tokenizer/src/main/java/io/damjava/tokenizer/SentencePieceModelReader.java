package io.damjava.tokenizer;

import static io.damjava.tokenizer.BpeTokenizerBase.SPACE_SYMBOL;
import static io.damjava.tokenizer.SentencePieceTokenizer.BYTE;
import static io.damjava.tokenizer.SentencePieceTokenizer.CONTROL;
import static io.damjava.tokenizer.SentencePieceTokenizer.NORMAL;
import static io.damjava.tokenizer.SentencePieceTokenizer.UNKNOWN;
import static io.damjava.tokenizer.SentencePieceTokenizer.UNUSED;
import static io.damjava.tokenizer.SentencePieceTokenizer.USER_DEFINED;

import io.damjava.tokenizer.SentencePieceTokenizer.Model;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a serialized SentencePiece {@code ModelProto} ({@code tokenizer.model}) into a {@link
 * SentencePieceTokenizer.Model}: pieces, scores and types, the trainer and normalizer options, the
 * id map and the decode table; rejects what the tokenizer does not support.
 */
final class SentencePieceModelReader {
  private static final int MODEL_TYPE_BPE = 2;

  private SentencePieceModelReader() {}

  static Model read(byte[] bytes) {
    Model m = new Model();
    List<String> pieces = new ArrayList<>();
    List<Float> scores = new ArrayList<>();
    List<Integer> types = new ArrayList<>();
    boolean sawTrainer = false;
    ProtoReader r = new ProtoReader(bytes, 0, bytes.length, "tokenizer.model");
    while (r.hasMore()) {
      int tag = r.readTag();
      int field = tag >>> 3;
      int wire = tag & 7;
      if (field == 1 && wire == ProtoReader.LEN) {
        ProtoReader p = r.readMessage("tokenizer.model pieces[" + pieces.size() + "]");
        String piece = null;
        float score = 0f;
        int type = NORMAL;
        while (p.hasMore()) {
          int t = p.readTag();
          if (t == (1 << 3 | ProtoReader.LEN)) {
            piece = p.readString();
          } else if (t == (2 << 3 | ProtoReader.FIXED32)) {
            score = p.readFloat();
          } else if (t == (3 << 3 | ProtoReader.VARINT)) {
            type = (int) p.readVarint();
          } else {
            p.skip(t & 7);
          }
        }
        if (piece == null || piece.isEmpty()) {
          throw p.error("piece must not be empty");
        }
        if (type < NORMAL || type > BYTE) {
          throw p.error("unknown piece type " + type);
        }
        pieces.add(piece);
        scores.add(score);
        types.add(type);
      } else if (field == 2 && wire == ProtoReader.LEN) {
        sawTrainer = true;
        readTrainerSpec(r.readMessage("tokenizer.model trainer_spec"), m);
      } else if (field == 3 && wire == ProtoReader.LEN) {
        readNormalizerSpec(r.readMessage("tokenizer.model normalizer_spec"), m);
      } else {
        r.skip(wire);
      }
    }
    if (pieces.isEmpty()) {
      throw new TokenizerFormatException("tokenizer.model: no pieces (empty or not a model file)");
    }
    if (!sawTrainer) {
      throw new TokenizerFormatException("tokenizer.model: trainer_spec is missing");
    }
    if (m.modelType != MODEL_TYPE_BPE) {
      throw new TokenizerFormatException(
          "tokenizer.model: trainer_spec.model_type is "
              + modelTypeName(m.modelType)
              + "; only BPE (2) is supported");
    }
    if (m.charsMapLength > 0 && !"identity".equals(m.normalizerName)) {
      throw new TokenizerFormatException(
          "tokenizer.model: normalizer '"
              + m.normalizerName
              + "' is not supported; only 'identity' (no precompiled_charsmap) is");
    }
    if (m.treatWhitespaceAsSuffix) {
      throw new TokenizerFormatException(
          "tokenizer.model: trainer_spec.treat_whitespace_as_suffix is not supported");
    }
    int n = pieces.size();
    m.pieces = pieces.toArray(new String[0]);
    m.scores = new float[n];
    m.types = new int[n];
    Map<String, Integer> ids = new HashMap<>(n * 2);
    for (int i = 0; i < n; i++) {
      String piece = m.pieces[i];
      int type = types.get(i);
      m.scores[i] = scores.get(i);
      m.types[i] = type;
      boolean normal = type == NORMAL || type == USER_DEFINED || type == UNUSED;
      Map<String, Integer> target = normal ? m.mergeable : m.reserved;
      if (target.putIfAbsent(piece, i) != null) {
        throw new TokenizerFormatException("tokenizer.model: piece " + piece + " is defined twice");
      }
      ids.putIfAbsent(piece, i);
      if (type == UNKNOWN) {
        if (m.unk >= 0) {
          throw new TokenizerFormatException("tokenizer.model: more than one UNKNOWN piece");
        }
        m.unk = i;
      } else if (type == USER_DEFINED) {
        m.userDefined.computeIfAbsent(piece.charAt(0), k -> new ArrayList<>()).add(piece);
      } else if (type == BYTE && !m.byteFallback) {
        throw new TokenizerFormatException(
            "tokenizer.model: byte piece " + piece + " found although byte_fallback is false");
      }
    }
    if (m.unk < 0) {
      throw new TokenizerFormatException("tokenizer.model: no UNKNOWN (<unk>) piece");
    }
    for (List<String> list : m.userDefined.values()) {
      list.sort((a, b) -> Integer.compare(b.length(), a.length()));
    }
    m.bos = controlId(m, ids, m.bosPiece);
    m.eos = controlId(m, ids, m.eosPiece);
    String[] text = new String[n];
    String[] noLead = new String[n];
    int[] byteValue = new int[n];
    boolean[] special = new boolean[n];
    String[] specialText = new String[n];
    Arrays.fill(byteValue, -1);
    for (int i = 0; i < n; i++) {
      String piece = m.pieces[i];
      switch (m.types[i]) {
        case CONTROL -> {
          special[i] = true;
          text[i] = "";
          specialText[i] = piece;
        }
        case UNKNOWN -> text[i] = m.unkSurface;
        case BYTE -> {
          byteValue[i] = parseBytePiece(piece);
          text[i] = "";
        }
        default -> {
          text[i] = piece.replace(SPACE_SYMBOL, ' ');
          if (piece.charAt(0) == SPACE_SYMBOL) {
            noLead[i] = piece.substring(1).replace(SPACE_SYMBOL, ' ');
          }
        }
      }
    }
    for (int b = 0; m.byteFallback && b < 256; b++) {
      Integer id = m.reserved.get(String.format("<0x%02X>", b));
      if (id == null || m.types[id] != BYTE) {
        throw new TokenizerFormatException(
            "tokenizer.model: byte_fallback is true but byte piece "
                + String.format("<0x%02X>", b)
                + " is missing");
      }
    }
    DecodeTable table =
        new DecodeTable(
            DecodeTable.Flavor.SENTENCEPIECE,
            text,
            noLead,
            byteValue,
            special,
            specialText,
            m.addDummyPrefix || m.removeExtraWhitespaces,
            m.removeExtraWhitespaces,
            0,
            ' ',
            false,
            null,
            m.unk);
    m.ids = ids;
    m.table = table;
    return m;
  }

  private static int controlId(Model m, Map<String, Integer> ids, String piece) {
    Integer id = ids.get(piece);
    return id != null && m.types[id] == CONTROL ? id : -1;
  }

  private static int parseBytePiece(String piece) {
    if (piece.length() == 6 && piece.startsWith("<0x") && piece.endsWith(">")) {
      try {
        return Integer.parseInt(piece.substring(3, 5), 16);
      } catch (NumberFormatException e) {
        // fall through
      }
    }
    throw new TokenizerFormatException("tokenizer.model: invalid byte piece " + piece);
  }

  private static String modelTypeName(int type) {
    return switch (type) {
      case 1 -> "UNIGRAM (1)";
      case 2 -> "BPE (2)";
      case 3 -> "WORD (3)";
      case 4 -> "CHAR (4)";
      default -> "unknown (" + type + ")";
    };
  }

  private static void readTrainerSpec(ProtoReader r, Model m) {
    while (r.hasMore()) {
      int tag = r.readTag();
      switch (tag) {
        case 3 << 3 | ProtoReader.VARINT -> m.modelType = (int) r.readVarint();
        case 24 << 3 | ProtoReader.VARINT -> m.treatWhitespaceAsSuffix = r.readVarint() != 0;
        case 35 << 3 | ProtoReader.VARINT -> m.byteFallback = r.readVarint() != 0;
        case 44 << 3 | ProtoReader.LEN -> m.unkSurface = r.readString();
        case 46 << 3 | ProtoReader.LEN -> m.bosPiece = r.readString();
        case 47 << 3 | ProtoReader.LEN -> m.eosPiece = r.readString();
        default -> r.skip(tag & 7);
      }
    }
  }

  private static void readNormalizerSpec(ProtoReader r, Model m) {
    while (r.hasMore()) {
      int tag = r.readTag();
      switch (tag) {
        case 1 << 3 | ProtoReader.LEN -> m.normalizerName = r.readString();
        case 2 << 3 | ProtoReader.LEN -> m.charsMapLength = r.readString().length();
        case 3 << 3 | ProtoReader.VARINT -> m.addDummyPrefix = r.readVarint() != 0;
        case 4 << 3 | ProtoReader.VARINT -> m.removeExtraWhitespaces = r.readVarint() != 0;
        case 5 << 3 | ProtoReader.VARINT -> m.escapeWhitespaces = r.readVarint() != 0;
        default -> r.skip(tag & 7);
      }
    }
  }
}

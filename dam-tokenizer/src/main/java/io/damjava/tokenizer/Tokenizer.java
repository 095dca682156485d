package io.damjava.tokenizer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A BPE tokenizer for the DAM language model (Llama-2 vocabulary), read from a SentencePiece {@code
 * tokenizer.model} or a Hugging Face {@code tokenizer.json}. Instances are immutable and
 * thread-safe.
 *
 * <p>Input strings with unpaired UTF-16 surrogates are encoded as if each lone surrogate were
 * U+FFFD (what sentencepiece does with malformed UTF-8).
 */
public sealed interface Tokenizer permits BpeTokenizerBase {

  /**
   * Encodes text to token ids.
   *
   * @param text any string (may be empty)
   * @param addBos whether to add the BOS id (sentencepiece) or apply the {@code post_processor}
   *     template (tokenizer.json), as {@code add_special_tokens=True} does
   * @return the ids, a fresh array
   */
  int[] encode(String text, boolean addBos);

  /**
   * Decodes ids to text exactly as the reference library would.
   *
   * @param ids token ids, each in {@code [0, vocabSize())}
   * @param skipSpecial drop special/control tokens (BOS, EOS, ...) instead of printing them; for a
   *     SentencePiece model, printed control tokens restart the leading-space rule after them, as
   *     transformers' slow LlamaTokenizer does
   * @return the text
   * @throws IllegalArgumentException if an id is negative or not below {@link #vocabSize()}
   */
  String decode(int[] ids, boolean skipSpecial);

  /** Returns the number of ids (the largest id plus one). */
  int vocabSize();

  /** Returns the BOS id, or -1 if the vocabulary has none. */
  int bosId();

  /** Returns the EOS id, or -1 if the vocabulary has none. */
  int eosId();

  /** Returns the unknown-token id, or -1 if the vocabulary has none. */
  int unkId();

  /**
   * Returns the vocabulary string of an id (with U+2581 for spaces, {@code <0xE2>} for bytes).
   *
   * @throws IllegalArgumentException if the id is out of range
   */
  String idToPiece(int id);

  /** Returns the id of a vocabulary string, or -1. */
  int pieceToId(String piece);

  /**
   * Loads a tokenizer, choosing the format by file name: {@code *.json} is read as a Hugging Face
   * {@code tokenizer.json}, anything else as a SentencePiece model ({@code tokenizer.model}).
   *
   * @throws IOException if the file cannot be read
   * @throws TokenizerFormatException if the file is malformed or unsupported
   */
  static Tokenizer load(Path path) throws IOException {
    String name = path.getFileName() == null ? "" : path.getFileName().toString();
    if (name.endsWith(".json")) {
      return fromTokenizerJson(Files.readString(path, StandardCharsets.UTF_8));
    }
    return fromSentencePieceModel(Files.readAllBytes(path));
  }

  /**
   * Reads a serialized SentencePiece {@code ModelProto} (BPE with identity normalisation only).
   *
   * @throws TokenizerFormatException if the bytes are malformed or the model is unsupported
   */
  static Tokenizer fromSentencePieceModel(byte[] modelProto) {
    return SentencePieceTokenizer.parse(modelProto);
  }

  /**
   * Reads the text of a Hugging Face {@code tokenizer.json} (model type BPE).
   *
   * @throws TokenizerFormatException naming the JSON path of a missing or unsupported field
   */
  static Tokenizer fromTokenizerJson(String json) {
    return HuggingFaceTokenizer.parse(json);
  }
}

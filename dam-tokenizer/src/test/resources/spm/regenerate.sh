#!/bin/sh
# Regenerates the small SentencePiece models and their golden ids in this folder.
# Needs Debian's sentencepiece CLIs (spm_train, spm_encode, spm_decode; package `sentencepiece`,
# 0.1.97 when these were made) and python3. Run from anywhere:
#   sh dam-tokenizer/src/test/resources/spm/regenerate.sh
# Outputs: corpus.txt, inputs.txt, <model>.model, <model>.ids.txt (spm_encode --output_format=id),
# <model>.decoded.txt (spm_decode --input_format=id of those ids).
set -eu
cd "$(dirname "$0")"
python3 make_corpus.py

train() { # name, extra flags
  name=$1; shift
  spm_train --input=corpus.txt --model_prefix="$name" --model_type=bpe --vocab_size=520 \
    --character_coverage=0.98 --byte_fallback=true --normalization_rule_name=identity \
    --minloglevel=2 "$@" >/dev/null 2>&1
  rm -f "$name.vocab"
  spm_encode --model="$name.model" --output_format=id < inputs.txt > "$name.ids.txt"
  spm_decode --model="$name.model" --input_format=id < "$name.ids.txt" > "$name.decoded.txt"
}
# Like Llama's tokenizer.model: dummy prefix on, extra whitespace kept.
train bpe_llama_like --add_dummy_prefix=true --remove_extra_whitespaces=false
# No dummy prefix, extra whitespace removed.
train bpe_nodummy_rmws --add_dummy_prefix=false --remove_extra_whitespaces=true
# Dummy prefix and extra whitespace removed (sentencepiece defaults), with a user-defined symbol.
train bpe_dummy_rmws --add_dummy_prefix=true --remove_extra_whitespaces=true \
  --user_defined_symbols='<image>'
# A unigram model, which the Java reader must reject.
spm_train --input=corpus.txt --model_prefix=unigram --model_type=unigram --vocab_size=100 --normalization_rule_name=identity \
  --minloglevel=2 >/dev/null 2>&1
rm -f unigram.vocab
rm -f corpus.txt

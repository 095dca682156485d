#!/bin/sh
# Fetches the Llama-2 vocabulary used by the dam-tokenizer tests (not committed: Llama 2 licence).
# Source: npm package llama-tokenizer-js@1.2.2 (MIT code; the data is Meta's Llama-2 tokenizer).
# Usage (from the repository root or anywhere):
#   sh dam-tokenizer/src/test/fetch-llama-vocab.sh
# Puts package/llama-tokenizer.js under $LLAMA_VOCAB_DIR (default dam-tokenizer/target/llama-tokenizer-js).
# Needs npm and network access to the npm registry.
set -eu
module_dir=$(cd "$(dirname "$0")/../.." && pwd)
dest=${LLAMA_VOCAB_DIR:-$module_dir/target/llama-tokenizer-js}
if [ -f "$dest/package/llama-tokenizer.js" ]; then
  echo "already present: $dest/package/llama-tokenizer.js"
  exit 0
fi
mkdir -p "$dest"
cd "$dest"
tarball=$(npm pack --silent llama-tokenizer-js@1.2.2 | tail -n 1)
tar xzf "$tarball" package/llama-tokenizer.js package/LICENSE.md
rm -f "$tarball"
echo "fetched: $dest/package/llama-tokenizer.js"

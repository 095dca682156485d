#!/usr/bin/env bash
# Greedy-token agreement between the fp16-faithful PyTorch decoder (precision_agreement.py) and OUR
# converted ONNX Runtime bundles (fp32, int8, int4 from dam-convert, decoded by the engine's own
# Decoder through ./dam bench agree). docs/PERFORMANCE.md, "Agreement with NVIDIA's fp16 arithmetic".
#
#   tools/reference/engine_agreement.sh [WORKDIR]     (default target/agreement; ~6 GB of disk)
#   env: LAYERS (2) PROMPTS (104) TOKENS (100) PROMPT_LEN (16) LM_PEAK (0.5) PRECISIONS (fp32 int8 int4)
#        THREADS (2) MODES (fp32: the emulated torch modes also scored)
#   A precision may name a MatMulNBits block size: PRECISIONS="int4@32 int4@128" converts with
#   --block-size 32 and 128 (docs/conversion.md "Block size").
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work="$(mkdir -p "${1:-$root/target/agreement}" && cd "${1:-$root/target/agreement}" && pwd)"
LAYERS=${LAYERS:-2} PROMPTS=${PROMPTS:-104} TOKENS=${TOKENS:-100} PROMPT_LEN=${PROMPT_LEN:-16}
LM_PEAK=${LM_PEAK:-0.5} PRECISIONS=${PRECISIONS:-fp32 int8 int4} THREADS=${THREADS:-2} MODES=${MODES-fp32}
py=/usr/bin/python3
if grep -q avx512f /proc/cpuinfo && [ -z "${OPENBLAS_CORETYPE:-}" ]; then export OPENBLAS_CORETYPE=SkylakeX; fi
t() { local s=$SECONDS; "$@"; echo "[$(( SECONDS - s )) s] $*" >&2; }
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
ckpt="$work/ckpt"
if [ ! -f "$ckpt/config.json" ]; then
  t "$py" "$root/tools/reference/make_checkpoint.py" --preset bench --layers "$LAYERS" --lm-peak "$LM_PEAK" --out "$ckpt"
fi
if [ ! -f "$work/ref/reference.json" ]; then
  t "$py" "$root/tools/reference/precision_agreement.py" --layers "$LAYERS" --lm-peak "$LM_PEAK" --prompts "$PROMPTS" \
    --tokens "$TOKENS" --prompt-len "$PROMPT_LEN" --threads "$THREADS" --modes "$MODES" --save "$work/ref"
fi
engines=()
for p in $PRECISIONS; do
  if [ ! -f "$work/bundle-$p/dam-bundle.json" ]; then
    rm -rf "$work/bundle-$p"
    block=()
    if [[ "$p" == *@* ]]; then block=(--block-size "${p#*@}"); fi
    t "$root/dam" convert --checkpoint "$ckpt" --out "$work/bundle-$p" --precision "${p%@*}" "${block[@]}"
  fi
  if [ ! -f "$work/engine-$p.json" ]; then
    t "$root/dam" bench agree --bundle "$work/bundle-$p" --prompts "$work/ref/prompts.json" \
      --out "$work/engine-$p.json" --threads "$THREADS"
  fi
  engines+=(--engine "$p=$work/engine-$p.json")
done
"$py" "$root/tools/reference/precision_agreement.py" --compare "$work/ref" "${engines[@]}" --json "$work/agreement.json"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

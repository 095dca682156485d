#!/usr/bin/env bash
# The prepared GPU check of issue #18 (docs/cuda.md): one run, under 10 minutes on a 16-core H200.
#   tools/device/cuda-check.sh [--device cuda:0|cpu] [--layers N] [--tokens 100] [--work DIR]
# 1. checks the GPU and the CUDA libraries (fails in seconds, naming what is missing);
# 2. writes the random bench checkpoint (make_checkpoint.py --preset bench; full DAM-3B depth unless
#    --layers) into --work, once;
# 3. converts it to --precision fp16 --compute fp16, once;
# 4. io.damjava.bench.DeviceCheck: sessions, vision, prefill, 100 chained decode steps, describe()
#    of one region; prints JSON with tokens/s and decode ÷ HBM bound (H100 3350, H200 4800 GB/s;
#    DAM_HBM_GBPS overrides). The JSON also goes to $OUT/device-check.json when $OUT is set.
# --device cpu is the dry run of the same path on ONNX Runtime's CPU build (its jar from ~/.m2).
# Needs: tools/device/stage/dam-bench-noort.jar (tools/device/stage.sh), Java 17, python3 + numpy,
# and for CUDA the GPU ONNX Runtime jar (DAM_ORT_JAR or shared/device/onnxruntime_gpu-*.jar).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
device=cuda:0
layers=""
tokens=100
work="${DAM_DEVICE_WORK:-/tmp/dam-device}"
while [ $# -gt 0 ]; do
  case "$1" in
    --device) device="$2"; shift 2 ;;
    --layers) layers="$2"; shift 2 ;;
    --tokens) tokens="$2"; shift 2 ;;
    --work) work="$2"; shift 2 ;;
    *) echo "cuda-check: unknown option $1" >&2; exit 2 ;;
  esac
done
say() { echo "[cuda-check $(date +%H:%M:%S)] $*" >&2; }
jar="$root/tools/device/stage/dam-bench-noort.jar"
[ -f "$jar" ] || { echo "cuda-check: $jar missing: run tools/device/stage.sh first" >&2; exit 1; }
command -v java >/dev/null || { echo "cuda-check: java 17+ is not on the PATH" >&2; exit 1; }

hbm="${DAM_HBM_GBPS:-0}"
if [ "$device" = cpu ]; then
  ort="${DAM_ORT_JAR:-$HOME/.m2/repository/com/microsoft/onnxruntime/onnxruntime/1.29.0/onnxruntime-1.29.0.jar}"
  threads="$(nproc)"
else
  ort="${DAM_ORT_JAR:-$(ls "$root"/shared/device/onnxruntime_gpu-*.jar 2>/dev/null | head -1 || true)}"
  [ -n "$ort" ] && [ -f "$ort" ] || { echo "cuda-check: no GPU ONNX Runtime jar: set DAM_ORT_JAR (docs/cuda.md)" >&2; exit 1; }
  command -v nvidia-smi >/dev/null || { echo "cuda-check: nvidia-smi not found: no NVIDIA driver" >&2; exit 1; }
  gpu="$(nvidia-smi --query-gpu=name,memory.total --format=csv,noheader | head -1)"
  say "GPU: $gpu"
  case "$gpu" in
    *H200*) [ "$hbm" = 0 ] && hbm=4800 ;;
    *H100*) [ "$hbm" = 0 ] && hbm=3350 ;;
  esac
  for lib in libcudart.so.12 libcublas.so.12 libcublasLt.so.12 libcudnn.so.9 libcufft.so.11; do
    if ! ldconfig -p 2>/dev/null | grep -q "$lib" && \
       ! find ${LD_LIBRARY_PATH//:/ } /usr/local/cuda/lib64 -maxdepth 1 -name "$lib*" 2>/dev/null | grep -q .; then
      echo "cuda-check: $lib not found (ldconfig, LD_LIBRARY_PATH, /usr/local/cuda/lib64): ONNX Runtime's CUDA provider needs CUDA 12 and cuDNN 9" >&2
      exit 1
    fi
  done
  threads=4
fi
say "ONNX Runtime jar: $ort"

py=/usr/bin/python3
"$py" -c 'import numpy' 2>/dev/null || py=python3
"$py" -c 'import numpy' 2>/dev/null || { echo "cuda-check: python3 with numpy is needed to write the checkpoint" >&2; exit 1; }
tag="full"; [ -n "$layers" ] && tag="L$layers"
ckpt="$work/ckpt-$tag"
bundle="$work/bundle-$tag-fp16c"
mkdir -p "$work"
if [ ! -f "$ckpt/config.json" ]; then
  say "writing the random bench checkpoint ($tag) to $ckpt"
  rm -rf "$ckpt"
  "$py" "$root/tools/reference/make_checkpoint.py" --preset bench --variant image \
    ${layers:+--layers "$layers"} --out "$ckpt" >&2
fi
say "DeviceCheck on $device (converts once to $bundle)"
out="$(java -Xmx24g -cp "$ort:$jar" io.damjava.bench.DeviceCheck --checkpoint "$ckpt" \
  --bundle "$bundle" --device "$device" --tokens "$tokens" --threads "$threads" --hbm-gbps "$hbm")"
echo "$out"
if [ -n "${OUT:-}" ]; then
  echo "$out" > "$OUT/device-check.json"
fi

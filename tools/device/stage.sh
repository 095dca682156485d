#!/usr/bin/env bash
# Prepares what tools/device/cuda-check.sh needs on a GPU machine without internet (docs/cuda.md):
#   tools/device/stage/dam-bench-noort.jar   dam-bench's runnable jar without ONNX Runtime (~10 MB),
#                                            so that the GPU build of ONNX Runtime can go first
# and checks that the GPU ONNX Runtime jar is where cuda-check.sh looks (DAM_ORT_JAR, or
# shared/device/onnxruntime_gpu-*.jar). Run it here, then carry tools/device/stage.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
stage="$root/tools/device/stage"
mkdir -p "$stage"
(cd "$root" && mvn -B -q -o -DskipTests -Dspotless.check.skip=true -pl dam-bench -am package)
/usr/bin/python3 - "$root/dam-bench/target/dam-bench.jar" "$stage/dam-bench-noort.jar" <<'PY'
import sys, zipfile
src, dst = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(src) as zi, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zo:
    for e in zi.infolist():
        if e.filename.startswith("ai/onnxruntime/") or e.filename.startswith("META-INF/native"):
            continue  # ONNX Runtime comes from its own jar (CPU or GPU build)
        zo.writestr(e, zi.read(e.filename))
PY
ls -la "$stage/dam-bench-noort.jar"
gpu="${DAM_ORT_JAR:-$(ls "$root"/shared/device/onnxruntime_gpu-*.jar 2>/dev/null | head -1 || true)}"
if [ -z "$gpu" ]; then
  echo "stage: no GPU ONNX Runtime jar yet: on a machine with Maven Central run" >&2
  echo "  mvn dependency:copy -Dartifact=com.microsoft.onnxruntime:onnxruntime_gpu:1.29.0 -DoutputDirectory=shared/device" >&2
  echo "(cuda-check.sh --device cpu works without it)" >&2
else
  echo "stage: GPU ONNX Runtime jar: $gpu"
fi

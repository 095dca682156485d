#!/usr/bin/env bash
# End-to-end tests of the page served by `dam serve`, in Debian's chromium (never a downloaded
# browser). Converts the tiny joint checkpoint and writes the tiny SAM bundle, computes the greedy
# goldens with the CLI, starts `dam serve` on loopback with an API key, runs page.test.mjs, stops
# the server. Needs chromium (apt), node and npm; run from anywhere:
#   dam-server/src/test/browser/run.sh
# Env: CHROMIUM (default /usr/bin/chromium), DAM_MAVEN_ARGS (e.g. -o), KEEP=1 keeps the work folder,
#      SCREENSHOT=docs/page.png writes the page after describing (a 128-colour PNG, with python3-pil).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../../.." && pwd)"
cd "$root"
work="$(mktemp -d "${TMPDIR:-/tmp}/dam-page.XXXXXX")"
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  [ "${KEEP:-}" = 1 ] && echo "work folder kept: $work" || rm -rf "$work"
}
trap cleanup EXIT

echo "== page tests: npm packages"
(cd "$here" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)

echo "== page tests: tiny bundles"
./dam --version >/dev/null # builds dam-cli/target/dam.jar when sources changed
# shellcheck disable=SC2086
mvn -B -q ${DAM_MAVEN_ARGS:-} -pl dam-convert -am test-compile -Dspotless.check.skip=true
java -cp dam-cli/target/dam.jar:dam-convert/target/test-classes "$here/MakeTinySam.java" "$work/sam"
./dam convert --checkpoint tools/reference/fixtures/tiny-joint --out "$work/tiny" >/dev/null

echo "== page tests: greedy goldens from the CLI"
inputs=tools/reference/goldens/inputs
mkdir -p "$work/frames" "$work/masks"
cp "$inputs"/video_frame?.png "$work/frames/"
cp "$inputs"/video_mask?.png "$work/masks/"
greedy=(--temperature 0 --max-new-tokens 24 --threads 1 --json)
# The prompts page.test.mjs gives, in image pixels; the CLI answers boxes first, then clicks.
./dam describe --model "$work/tiny" --segmenter "$work/sam" --image tools/reference/fixtures/images/chelsea.png \
  --points 140,110 --box 250,60,400,220 "${greedy[@]}" >"$work/image-goldens.json"
./dam describe --model "$work/tiny" --video "$work/frames" --masks "$work/masks" "${greedy[@]}" \
  >"$work/video-golden.json"

echo "== page tests: dam serve on loopback"
key="page-test-key-$$"
./dam serve --model "$work/tiny" --segmenter "$work/sam" --port 0 --threads 1 --api-key "$key" \
  2>"$work/serve.log" &
server_pid=$!
for _ in $(seq 1 120); do
  url="$(grep -o 'http://127.0.0.1:[0-9]*' "$work/serve.log" || true)"
  [ -n "$url" ] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/serve.log"; exit 1; }
  sleep 0.5
done
[ -n "$url" ] || { echo "dam serve did not start"; cat "$work/serve.log"; exit 1; }

echo "== page tests: chromium against $url"
shot="${SCREENSHOT:+$work/screenshot.png}"
DAM_URL="$url" DAM_KEY="$key" DAM_WORK="$work" DAM_ROOT="$root" SCREENSHOT="$shot" \
  node "$here/page.test.mjs"
if [ -n "$shot" ]; then
  /usr/bin/python3 -c "import sys; from PIL import Image
Image.open(sys.argv[1]).convert('RGB').quantize(colors=128, dither=Image.Dither.NONE).save(sys.argv[2], optimize=True)" \
    "$shot" "$SCREENSHOT"
  echo "screenshot: $SCREENSHOT"
fi

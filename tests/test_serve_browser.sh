#!/usr/bin/env bash
# The web page in a real browser: Debian's chromium, headless, driven by
# Playwright (npm playwright-core, installed on first use into build/node,
# gitignored), its camera faked with --use-file-for-fake-video-capture from a
# y4m the test makes of Film photos (a few seconds per person).
#  1. Live: the page names each person of the video in turn (read from the
#     DOM, #live-names) — oracle: the Film folder the photos come from;
#     a screenshot is saved (build/serve-browser-live.png).
#  2. Enrolment from the fake camera: a person removed from the gallery is
#     enrolled under a new name from webcam frames, then named live by it.
# Usage: tests/test_serve_browser.sh build/opt   (the sanitised build: skipped,
# the same server code is exercised by test_serve under ASan)
set -u
cd "$(dirname "$0")/.."
variant=${1:?usage: test_serve_browser.sh BUILD_VARIANT_DIR}
SHARED=${SHARED:-../shared}
MODELS=${MODELS:-models}
cli=${FACENET_BIN:-$variant/facenet}
FILM=$SHARED/fixtures/film
skip() { echo "SKIP: $*"; exit 77; }
case "$variant" in *asan*|*tsan*) skip "the browser test runs on the optimised build only (test_serve covers the server under ASan)";; esac
[ -d "$FILM/Predict" ] || skip "no Film photos under $SHARED (../shared is absent)"
[ -f "$MODELS/MobileFaceNet.tflite" ] || skip "no model bundle in $MODELS (make models)"
command -v chromium >/dev/null || skip "Debian's chromium is absent (make deps-check)"
command -v node >/dev/null || skip "node is absent (make deps-check)"
PW_DIR=build/node
PW=$PW_DIR/node_modules/playwright-core
if [ ! -f "$PW/package.json" ]; then
  command -v npm >/dev/null || skip "npm is absent, and playwright-core is not installed in $PW_DIR"
  mkdir -p "$PW_DIR"
  timeout 300 npm install --prefix "$PW_DIR" --no-save --no-audit --no-fund playwright-core@1.49.1 >/dev/null 2>&1 ||
    skip "npm could not install playwright-core (no registry?)"
fi
tmp=$(mktemp -d)
srv=
trap '[ -n "$srv" ] && kill $srv 2>/dev/null; rm -rf "$tmp"' EXIT
export OMP_WAIT_POLICY=passive

# The people: the first two of Predict live, the third enrolled from the camera.
mapfile -t people < <(ls "$FILM/Predict" | head -3)
"$cli" enroll --models-dir "$MODELS" --gallery "$tmp/g.db" "$FILM/Film/Test" >/dev/null 2>&1 || { echo "FAIL: enroll"; exit 1; }
/usr/bin/python3 - "$tmp" "$FILM" "${people[@]}" <<'PY' || { echo "FAIL: making the y4m videos"; exit 1; }
import os, sys
import numpy as np
from PIL import Image
tmp, film, people = sys.argv[1], sys.argv[2], sys.argv[3:]
def frame(path):
    im = Image.open(path).convert("RGB")
    im.thumbnail((640, 480))
    c = Image.new("RGB", (640, 480), (128, 128, 128))
    c.paste(im, ((640 - im.width) // 2, (480 - im.height) // 2))
    ycc = np.asarray(c.convert("YCbCr"))     # JPEG's full-range YCbCr: the y4m's C420jpeg
    y = ycc[:, :, 0]
    cb = ycc[:, :, 1].reshape(240, 2, 320, 2).mean(axis=(1, 3)).round().astype(np.uint8)
    cr = ycc[:, :, 2].reshape(240, 2, 320, 2).mean(axis=(1, 3)).round().astype(np.uint8)
    return b"FRAME\n" + y.tobytes() + cb.tobytes() + cr.tobytes()
def first(p):
    d = os.path.join(film, "Predict", p)
    return os.path.join(d, sorted(os.listdir(d))[0])
def y4m(name, paths, seconds):
    with open(os.path.join(tmp, name), "wb") as f:
        f.write(b"YUV4MPEG2 W640 H480 F10:1 Ip A1:1 C420jpeg\n")
        for p in paths:
            fr = frame(p)
            for _ in range(10 * seconds):
                f.write(fr)
y4m("live.y4m", [first(people[0]), first(people[1])], 4)
y4m("enrol.y4m", [first(people[2])], 4)
PY
"$cli" serve --models-dir "$MODELS" --gallery "$tmp/g.db" --listen 127.0.0.1:0 --workers 2 2> "$tmp/server.log" &
srv=$!
for _ in $(seq 100); do grep -q "listening on" "$tmp/server.log" && break; sleep 0.1; done
port=$(sed -n 's/.*listening on http:\/\/127.0.0.1:\([0-9]*\)\/.*/\1/p' "$tmp/server.log")
[ -n "$port" ] || { echo "FAIL: the server did not start"; cat "$tmp/server.log"; exit 1; }
# the third person leaves the gallery: the camera enrols them under a new name
/usr/bin/python3 -c "import urllib.request, urllib.parse, sys
o = urllib.request.build_opener(urllib.request.ProxyHandler({}))
o.open(urllib.request.Request('http://127.0.0.1:$port/v1/people/' + urllib.parse.quote(sys.argv[1]), method='DELETE'))" "${people[2]}" ||
  { echo "FAIL: removing ${people[2]}"; exit 1; }
NODE_PATH=$PW_DIR/node_modules node tests/serve_browser.cjs "http://127.0.0.1:$port/" "$(command -v chromium)" "$tmp" \
  build/serve-browser "${people[@]}"
rc=$?
kill -TERM $srv; wait $srv; src=$?
srv=
[ $src -eq 0 ] || { echo "FAIL: the server's exit after SIGTERM: $src"; cat "$tmp/server.log"; rc=1; }
exit $rc

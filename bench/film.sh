#!/usr/bin/env bash
# The main job end to end on the Film set: enroll Film/Test (20 images),
# identify Predict (100 images), wall time through the CLI with the default
# model bundle.  There is no peer: nothing on this machine runs TFLite; the
# per-stage peers are in mtcnn.sh (detection) and irv1.sh (embedding).
set -eu
cd "$(dirname "$0")/.."
BUILD=${1:-build/opt}
SHARED=${SHARED:-../shared}
MODELS=${MODELS:-models}
film="$SHARED/fixtures/film"
if [ ! -d "$film" ] || [ ! -f "$MODELS/MobileFaceNet.tflite" ]; then
  echo "skip film: $film or $MODELS/MobileFaceNet.tflite missing"; exit 0
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
now() { date +%s.%N; }
t0=$(now)
"$BUILD/facenet" enroll --models-dir "$MODELS" --gallery "$tmp/g.db" "$film/Film/Test" >/dev/null 2>&1
t1=$(now)
"$BUILD/facenet" identify --models-dir "$MODELS" --gallery "$tmp/g.db" --json "$film/Predict" > "$tmp/id.jsonl" 2>/dev/null
t2=$(now)
faces=$(wc -l < "$tmp/id.jsonl")
awk -v a="$t0" -v b="$t1" -v c="$t2" -v f="$faces" 'BEGIN {
  printf "film_enroll_s=%.2f (20 images)\nfilm_identify_s=%.2f (100 images, %d faces)\nfilm_ms_per_image=%.1f\n",
         b - a, c - b, f, (c - b) * 10 }'

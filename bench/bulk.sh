#!/usr/bin/env bash
# Bulk jobs through the pipelined executor (fn_batch) against the
# one-at-a-time path (--batch 1: each file decoded, detected, embedded and
# committed alone, as before the executor), in the same run, interleaved:
#  1. `facenet enroll` of LFW's development images (one folder per person):
#     images/s, CPU busy (user+sys / wall), and the two galleries' rows.
#  1b. facenet-pytorch's pipeline against `enroll` on the first PEER_N photos.
#  2. `facenet embed --aligned --model irv1.pt` over 1000 160x160 crops:
#     ms/face after load, against the library's own batch-16 figure
#     (bench_irv1, same checkpoint, same run).
# Usage: bench/bulk.sh build/opt (run by bench/run.sh).  LIMIT=N enrols only
# the first N person folders (default: all 4,038 = 4,991 images); REPS=N
# repetitions of each (default 1; medians printed).
set -eu
cd "$(dirname "$0")/.."
BUILD=${1:-build/opt}
SHARED=${SHARED:-../shared}
MODELS=${MODELS:-models}
REPS=${REPS:-1}
LIMIT=${LIMIT:-0}
FN="$BUILD/facenet"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores"

# run NAME CMD...: wall, user+sys of one command into $tmp/NAME.times (appended)
run() {
  local name=$1; shift
  /usr/bin/time -f "%e %U %S" -o "$tmp/t" "$@" > "$tmp/$name.out" 2> "$tmp/$name.err" || {
    echo "$name failed:"; tail -3 "$tmp/$name.err"; return 1; }
  cat "$tmp/t" >> "$tmp/$name.times"
}
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
col() { awk -v c="$1" '{ print $c }' "$2" | median; }
cpu() { awk '{ print ($2 + $3) / $1 }' "$1" | median; }

lfw="$SHARED/datasets/lfw_view1/images"
if [ ! -d "$lfw" ] || [ ! -f "$MODELS/MobileFaceNet.tflite" ]; then
  echo "skip bulk enroll: $lfw or $MODELS/MobileFaceNet.tflite missing"
else
  src="$lfw"
  if [ "$LIMIT" -gt 0 ]; then
    src="$tmp/lfw"; mkdir -p "$src"
    abs=$(cd "$lfw" && pwd)
    for d in $(ls "$abs" | head -n "$LIMIT"); do ln -s "$abs/$d" "$src/$d"; done
  fi
  n=$(find -L "$src" -name '*.jpg' | wc -l)
  echo "== enroll: $n LFW development images (250x250), default models"
  for r in $(seq "$REPS"); do
    rm -f "$tmp"/one.db* "$tmp"/batched.db*
    run one "$FN" enroll --models-dir "$MODELS" --batch 1 --json --gallery "$tmp/one.db" "$src"
    run batched "$FN" enroll --models-dir "$MODELS" --json --gallery "$tmp/batched.db" "$src"
  done
  w1=$(col 1 "$tmp/one.times"); w2=$(col 1 "$tmp/batched.times")
  c1=$(cpu "$tmp/one.times"); c2=$(cpu "$tmp/batched.times")
  awk -v n="$n" -v a="$w1" -v b="$w2" -v ca="$c1" -v cb="$c2" 'BEGIN {
    printf "one_at_a_time: %.1f s, %.1f images/s, %.2f cores busy, %.1f ms CPU/image\n", a, n / a, ca, 1000 * a * ca / n
    printf "pipelined:     %.1f s, %.1f images/s, %.2f cores busy, %.1f ms CPU/image\n", b, n / b, cb, 1000 * b * cb / n
    printf "ratio enroll_images_per_s pipelined/one_at_a_time = %.2fx\n", a / b }'
  if command -v sqlite3 >/dev/null; then
    q='SELECT p.name, i.sha256, hex(e.vec) FROM images i JOIN people p ON p.id = i.person_id JOIN embeddings e ON e.image_id = i.id ORDER BY 1, 2'
    q2='SELECT p.name, i.sha256 FROM images i JOIN people p ON p.id = i.person_id ORDER BY 1, 2'
    same_rows=$(cmp -s <(sqlite3 "$tmp/one.db" "$q2") <(sqlite3 "$tmp/batched.db" "$q2") && echo yes || echo NO)
    same_bits=$(cmp -s <(sqlite3 "$tmp/one.db" "$q") <(sqlite3 "$tmp/batched.db" "$q") && echo yes || echo no)
    echo "galleries: $(sqlite3 "$tmp/one.db" 'SELECT count(*) FROM images') rows; same people and file hashes: $same_rows; embeddings bit-identical: $same_bits (tests/test_batch.c checks within 1e-5)"
  fi
fi

# 1b. facenet-pytorch's pipeline on the same photos (the issue's peer): MTCNN
#     with facenet-pytorch's weights (fixtures/mtcnn) and InceptionResnetV1
#     with the fixture checkpoint on both sides, the first PEER_N (100) LFW
#     photos; PyTorch embeds 32 crops a call (bench/python_torch_peer.py,
#     BATCH=32), facenet runs `enroll` (the executor) with the same nets.
ckpt="$SHARED/fixtures/facenet_random/irv1_random_legacy.pt.xz"
if [ -d "$lfw" ] && [ -f "$ckpt" ] && [ -d "$SHARED/fixtures/mtcnn" ] && /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  PEER_N=${PEER_N:-100}
  xz -dc "$ckpt" > "$tmp/irv1p.pt"
  mkdir -p "$tmp/peer"
  abs=$(cd "$lfw" && pwd); k=0
  for d in $(ls "$abs"); do
    [ "$k" -ge "$PEER_N" ] && break
    ln -s "$abs/$d" "$tmp/peer/$d"; k=$((k + $(ls "$abs/$d" | wc -l)))
  done
  np=$(find -L "$tmp/peer" -name '*.jpg' | wc -l)
  echo "== enroll vs facenet-pytorch's pipeline: $np LFW photos, MTCNN (facenet-pytorch weights) + InceptionResnetV1 (.pt)"
  run fpeer "$FN" enroll --models-dir "$MODELS" --model "$tmp/irv1p.pt" --mtcnn-dir "$SHARED/fixtures/mtcnn" \
    --json --gallery "$tmp/peer.db" "$tmp/peer"
  t=$(BATCH=32 /usr/bin/python3 bench/python_torch_peer.py torch "$SHARED" "$tmp/irv1p.pt" "$tmp/peer" 2>/dev/null)
  wf=$(col 1 "$tmp/fpeer.times"); tp=$(echo "$t" | sed -n 's/^seconds=\([0-9.]*\).*/\1/p')
  awk -v n="$np" -v f="$wf" -v p="$tp" 'BEGIN {
    printf "facenet enroll: %.1f s (%.1f images/s, load and all); PyTorch pipeline: %.1f s (%.1f images/s, load not timed)\n", f, n / f, p, n / p
    printf "ratio enroll_vs_facenet_pytorch = %.1fx\n", p / f }'
else
  echo "skip facenet-pytorch enrolment peer: $lfw, $ckpt, fixtures/mtcnn or torch missing"
fi

crops="$SHARED/fixtures/mtcnn_crops"
if [ ! -f "$ckpt" ] || [ ! -d "$crops" ]; then
  echo "skip embed --aligned: $ckpt or $crops missing"
else
  xz -dc "$ckpt" > "$tmp/irv1.pt"
  mkdir -p "$tmp/crops"
  set -- "$(cd "$crops" && pwd)"/*.png
  for i in $(seq 0 999); do
    eval "f=\${$(( i % $# + 1 ))}"
    ln -s "$f" "$tmp/crops/$(printf %04d "$i").png"
  done
  echo "== embed --aligned: 1000 crops (160x160), InceptionResnetV1 .pt"
  for r in $(seq "$REPS"); do
    run load1 "$FN" embed --aligned --model "$tmp/irv1.pt" --json "$tmp/crops/0000.png"
    run eone "$FN" embed --aligned --batch 1 --model "$tmp/irv1.pt" --json "$tmp/crops"
    run ebatched "$FN" embed --aligned --model "$tmp/irv1.pt" --json "$tmp/crops"
  done
  l=$(col 1 "$tmp/load1.times"); e1=$(col 1 "$tmp/eone.times"); e2=$(col 1 "$tmp/ebatched.times")
  lib=""
  if [ -x "$BUILD/bench/bench_irv1" ]; then
    "$BUILD/bench/bench_irv1" "$tmp/irv1.pt" 5 > "$tmp/lib.txt"
    lib=$(grep '^batch16_ms_per_face=' "$tmp/lib.txt" | cut -d= -f2)
  fi
  awk -v l="$l" -v a="$e1" -v b="$e2" -v lib="$lib" 'BEGIN {
    pa = 1000 * (a - l) / 999; pb = 1000 * (b - l) / 999
    printf "load + 1 face: %.2f s\n", l
    printf "one_at_a_time: %.1f s, %.2f ms/face after load\n", a, pa
    printf "pipelined:     %.1f s, %.2f ms/face after load\n", b, pb
    printf "ratio embed_ms_per_face one_at_a_time/pipelined = %.2fx\n", pa / pb
    if (lib != "") printf "ratio embed_ms_per_face pipelined/library_batch16 = %.2f (library bench_irv1 %.2f ms/face; goal <= 1.10)\n", pb / lib, lib }'
fi
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

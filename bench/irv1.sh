#!/usr/bin/env bash
# InceptionResnetV1: facenet vs its PyTorch peer, in the same run.
# Usage: bench/irv1.sh build/opt (run by bench/run.sh)
set -eu
cd "$(dirname "$0")/.."
BUILD=${1:-build/opt}
SHARED=${SHARED:-../shared}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
ITERS=${ITERS:-10}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ckpt="$SHARED/fixtures/facenet_random/irv1_random_legacy.pt.xz"
if [ -f "$ckpt" ] && [ -x "$BUILD/bench/bench_irv1" ]; then
  xz -dc "$ckpt" > "$tmp/irv1.pt"
  echo "== InceptionResnetV1 (160x160, fixture checkpoint) — facenet (C) =="
  "$BUILD/bench/bench_irv1" "$tmp/irv1.pt" "$ITERS" | tee "$tmp/c.txt"
  if /usr/bin/python3 -c 'import torch' 2>/dev/null; then
    echo "== PyTorch peer ($(/usr/bin/python3 -c 'import torch; print(torch.__version__)'), 2 threads) =="
    /usr/bin/python3 bench/irv1_peer.py "$tmp/irv1.pt" "$ITERS" | tee "$tmp/py.txt"
    get() { grep "^$1=" "$2" | head -1 | cut -d= -f2 | cut -d' ' -f1; }
    for k in batch1_ms_per_face batch16_ms_per_face load_ms peak_rss_mb; do
      awk -v k="$k" -v c="$(get $k "$tmp/c.txt")" -v p="$(get $k "$tmp/py.txt")" \
        'BEGIN { printf "ratio %-20s PyTorch/facenet = %.2fx  (facenet %s, PyTorch %s)\n", k, p / c, c, p }'
    done
  else
    echo "PyTorch not available: peer skipped"
  fi
else
  echo "skip InceptionResnetV1: $ckpt or $BUILD/bench/bench_irv1 missing"
fi

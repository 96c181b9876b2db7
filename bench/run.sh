#!/usr/bin/env bash
# Benchmarks, each against its peer measured in the same run.
# Usage: bench/run.sh build/opt   (make bench)
set -eu
cd "$(dirname "$0")/.."
BUILD=${1:-build/opt}
SHARED=${SHARED:-../shared}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
ITERS=${ITERS:-10}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), OMP_NUM_THREADS=$OMP_NUM_THREADS"

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

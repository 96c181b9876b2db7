#!/usr/bin/env bash
# MTCNN: facenet vs its PyTorch peer (bench/mtcnn_peer.py), in the same run.
# Usage: bench/mtcnn.sh build/opt (run by bench/run.sh).  BIG=0 skips the
# 12000x8000 case (the peer needs several GB and tens of seconds for it).
set -eu
cd "$(dirname "$0")/.."
BUILD=${1:-build/opt}
SHARED=${SHARED:-../shared}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
ITERS=${ITERS:-10}
BIG=${BIG:-1}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ ! -f "$SHARED/fixtures/mtcnn/pnet.pt" ] || [ ! -x "$BUILD/bench/bench_mtcnn" ]; then
  echo "skip MTCNN: $SHARED/fixtures or $BUILD/bench/bench_mtcnn missing"
  exit 0
fi
echo "== MTCNN (min_face 20, thresholds 0.6/0.7/0.7, factor 0.709) — facenet (C), $OMP_NUM_THREADS threads =="
"$BUILD/bench/bench_mtcnn" "$SHARED" "$ITERS" | tee "$tmp/c.txt"
[ "$BIG" = 1 ] && "$BUILD/bench/bench_mtcnn" "$SHARED" big | tee -a "$tmp/c.txt"
if /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  echo "== PyTorch peer ($(/usr/bin/python3 -c 'import torch; print(torch.__version__)'), $OMP_NUM_THREADS threads) =="
  /usr/bin/python3 bench/mtcnn_peer.py time "$SHARED" --threads "$OMP_NUM_THREADS" --reps "$ITERS" | tee "$tmp/py.txt"
  [ "$BIG" = 1 ] && /usr/bin/python3 bench/mtcnn_peer.py big "$SHARED" --threads "$OMP_NUM_THREADS" | tee -a "$tmp/py.txt"
  get() { grep "^$1=" "$2" | head -1 | cut -d= -f2 | cut -d' ' -f1; }
  for k in portrait512_mean_ms multiface_ms frame1080_ms big12000x8000_ms big12000x8000_peak_rss_mb; do
    c=$(get $k "$tmp/c.txt"); p=$(get $k "$tmp/py.txt")
    [ -n "$c" ] && [ -n "$p" ] || continue
    awk -v k="$k" -v c="$c" -v p="$p" \
      'BEGIN { printf "ratio %-26s PyTorch/facenet = %.2fx  (facenet %s, PyTorch %s)\n", k, p / c, c, p }'
  done
else
  echo "PyTorch not available: peer skipped"
fi

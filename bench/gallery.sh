#!/usr/bin/env bash
# make bench: bench_gallery with OpenMP threads that sleep while waiting
# (as the facenet command runs): FAISS's OpenMP workers and OpenBLAS's own
# threads otherwise spin against each other on a 2-core machine, and the
# ANN path measured 40 ms a query where it takes 1-2.
# First, when LFW and facenet's embedding cache are there, the real
# same-person / different-person distances beside the synthetic model's,
# and the ANN path against the exact scan on those real embeddings.
dir=${1:-build/opt}
shift || true
lfw=${SHARED:-../shared}/datasets/lfw_view1/images
cache=${XDG_CACHE_HOME:-$HOME/.cache}/facenet/embeddings.db
real=()
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ -d "$lfw" ] && [ -f "$cache" ]; then
  /usr/bin/python3 bench/lfw_spread.py "$lfw" "$cache" "$tmp/lfw.bin" && real=(--real "$tmp/lfw.bin") || true
else echo "LFW spread: skipped ($lfw or $cache absent)"; fi
OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive} "$dir/bench/bench_gallery" "${real[@]}" "$@"

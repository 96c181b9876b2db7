#!/usr/bin/env bash
# Runs every benchmark binary of a build variant (default build/opt); each
# prints its own numbers and the ratio against its peer measured in the same run.
set -u
cd "$(dirname "$0")/.."
variant="${1:-build/opt}"
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores, OMP_NUM_THREADS=${OMP_NUM_THREADS:-default}"
status=0
for b in "$variant"/bench/bench_*; do
  [ -x "$b" ] || continue
  echo "== $(basename "$b")"
  "$b" || status=1
done
exit $status

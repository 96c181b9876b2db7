#!/usr/bin/env bash
# Runs every benchmark binary of a build (default build/opt): each prints the
# machine, its own numbers and the ratio against its peer from the same run.
set -u
cd "$(dirname "$0")/.."
dir=${1:-build/opt}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
status=0
for b in "$dir"/bench/bench_*; do
  [ -x "$b" ] || continue
  echo "== $(basename "$b")"
  "$b" || status=1
  echo
done
exit $status

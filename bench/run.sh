#!/usr/bin/env bash
# make bench: every benchmark, each printing its numbers and the ratio
# against its peer measured in the same run.  A benchmark with a driver
# script (bench/NAME.sh, which also runs the peer) runs through it; any
# other bench_NAME binary runs alone.
set -u
cd "$(dirname "$0")/.."
dir=${1:-build/opt}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
status=0
for b in "$dir"/bench/bench_*; do
  [ -x "$b" ] || continue
  name=$(basename "$b"); name=${name#bench_}
  echo "== $name"
  if [ -f "bench/$name.sh" ]; then bash "bench/$name.sh" "$dir" || status=1
  else "$b" || status=1
  fi
  echo
done
# Driver scripts with no binary of their own (end-to-end CLI benchmarks).
for s in bench/*.sh; do
  name=$(basename "$s" .sh)
  [ "$name" = run ] && continue
  [ -e "$dir/bench/bench_$name" ] && continue
  echo "== $name"
  bash "$s" "$dir" || status=1
  echo
done
exit $status

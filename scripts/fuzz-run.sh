#!/usr/bin/env bash
# The fuzz campaign: each target in turn (one process at a time, niced: the
# machine is shared) for FUZZ_SECONDS, over its growing corpus
# build/fuzz/corpus/<target> plus the seeds and fuzz/regress/<target>/.
# Crashes land in build/fuzz/artifacts/<target>/; a line per run is appended
# to build/fuzz/campaign.tsv (date, target, seconds, executions, exec/s,
# coverage edges, features, corpus size, result).
# Usage: fuzz-run.sh BUILD_FUZZ_DIR TARGET...
set -uo pipefail
cd "$(dirname "$0")/.."
dir=$1; shift
secs=${FUZZ_SECONDS:-60}
export OMP_NUM_THREADS=1
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
log="$dir/campaign.tsv"
[ -f "$log" ] || printf 'date\ttarget\tseconds\texecs\texec_per_s\tcov\tft\tcorpus\tresult\n' > "$log"
rc_all=0
for t in "$@"; do
  max_len=$(awk -v t="$t" '$1 == t { print $2 }' fuzz/targets.txt)
  corpus="$dir/corpus/$t"; art="$dir/artifacts/$t/"
  mkdir -p "$corpus" "$art" "$dir/logs" "fuzz/regress/$t"
  out="$dir/logs/$t-$(date -u +%Y%m%dT%H%M%S).log"
  echo "== $t: ${secs}s (log $out)"
  start=$(date +%s)
  nice -n 15 "$dir/$t" -max_len="${max_len:-65536}" -max_total_time="$secs" -timeout=25 \
      -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$art" \
      "$corpus" "$dir/seeds/$t" "fuzz/regress/$t" > "$out" 2>&1
  rc=$?
  took=$(( $(date +%s) - start ))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out" | tail -1)
  eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$out" | tail -1)
  last=$(grep -E '^#[0-9]+' "$out" | tail -1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corp=$(sed -n 's/.* corp: \([0-9]*\)\/.*/\1/p' <<<"$last")
  if [ $rc -eq 0 ]; then result=ok; else result="CRASH($(ls -t "$art" | head -1))"; rc_all=1; fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%F)" "$t" "$took" "${execs:-?}" "${eps:-?}" \
      "${cov:-?}" "${ft:-?}" "${corp:-?}" "$result" | tee -a "$log"
  [ $rc -eq 0 ] || grep -m3 -E 'ERROR|runtime error|property failed|SUMMARY' "$out"
done
exit $rc_all

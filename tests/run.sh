#!/usr/bin/env bash
# Runs every test binary of each build variant given (build/opt, build/asan)
# and ends with the plain summary line "N passed, N failed, N skipped".
set -u
cd "$(dirname "$0")/.."
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
pass=0; fail=0; skip=0; failed=()
for variant in "$@"; do
  for t in "$variant"/tests/test_*; do
    [ -x "$t" ] || continue
    name="$(basename "$variant")/$(basename "$t")"
    start=$(date +%s)
    FACENET_BIN="$variant/facenet" "$t" > "/tmp/fn-$$.log" 2>&1
    rc=$?
    secs=$(( $(date +%s) - start ))
    case $rc in
      0)  pass=$((pass+1)); echo "ok    $name (${secs}s)";;
      77) skip=$((skip+1)); echo "skip  $name: $(grep -m1 SKIP "/tmp/fn-$$.log")";;
      *)  fail=$((fail+1)); failed+=("$name"); echo "FAIL  $name (exit $rc, ${secs}s)"; tail -n 40 "/tmp/fn-$$.log" | sed 's/^/      /';;
    esac
  done
done
rm -f "/tmp/fn-$$.log"
[ ${#failed[@]} -gt 0 ] && echo "failed: ${failed[*]}"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]

#!/usr/bin/env bash
# The fuzz regression test: every fuzz target runs each of its seeds and
# each input in fuzz/regress/<target>/ (crashes found before) once — no
# fuzzing.  Exits 0 when all pass, 1 on any failure, and 77 ("skipped")
# when the fuzz targets are not built because clang/libFuzzer is missing.
# Usage: fuzz-regress.sh BUILD_FUZZ_DIR [TARGET...]
set -uo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build/fuzz}; shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=($(awk '!/^#/ && NF { print $1 }' fuzz/targets.txt))
for t in "${targets[@]}"; do
  if [ ! -x "$dir/$t" ]; then
    if command -v "${FUZZ_CC:-clang}" >/dev/null 2>&1; then
      echo "SKIP: fuzz regression: $dir/$t is not built (make fuzz-build)"
    else
      echo "SKIP: fuzz regression: clang with libFuzzer is missing (make deps-fuzz)"
    fi
    exit 77
  fi
done
export OMP_NUM_THREADS=1
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
fail=0; total=0
for t in "${targets[@]}"; do
  files=()
  for d in "$dir/seeds/$t" "fuzz/regress/$t"; do
    [ -d "$d" ] && while IFS= read -r f; do files+=("$f"); done < <(find "$d" -type f ! -name '.*' | sort)
  done
  if [ ${#files[@]} -eq 0 ]; then echo "FAIL  $t: no seeds or regression inputs (make fuzz-seeds)"; fail=1; continue; fi
  log=$(mktemp)
  if "$dir/$t" -timeout=25 -rss_limit_mb=2048 "${files[@]}" > "$log" 2>&1; then
    echo "ok    $t: ${#files[@]} inputs"
  else
    echo "FAIL  $t:"; grep -E 'Running:|ERROR|runtime error|property failed|SUMMARY' "$log" | tail -8 | sed 's/^/      /'
    fail=1
  fi
  total=$((total + ${#files[@]}))
  rm -f "$log"
done
echo "fuzz regression: $total inputs over ${#targets[@]} targets, $([ $fail -eq 0 ] && echo 'all pass' || echo 'FAILURES')"
exit $fail

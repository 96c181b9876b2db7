#!/usr/bin/env bash
# Runs every test binary of each build variant given (build/opt, build/asan)
# and ends with the plain summary line "N passed, N failed, N skipped".
#
# A test exits 0 (passed; its "not checked: ..." lines, if any, name checks
# that could not run here — reported "ok (partial: ...)"), 1 (a check failed,
# whatever it skipped afterwards) or 77 (nothing could run: skipped).  Before
# the suite, a self-test runs deliberately broken tests (tests/selftest/)
# through the same verdict logic and fails the run if a failure could hide
# behind a skip.  `run.sh --selftest` runs only that.
set -u
cd "$(dirname "$0")/.."
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
SHARED=${SHARED:-$(cd .. && pwd)/shared}
MODELS=${MODELS:-$PWD/models}
export SHARED MODELS
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0; fail=0; skip=0; partial=0; failed=(); skipped=()

# A test that runs longer than this many seconds has hung: it is stopped,
# with every process it started (timeout kills its whole process group), and
# reported FAIL, so one hang costs minutes, not the whole run.  The slowest
# test takes about 4 minutes under ASan on 2 cores.
TEST_TIMEOUT=${TEST_TIMEOUT:-900}

# run_one NAME CMD... — runs one test, prints its line, sets $verdict
# (ok|partial|skip|FAIL) and leaves its output in $tmp/log.
run_one() {
  local name=$1; shift
  local start rc secs n
  start=$(date +%s)
  timeout --kill-after=10 "$TEST_TIMEOUT" "$@" > "$tmp/log" 2>&1
  rc=$?
  secs=$(( $(date +%s) - start ))
  n=$(grep -c '^not checked:' "$tmp/log")
  case $rc in
    124|137) verdict=FAIL; echo "FAIL  $name (timed out: stopped after ${secs}s, the limit is TEST_TIMEOUT=${TEST_TIMEOUT}s)"
       tail -n 40 "$tmp/log" | sed 's/^/      /';;
    0) if [ "$n" -gt 0 ]; then
         verdict=partial
         echo "ok    $name (${secs}s; partial: $n not checked: $(grep -m1 '^not checked:' "$tmp/log" | cut -c14-)$([ "$n" -gt 1 ] && echo "; +$((n-1)) more"))"
       else
         verdict=ok; echo "ok    $name (${secs}s)"
       fi;;
    77) verdict=skip; echo "skip  $name: $(grep -m1 '^SKIP' "$tmp/log" || echo "(exit 77, no SKIP line)")";;
    *) verdict=FAIL; echo "FAIL  $name (exit $rc, ${secs}s)"; tail -n 40 "$tmp/log" | sed 's/^/      /';;
  esac
}

# gone PID — the process has ended (a zombie nobody reaps counts as ended)
# within 2 s: a signal is delivered asynchronously.
gone() {
  local i
  for i in 1 2 3 4 5 6 7 8 9 10; do
    { [ -r "/proc/$1/stat" ] && ! grep -q ') Z ' "/proc/$1/stat" 2> /dev/null; } || return 0
    sleep 0.2
  done
  return 1
}

# The harness self-test: each case of tests/selftest/harness_cases.c with the
# verdict it must get.  Counted as one test (passed or failed).
selftest() {
  local bin="$tmp/harness_cases" bad=0 c want
  if ! ${CC:-cc} -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Wall -Wextra -Werror -Itests \
       tests/selftest/harness_cases.c tests/t.c -lm -o "$bin" 2> "$tmp/cc.log"; then
    echo "FAIL  harness self-test: tests/selftest/harness_cases.c does not build"; sed 's/^/      /' "$tmp/cc.log"
    return 1
  fi
  for c in fail-then-missing-shared:FAIL fail-then-skip:FAIL fail-then-not-checked:FAIL \
           pass-then-missing-shared:partial missing-shared-only:skip not-checked-only:skip; do
    want=${c#*:}
    run_one "selftest/${c%%:*}" "$bin" "${c%%:*}" > "$tmp/selftest.out"
    if [ "$verdict" != "$want" ]; then
      bad=1; echo "FAIL  harness self-test: case ${c%%:*} was reported '$verdict', must be '$want':"
      sed 's/^/      /' "$tmp/selftest.out"
    fi
  done
  # A hung test is stopped at the limit, FAIL, and what it started is gone too.
  local grandchild
  TEST_TIMEOUT=2 run_one "selftest/hang" "$bin" hang > "$tmp/selftest.out"
  grandchild=$(sed -n 's/^grandchild //p' "$tmp/log")
  if [ "$verdict" != FAIL ]; then
    bad=1; echo "FAIL  harness self-test: case hang was reported '$verdict', must be 'FAIL' (timed out):"
    sed 's/^/      /' "$tmp/selftest.out"
  elif [ -z "$grandchild" ] || ! gone "$grandchild"; then
    bad=1; echo "FAIL  harness self-test: case hang left its child process '${grandchild:-?}' running after the timeout"
    [ -n "$grandchild" ] && kill -9 "$grandchild" 2> /dev/null
  fi
  [ $bad -eq 0 ] && echo "ok    harness self-test (7 cases: a failed check then a skip is reported FAIL; checks then a skip is partial; no check is a skip; a hang is stopped, with its children, and FAIL)"
  return $bad
}

if selftest; then pass=$((pass+1)); else fail=$((fail+1)); failed+=("harness-selftest"); fi
[ "${1:-}" = "--selftest" ] && { echo "$pass passed, $fail failed, $skip skipped"; [ "$fail" -eq 0 ]; exit; }

: > "$tmp/unchecked"
for variant in "$@"; do
  for t in "$variant"/tests/test_*; do
    [ -x "$t" ] || continue
    name="$(basename "$variant")/$(basename "$t")"
    run_one "$name" env FACENET_BIN="$variant/facenet" "$t"
    case $verdict in
      ok) pass=$((pass+1));;
      partial) pass=$((pass+1)); partial=$((partial+1));;
      skip) skip=$((skip+1)); skipped+=("$name");;
      FAIL) fail=$((fail+1)); failed+=("$name");;
    esac
    if [ "$verdict" != FAIL ]; then
      # A test skipped whole: say what it would have checked (its header comment).
      what=""
      src="tests/$(basename "$t").c"
      if [ "$verdict" = skip ] && [ -f "$src" ]; then
        what=" — it checks: $(awk 'NR==1,/\*\//' "$src" | tr '\n' ' ' | sed 's|^ */\*||; s|\*/.*||; s| \* | |g; s|  *| |g; s|^ ||; s| $||')"
      fi
      grep '^not checked:' "$tmp/log" | sed "s|^not checked: |$(basename "$t"): |" |
        W="$what" awk '{ print $0 ENVIRON["W"] }' >> "$tmp/unchecked"
    fi
  done
done

echo
if [ -d "$SHARED" ]; then have_shared="present"; else have_shared="ABSENT"; fi
if [ -f "$MODELS/MobileFaceNet.tflite" ]; then have_models="present"; else have_models="ABSENT (make models)"; fi
echo "reference data: SHARED=$SHARED ($have_shared) — fixtures computed by the reference implementations"
echo "  (facenet-pytorch, OpenCV, TFLite), the Film set and the LFW dev view; models: MODELS=$MODELS ($have_models)"
if [ -s "$tmp/unchecked" ]; then
  echo "not checked in this run ($(sort -u "$tmp/unchecked" | wc -l) items, each listed once for all variants):"
  sort -u "$tmp/unchecked" | sed 's/^/  - /'
fi
[ "$partial" -gt 0 ] && echo "partial: $partial of the passed tests left some checks unrun (listed above)"
[ ${#failed[@]} -gt 0 ] && echo "failed: ${failed[*]}"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]

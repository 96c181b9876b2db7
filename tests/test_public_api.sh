#!/usr/bin/env bash
# The public-API rule bites: scripts/check-public-api.sh passes a CLI that
# includes only public and its own headers and fails, naming file and line,
# on one that includes an internal header directly or through "..".  And the
# CLI's compile flags (the Makefile's CLI_INCS) are exactly -Iinclude
# -Isrc/cli, with which an internal header does not compile.
# Usage: tests/test_public_api.sh build/opt|build/asan   (tests/run.sh runs it)
set -u
cd "$(dirname "$0")/.."
checks=0 failures=0
check() { checks=$((checks + 1)); if ! eval "$1"; then failures=$((failures + 1)); echo "FAIL: $2"; fi; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# A small CLI tree that keeps the rule: public header, own header, system header.
mkdir -p "$tmp/cli"
printf '#include "facenet.h"\nint own(void);\n' > "$tmp/cli/own.h"
printf '#include <stdio.h>\n#include "facenet.h"\n#include "own.h"\nint own(void) { return FN_OK; }\n' > "$tmp/cli/ok.c"
bash scripts/check-public-api.sh "$tmp/cli" include > "$tmp/out" 2>&1; rc=$?
check '[ $rc -eq 0 ]' "a CLI with only public and own includes is refused: $(cat "$tmp/out")"
echo "clean tree: $(tail -1 "$tmp/out")"

# A copy of the clean tree with FILE set to TEXT must be refused, with a
# line that matches WANT (file:line and the reason).
expect_refused() {   # LABEL FILE TEXT WANT
  local label=$1 dir=$tmp/bad$((++nbad)) want=$4
  cp -r "$tmp/cli" "$dir"
  printf '%b' "$3" > "$dir/$2"
  bash scripts/check-public-api.sh "$dir" include > "$tmp/out" 2>&1; rc=$?
  check '[ $rc -ne 0 ]' "$label in the CLI passes the check"
  check 'grep -q "$want" "$tmp/out"' "the refusal of $label does not say '$want': $(cat "$tmp/out")"
  echo "$label: $(head -1 "$tmp/out")"
}
nbad=0
expect_refused "an internal header" leak.c '#include "facenet.h"\n#include "core/error.h"\n' 'leak.c:2: #include "core/error.h" is not a public header'
expect_refused "a climb out with .." own.h '#include "../../src/core/error.h"\n' 'own.h:1: .*climbs out'

# The compile rule: the CLI's include path, as the Makefile has it.
incs=$(env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s --no-print-directory print-cli-incs)
check '[ "$incs" = "-Iinclude -Isrc/cli" ]' \
      "the CLI is compiled with '$incs', not '-Iinclude -Isrc/cli' (delete the TRANSITIONAL line in the Makefile once src/cli uses public headers only)"
printf '#include "facenet.h"\n#include "core/error.h"\n' > "$tmp/leak.c"
cc -std=c11 -fsyntax-only -Iinclude -Isrc/cli "$tmp/leak.c" > "$tmp/leak.out" 2>&1; rc=$?
check '[ $rc -ne 0 ] && grep -q "core/error.h" "$tmp/leak.out"' "core/error.h compiles with -Iinclude -Isrc/cli"
printf '#include "facenet.h"\nint main(void) { return fn_status_name(FN_OK)[0] == 0; }\n' > "$tmp/fine.c"
cc -std=c11 -fsyntax-only -Iinclude -Isrc/cli "$tmp/fine.c" > "$tmp/out" 2>&1; rc=$?
check '[ $rc -eq 0 ]' "facenet.h alone does not compile with -Iinclude -Isrc/cli: $(cat "$tmp/out")"
echo "compile rule, -Iinclude -Isrc/cli: $(grep -m1 -o 'core/error.h: .*' "$tmp/leak.out")"
echo "$checks checks, $failures failed"
[ $failures -eq 0 ]

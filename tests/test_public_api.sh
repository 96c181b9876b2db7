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

# An internal header, by its src/ path and by climbing out with "..".
cp -r "$tmp/cli" "$tmp/bad1"
printf '#include "facenet.h"\n#include "core/error.h"\n' > "$tmp/bad1/leak.c"
bash scripts/check-public-api.sh "$tmp/bad1" include > "$tmp/out" 2>&1; rc=$?
check '[ $rc -ne 0 ]' "#include \"core/error.h\" in the CLI passes the check"
check 'grep -q "leak.c:2: #include \"core/error.h\"" "$tmp/out"' "the refusal does not name leak.c:2: $(cat "$tmp/out")"
echo "internal header: $(head -1 "$tmp/out")"

cp -r "$tmp/cli" "$tmp/bad2"
printf '#include "../../src/core/error.h"\n' > "$tmp/bad2/own.h"
bash scripts/check-public-api.sh "$tmp/bad2" include > "$tmp/out" 2>&1; rc=$?
check '[ $rc -ne 0 ]' "#include \"../../src/core/error.h\" in a CLI header passes the check"
check 'grep -q "own.h:1: .*climbs out" "$tmp/out"' "the refusal does not name own.h:1: $(cat "$tmp/out")"
echo "relative path: $(head -1 "$tmp/out")"

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

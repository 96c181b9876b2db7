#!/usr/bin/env bash
# Checks that a shared libfacenet exports exactly the public API: every
# dynamic symbol it defines is an fn_ function declared in a header under the
# include directory, and every function declared there is exported (a public
# header outside `#pragma GCC visibility push(default)` leaves its functions
# hidden, and then they are missing here).
# Usage: scripts/check-exports.sh build/opt/libfacenet.so include
set -euo pipefail
so=$1 inc=$2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
nm -D --defined-only "$so" | awk '{ sub(/@.*/, "", $3); print $3 }' | sort -u > "$tmp/exported"
bash "$(dirname "$0")/public-symbols.sh" "$inc" > "$tmp/declared"
status=0
bad=$(grep -v '^fn_' "$tmp/exported" || true)
[ -z "$bad" ] || { echo "$so exports symbols without the fn_ prefix:"; echo "$bad" | sed 's/^/  /'; status=1; }
extra=$(comm -23 "$tmp/exported" "$tmp/declared" | grep '^fn_' || true)
[ -z "$extra" ] || { echo "$so exports fn_ symbols no header under $inc/ declares (internal names leaking):"; echo "$extra" | sed 's/^/  /'; status=1; }
missing=$(comm -13 "$tmp/exported" "$tmp/declared")
[ -z "$missing" ] || { echo "functions declared under $inc/ but not exported by $so (is the header inside '#pragma GCC visibility push(default)'?):"; echo "$missing" | sed 's/^/  /'; status=1; }
[ $status -eq 0 ] && echo "$so: exports exactly the $(wc -l < "$tmp/declared") functions declared under $inc/, all fn_ ($(wc -l < "$tmp/exported") dynamic symbols)"
exit $status

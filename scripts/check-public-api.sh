#!/usr/bin/env bash
# The public-API rule: the CLI is a client of the library like any other
# program.  Every `#include "X"` in the CLI directory must name a public header
# (the include directory holds X) or one of the CLI's own headers (the CLI
# directory holds X), without climbing out through "..".  Angle-bracket
# includes are system headers.  The build compiles src/cli with
# -Iinclude -Isrc/cli only, so an internal header does not compile either;
# this check also catches what a relative path would sneak past the compiler.
# Usage: scripts/check-public-api.sh src/cli include [OTHER_FRONT_END_DIR]
# (the CLI links the HTTP server: `facenet serve` includes src/serve's
# serve.h, itself a front end checked the same way: ... src/serve include).
set -uo pipefail
cli=$1 inc=$2 other=${3:-}
bad=0 n=0 spelled=0
while IFS= read -r hit; do
  file=${hit%%:*}; rest=${hit#*:}; line=${rest%%:*}
  name=$(sed -E 's/^[^"]*"([^"]*)".*/\1/' <<<"${rest#*:}")
  n=$((n + 1))
  case "$name" in
    *..*) echo "$file:$line: #include \"$name\" climbs out of $cli/ — the CLI may include only $inc/ and $cli/ headers"; bad=$((bad + 1)); continue;;
  esac
  if [ -f "$inc/$name" ] || [ -f "$cli/$name" ]; then continue; fi
  if [ -n "$other" ] && [ -f "$other/$name" ]; then continue; fi
  hint=""
  if [ -f "$cli/$(basename "$name")" ]; then
    hint=" (the CLI's own header is included as \"$(basename "$name")\")"; spelled=$((spelled + 1))
  fi
  echo "$file:$line: #include \"$name\" is not a public header ($inc/) nor a CLI header ($cli/)$hint"
  bad=$((bad + 1))
done < <(grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' -r --include='*.c' --include='*.h' "$cli" | sort)
if [ $bad -gt 0 ]; then
  echo "public-API rule broken: $bad of $n includes in $cli/: $((bad - spelled)) of internal headers, $spelled of the CLI's own by a path the CLI's include path (-I$cli) does not resolve"
  exit 1
fi
echo "public-API rule holds: all $n includes in $cli/ are public ($inc/) or the CLI's own"

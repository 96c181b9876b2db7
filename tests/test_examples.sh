#!/usr/bin/env bash
# The examples are programs outside the library: in the optimised build they
# are compiled against an installed libfacenet through pkg-config (installed
# into BUILD/stage by `make install`), once shared and once static, and run on
# the Film photos; under ASan the in-tree builds of the same sources run.
# Oracles: the folder a photo sits in names the person, a person left out of
# the gallery must come out unknown, and `facenet identify --json` must report
# the same faces with the same distances.
# Usage: tests/test_examples.sh build/opt|build/asan   (tests/run.sh runs it)
set -u
cd "$(dirname "$0")/.."
variant=${1:?usage: test_examples.sh BUILD_VARIANT_DIR}
SHARED=${SHARED:-../shared}
MODELS=${MODELS:-models}
film=$SHARED/fixtures/film
cli=${FACENET_BIN:-$variant/facenet}
checks=0 failures=0
check() { checks=$((checks + 1)); if ! eval "$1"; then failures=$((failures + 1)); echo "FAIL: $2"; fi; }
skip() { echo "SKIP: $*"; exit 77; }
[ -d "$film/Film/Test" ] && [ -d "$film/Predict" ] || skip "no Film photos under $film (../shared is absent)"
[ -f "$MODELS/MobileFaceNet.tflite" ] || skip "no model bundle in $MODELS (make models)"
command -v pkg-config >/dev/null || skip "pkg-config is not installed"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export FACENET_CACHE=$tmp/cache.db OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
mkdir -p "$tmp/bin" "$tmp/people"

# ---- the examples, built the way a user outside the tree builds them
if [ "$(basename "$variant")" = opt ]; then
  stage=$(pwd)/$variant/stage
  rm -rf "$stage"
  # A make of our own, not a part of the one running the tests.
  if ! env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s --no-print-directory install PREFIX="$stage" > "$tmp/install.log" 2>&1; then
    cat "$tmp/install.log"; echo "FAIL: make install PREFIX=$stage"; exit 1
  fi
  export PKG_CONFIG_PATH=$stage/lib/pkgconfig
  check '[ "$(pkg-config --modversion facenet)" = "$(sed -n "s/^#define FN_VERSION \"\(.*\)\"/\1/p" include/facenet/core.h)" ]' \
        "pkg-config --modversion facenet says '$(pkg-config --modversion facenet 2>&1)', include/facenet/core.h another version"
  soname=libfacenet.so.$(sed -n 's/^SOVERSION := //p' Makefile)
  for src in examples/*.c; do
    name=$(basename "$src" .c)
    # shellcheck disable=SC2046
    check 'cc -std=c11 -Wall -Wextra -Werror -o "$tmp/bin/$name" "$src" $(pkg-config --cflags --libs facenet)' \
          "$src does not build with \$(pkg-config --cflags --libs facenet)"
    check 'readelf -d "$tmp/bin/$name" | grep -q "NEEDED.*$soname"' "$name is not linked to $soname"
    check 'LD_LIBRARY_PATH=$stage/lib ldd "$tmp/bin/$name" | grep -q "$soname => $stage/lib/"' \
          "$name does not load the installed $soname"
    # Static: the installed libfacenet.a with pkg-config's Libs.private.
    check 'cc -std=c11 -o "$tmp/bin/${name}_static" "$src" $(pkg-config --cflags facenet) \
             $(pkg-config --static --libs facenet | sed "s/-lfacenet\b/-l:libfacenet.a/")' \
          "$src does not link statically with \$(pkg-config --static --libs facenet)"
  done
  run_example() { LD_LIBRARY_PATH=$stage/lib "$tmp/bin/$1" "${@:2}"; }
  echo "built $(ls examples/*.c | wc -l) example(s) against $stage through pkg-config (shared and static)"
else
  for src in examples/*.c; do
    name=$(basename "$src" .c)
    check '[ -x "$variant/examples/$name" ]' "$variant/examples/$name is not built"
  done
  run_example() { "$variant/examples/$1" "${@:2}"; }
fi
[ -f "$tmp/bin/identify_photo" ] || [ -x "$variant/examples/identify_photo" ] || { echo "FAIL: no identify_photo"; exit 1; }

# ---- identify_photo on Film: nine people enrolled, ShahRukh Khan left out
held_out="ShahRukh Khan"
for d in "$film/Film/Test"/*/; do
  p=$(basename "$d"); [ "$p" = "$held_out" ] || ln -s "$(cd "$d" && pwd)" "$tmp/people/$p"
done
"$cli" enroll --gallery "$tmp/g.db" "$tmp/people" > "$tmp/enroll.log" 2>&1 || { cat "$tmp/enroll.log"; echo "FAIL: facenet enroll"; exit 1; }
# Every person's first photo; under ASan three and the held-out one (it is slow).
right=0 total=0 n=0 max=99
[ "$(basename "$variant")" = opt ] || max=3
for d in "$film/Predict"/*/; do
  p=$(basename "$d")
  [ "$p" = "$held_out" ] || { n=$((n + 1)); [ $n -le $max ] || continue; }
  photo=$d$(ls "$d" | sort -V | head -1)
  run_example identify_photo "$MODELS" "$tmp/g.db" "$photo" > "$tmp/ex.txt" 2> "$tmp/ex.err"
  rc=$?
  check '[ $rc -eq 0 ]' "identify_photo $photo: exit $rc: $(cat "$tmp/ex.err")"
  "$cli" identify --gallery "$tmp/g.db" --json "$photo" > "$tmp/cli.jsonl" 2>/dev/null
  first=$(sed -n 's/^face 0: \(.*\) distance .*/\1/p' "$tmp/ex.txt")
  want=$p; [ "$p" = "$held_out" ] && want=unknown
  total=$((total + 1)); [ "$first" = "$want" ] && right=$((right + 1))
  check '[ "$first" = "$want" ]' "$photo: the most probable face is '$first', expected '$want'"
  # Same faces, names and distances as the CLI (printed to 3 decimals).
  diff=$(/usr/bin/python3 - "$tmp/ex.txt" "$tmp/cli.jsonl" <<'PY'
import json, re, sys
ex = [re.match(r"face (\d+): (.*?) distance ([\d.]+) box", l) for l in open(sys.argv[1])]
ex = [(m.group(2), float(m.group(3))) for m in ex if m]
cli = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
cli = [(c["name"] or "unknown", c["distance"]) for c in cli]
if len(ex) != len(cli): print(f"{len(ex)} faces, the CLI {len(cli)}"); sys.exit()
for i, ((n, d), (cn, cd)) in enumerate(zip(ex, cli)):
    if n != cn or abs(d - cd) > 6e-4: print(f"face {i}: {n} {d:.3f}, the CLI {cn} {cd:.3f}")
PY
)
  check '[ -z "$diff" ]' "$photo: identify_photo and facenet identify differ: $diff"
  sed "s|^|  $p: |" "$tmp/ex.txt"
done
echo "identify_photo: $right of $total Film photos named right (the held-out person as unknown)"

# ---- watch_events on a slideshow of two enrolled people (2 s each, made here):
# oracle: each person is identified, and the names are those `facenet watch` gives
a="Hritik Roshan" b="Nazriya"
pa=$film/Predict/$a/$(ls "$film/Predict/$a" | sort -V | head -1)
pb=$film/Predict/$b/$(ls "$film/Predict/$b" | sort -V | head -1)
fit="scale=640:480:force_original_aspect_ratio=decrease,pad=640:480:(ow-iw)/2:(oh-ih)/2,setsar=1,format=yuv420p"
if ffmpeg -v error -y -loop 1 -t 2 -framerate 10 -i "$pa" -loop 1 -t 2 -framerate 10 -i "$pb" \
     -filter_complex "[0]$fit[a];[1]$fit[b];[a][b]concat=n=2:v=1" -c:v mpeg4 -q:v 3 "$tmp/two.mp4" 2> "$tmp/ff.err"; then
  run_example watch_events "$tmp/two.mp4" "$tmp/g.db" "$MODELS" > "$tmp/we.txt" 2> "$tmp/we.err"
  rc=$?
  check '[ $rc -eq 0 ]' "watch_events: exit $rc: $(cat "$tmp/we.err")"
  ex_names=$(sed -n 's/.* identified \(.*\) (distance .*/\1/p' "$tmp/we.txt" | sort -u | tr '\n' '|')
  "$cli" watch --headless --json --gallery "$tmp/g.db" "$tmp/two.mp4" > "$tmp/watch.jsonl" 2>/dev/null
  cli_names=$(/usr/bin/python3 -c '
import json, sys
n = {e["name"] or "unknown" for e in map(json.loads, open(sys.argv[1])) if e.get("event") == "identified"}
print("".join(x + "|" for x in sorted(n)))' "$tmp/watch.jsonl")
  check '[ "$ex_names" = "$(printf "%s|%s|" "$a" "$b")" ]' "watch_events identified '$ex_names', expected '$a|$b|'"
  check '[ "$ex_names" = "$cli_names" ]' "watch_events identified '$ex_names', facenet watch '$cli_names'"
  sed 's|^|  watch_events: |' "$tmp/we.txt"
else
  echo "not checked: watch_events (ffmpeg could not make the slideshow: $(head -c 200 "$tmp/ff.err"))"
fi
echo "$checks checks, $failures failed"
[ $failures -eq 0 ]

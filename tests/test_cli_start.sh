#!/usr/bin/env bash
# What a command loads when it starts (docs/performance.md, "Start-up"):
#  - OpenMP waits passively without the command restarting itself: libgomp
#    itself says what it read (OMP_DISPLAY_ENV=verbose prints its settings
#    once per start: one block, GOMP_SPINCOUNT '0' = passive); a user's own
#    OMP_WAIT_POLICY or GOMP_SPINCOUNT wins.
#  - one-image detect and identify load no FFmpeg and no SDL2 (the dynamic
#    loader's own list, LD_DEBUG=files), and detect needs no embedding model
#    (it gives the same answer from a models folder without
#    MobileFaceNet.tflite);
#  - oneDNN and OpenBLAS are opened on first use: detect loads neither (and
#    works without oneDNN); identify of one photo against a small gallery
#    loads neither either (MobileFaceNet's first faces run on direct
#    kernels, a small gallery is scored by a plain loop), identify of
#    more than 32 faces loads oneDNN; without OpenBLAS the plain-C reference BLAS gives
#    the same names and distances (1e-5); without oneDNN MobileFaceNet stays
#    on the direct kernels (same names, distances within 1e-5) and
#    `facenet version` says so in one sentence naming the library and the
#    package;
#  - watch loads FFmpeg when it opens the video and still works; without
#    FFmpeg (the FACENET_HIDE_LIBS test hook) it fails with one sentence
#    naming the video and the library.
# Usage: tests/test_cli_start.sh build/opt|build/asan   (tests/run.sh runs it)
set -u
cd "$(dirname "$0")/.."
variant=${1:?usage: test_cli_start.sh BUILD_VARIANT_DIR}
SHARED=${SHARED:-../shared}
MODELS=${MODELS:-models}
film=$SHARED/fixtures/film
clip=$SHARED/fixtures/video/video.mp4
cli=$variant/facenet
checks=0 failures=0
check() { checks=$((checks + 1)); if ! eval "$1"; then failures=$((failures + 1)); echo "FAIL: $2"; fi; }
skip() { echo "SKIP: $*"; exit 77; }
[ -x "$cli" ] || skip "$cli is not built"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
clean_env=(env -u OMP_WAIT_POLICY -u GOMP_SPINCOUNT -u FACENET_HIDE_LIBS)

# ---- OpenMP's wait policy, read by libgomp once, in one start
"${clean_env[@]}" OMP_DISPLAY_ENV=verbose "$cli" version > "$tmp/omp.out" 2> "$tmp/omp.err"
check '[ "$(grep -c "OPENMP DISPLAY ENVIRONMENT BEGIN" "$tmp/omp.err")" = 1 ]' \
      "libgomp started $(grep -c "OPENMP DISPLAY ENVIRONMENT BEGIN" "$tmp/omp.err") times in one facenet version (a restart?)"
check 'grep -q "GOMP_SPINCOUNT = '"'"'0'"'"'" "$tmp/omp.err"' \
      "libgomp did not read the passive policy: $(grep -E "WAIT_POLICY|SPINCOUNT" "$tmp/omp.err" | tr -s ' ' | tr '\n' ' ')"
check 'grep -q "^facenet " "$tmp/omp.out"' "facenet version printed '$(head -1 "$tmp/omp.out")'"
"${clean_env[@]}" OMP_DISPLAY_ENV=verbose OMP_WAIT_POLICY=active "$cli" version 2> "$tmp/omp.err" >/dev/null
check 'grep -q "OMP_WAIT_POLICY = '"'"'ACTIVE'"'"'" "$tmp/omp.err"' "a user's OMP_WAIT_POLICY=active was not kept"
"${clean_env[@]}" OMP_DISPLAY_ENV=verbose GOMP_SPINCOUNT=1000 "$cli" version 2> "$tmp/omp.err" >/dev/null
check 'grep -q "GOMP_SPINCOUNT = '"'"'1000'"'"'" "$tmp/omp.err"' "a user's GOMP_SPINCOUNT=1000 was not kept"

[ -d "$film/Film/Test" ] && [ -d "$film/Predict" ] || skip "no Film photos under $film (../shared is absent)"
[ -f "$MODELS/MobileFaceNet.tflite" ] || skip "no model bundle in $MODELS (make models)"
export FACENET_CACHE=$tmp/cache.db

# ---- one-image commands: no FFmpeg, no SDL2
photo="$film/Predict/Mohanlal/1.jpeg"
mkdir -p "$tmp/people/Mohanlal" "$tmp/people/Shobana"
cp "$film/Film/Test/Mohanlal"/* "$tmp/people/Mohanlal/"
cp "$film/Film/Test/Shobana"/* "$tmp/people/Shobana/"
"$cli" enroll --models-dir "$MODELS" --gallery "$tmp/g.db" "$tmp/people" > /dev/null 2> "$tmp/enroll.err"
rc=$?
check '[ $rc = 0 ]' "enroll failed (exit $rc): $(cat "$tmp/enroll.err")"
media='libav(format|codec|util|device)|libswscale|libSDL2'
LD_DEBUG=files "$cli" detect --models-dir "$MODELS" --json "$photo" > "$tmp/detect.json" 2> "$tmp/detect.ld"
check '[ -s "$tmp/detect.json" ] && grep -q "calling init" "$tmp/detect.ld"' "detect under LD_DEBUG=files gave no output or no loader log"
check '! grep -Eq "$media" "$tmp/detect.ld"' \
      "detect loaded media libraries: $(grep -Eo "file=[^ ]*($media)[^ ]*" "$tmp/detect.ld" | sort -u | tr '\n' ' ')"
LD_DEBUG=files "$cli" identify --models-dir "$MODELS" --gallery "$tmp/g.db" --json "$photo" > "$tmp/identify.json" 2> "$tmp/identify.ld"
check 'grep -q "\"name\":\"Mohanlal\"" "$tmp/identify.json"' "identify did not name Mohanlal: $(cat "$tmp/identify.json")"
check '! grep -Eq "$media" "$tmp/identify.ld"' \
      "identify loaded media libraries: $(grep -Eo "file=[^ ]*($media)[^ ]*" "$tmp/identify.ld" | sort -u | tr '\n' ' ')"

# ---- oneDNN and OpenBLAS: opened on first use, not linked (in the opt build;
# the sanitizer builds link them, see SAN_LIBS in the Makefile)
# (FAISS's BLAS calls are forwarded to the same lazily opened OpenBLAS:
# src/gallery/faiss_blas.c; libpq is opened by the first postgresql://
# gallery.)
math='libdnnl|libopenblas|libpq|libmicrohttpd|libgnutls'
[ "$(basename "$variant")" = opt ] && check '! grep -Eq "$math" "$tmp/detect.ld"' \
      "detect (MTCNN only) loaded oneDNN, OpenBLAS or libpq: $(grep -Eo "file=[^ ]*($math)[^ ]*" "$tmp/detect.ld" | sort -u | tr '\n' ' ')"
[ "$(basename "$variant")" = opt ] && check '! grep -Eq "libpq" "$tmp/identify.ld"' "identify of a SQLite gallery loaded libpq"
[ "$(basename "$variant")" = opt ] && check '! grep -Eq "libdnnl|libopenblas" "$tmp/identify.ld"' \
      "identify of one photo against a 2-person gallery loaded oneDNN or OpenBLAS: $(grep -Eo "file=[^ ]*(libdnnl|libopenblas)[^ ]*" "$tmp/identify.ld" | sort -u | tr '\n' ' ')"
# Film's Predict folder (more than FN_MFN_DIRECT_FACES = 32 faces): MobileFaceNet prepares oneDNN
LD_DEBUG=files "$cli" identify --models-dir "$MODELS" --gallery "$tmp/g.db" --json "$film/Predict" \
  > "$tmp/folder.json" 2> "$tmp/folder.ld"
check 'grep -Eq "calling init: .*libdnnl\.so" "$tmp/folder.ld"' \
      "identify of Predict (100+ photos) ran without loading libdnnl (LD_DEBUG=files shows no init of it)"
# JSON Lines files equal but for floats within 1e-5
same_json() {
  /usr/bin/python3 -c "
import json, sys
a = [json.loads(l) for l in open(sys.argv[1])]; b = [json.loads(l) for l in open(sys.argv[2])]
def flat(o, p=\"\"):
    if isinstance(o, dict): return sum((flat(v, p + \"/\" + k) for k, v in sorted(o.items())), [])
    if isinstance(o, list): return sum((flat(v, p + \"/\" + str(i)) for i, v in enumerate(o)), [])
    return [(p, o)]
fa, fb = flat(a), flat(b)
ok = len(fa) == len(fb) and all(k1 == k2 and (v1 == v2 or (isinstance(v1, float) and abs(v1 - v2) <= 1e-5))
                                for (k1, v1), (k2, v2) in zip(fa, fb))
sys.exit(0 if ok and a else 1)" "$1" "$2"
}
# without OpenBLAS the plain-C reference BLAS scores the gallery: the same names,
# distances within 1e-5 (a 2-person gallery is below FN_GINDEX_SMALL_MACS, so
# both runs take the plain loop here; tests/test_gallery_search compares
# OpenBLAS with the reference and a brute force on 1,000 and 2,600 rows)
FACENET_HIDE_LIBS=libopenblas "$cli" identify --models-dir "$MODELS" --gallery "$tmp/g.db" --json "$photo" \
  > "$tmp/identify_ref.json" 2> "$tmp/identify_ref.err"
check 'same_json "$tmp/identify.json" "$tmp/identify_ref.json"' \
      "identify with the reference BLAS differs from OpenBLAS: $(cat "$tmp/identify_ref.err") $(diff "$tmp/identify.json" "$tmp/identify_ref.json" | head -4)"
"${clean_env[@]}" FACENET_HIDE_LIBS=libopenblas "$cli" version > "$tmp/version_ref.out" 2>&1
check 'grep -q "gallery search: reference BLAS" "$tmp/version_ref.out"' "version without OpenBLAS said: $(cat "$tmp/version_ref.out")"
# --version answers as `version` does (it was an unknown command), with core.h's version
want_version=$(sed -n 's/^#define FN_VERSION "\(.*\)"/\1/p' include/facenet/core.h)
check '[ "$("$cli" --version 2>&1 | head -1)" = "facenet $want_version" ]' \
      "facenet --version said: $("$cli" --version 2>&1 | head -1) (want facenet $want_version)"
# without oneDNN: MobileFaceNet stays on its direct kernels, the same names
# and distances (1e-5) for a whole folder; version names the missing library
FACENET_HIDE_LIBS=libdnnl "$cli" identify --models-dir "$MODELS" --gallery "$tmp/g.db" --json "$film/Predict" \
  > "$tmp/nodnnl.json" 2> "$tmp/nodnnl.err"
rc=$?
check '[ $rc = 0 ] && same_json "$tmp/folder.json" "$tmp/nodnnl.json"' \
      "identify of Predict without oneDNN: exit $rc, $(cat "$tmp/nodnnl.err") $(diff "$tmp/folder.json" "$tmp/nodnnl.json" | head -4)"
"${clean_env[@]}" FACENET_HIDE_LIBS=libdnnl "$cli" version > "$tmp/version_nodnnl.out" 2>&1
check 'grep -q "convolutions: direct kernels only" "$tmp/version_nodnnl.out" && grep -q "libdnnl\.so\.[0-9]*, which cannot be loaded" "$tmp/version_nodnnl.out" && grep -q "apt install libdnnl" "$tmp/version_nodnnl.out"' \
      "version without oneDNN said: $(cat "$tmp/version_nodnnl.out")"
FACENET_HIDE_LIBS=libdnnl "$cli" detect --models-dir "$MODELS" --json "$photo" > "$tmp/detect3.json" 2> "$tmp/detect3.err"
check 'cmp -s "$tmp/detect.json" "$tmp/detect3.json"' "detect without oneDNN differs or failed: $(cat "$tmp/detect3.err")"

FACENET_HIDE_LIBS=libpq "$cli" gallery --gallery "postgresql:///facenet?host=$tmp" list > /dev/null 2> "$tmp/nopq.err"
rc=$?
check '[ $rc = 1 ] && grep -q "libpq\.so\.5, which cannot be loaded" "$tmp/nopq.err" && grep -q "apt install libpq5" "$tmp/nopq.err"' \
      "a postgresql:// gallery without libpq: exit $rc, said: $(cat "$tmp/nopq.err")"

# ---- detect needs no embedding model: the same answer without its file
mkdir -p "$tmp/detector-only"
for f in pnet rnet onet; do ln -s "$(cd "$MODELS" && pwd)/$f.tflite" "$tmp/detector-only/$f.tflite"; done
"$cli" detect --models-dir "$tmp/detector-only" --json "$photo" > "$tmp/detect2.json" 2> "$tmp/detect2.err"
check 'cmp -s "$tmp/detect.json" "$tmp/detect2.json"' \
      "detect without MobileFaceNet.tflite differs or failed: $(cat "$tmp/detect2.err") $(diff "$tmp/detect.json" "$tmp/detect2.json" | head -3)"

# ---- video: FFmpeg loaded when the video is opened; a clear error without it
if command -v ffmpeg >/dev/null && [ -f "$clip" ]; then
  ffmpeg -v error -y -i "$clip" -frames:v 3 -vf scale=320:180 -c:v mpeg4 "$tmp/short.mp4"
  LD_DEBUG=files "$cli" watch --models-dir "$MODELS" --gallery "$tmp/g.db" --headless --json "$tmp/short.mp4" \
    > "$tmp/watch.json" 2> "$tmp/watch.ld"
  rc=$?
  check '[ $rc = 0 ]' "watch on a 3-frame clip failed (exit $rc): $(grep -v "^ *[0-9]*:" "$tmp/watch.ld" | tail -3)"
  check 'grep -Eq "file=libavformat\.so\.[0-9]+ .*calling init|calling init: .*libavformat\.so" "$tmp/watch.ld"' \
        "watch ran without loading libavformat (LD_DEBUG=files shows no init of it)"
  check '! grep -q "libSDL2" "$tmp/watch.ld"' "headless watch loaded SDL2"
  FACENET_HIDE_LIBS=libavcodec "$cli" watch --models-dir "$MODELS" --gallery "$tmp/g.db" --headless --json \
    "$tmp/short.mp4" > /dev/null 2> "$tmp/hidden.err"
  rc=$?
  check '[ $rc = 1 ]' "watch without libavcodec exited $rc, not 1"
  check 'grep -q "short.mp4: video needs FFmpeg'"'"'s libavcodec\.so\.[0-9]*, which cannot be loaded" "$tmp/hidden.err"' \
        "watch without libavcodec said: $(cat "$tmp/hidden.err")"
  check '[ "$(wc -l < "$tmp/hidden.err")" = 1 ]' "watch without libavcodec printed $(wc -l < "$tmp/hidden.err") lines, not one"
else
  echo "not checked: video loading (ffmpeg or $clip missing)"
fi

echo "$checks checks, $failures failed"
[ "$failures" = 0 ]

#!/usr/bin/env bash
# The Python package's overhead over the C library (goal: <= 5 %): the same
# work through bench_python (C) and bench/python_peer.py (facenet package),
# interleaved, REPS times each, medians compared in this run:
#   embed    1000 aligned 112x112 faces (N_EMBED), one call per face (../shared/fixtures/aligned112)
#   identify Film's 100 Predict photos against a gallery of Film/Test
# and the Python API against facenet-pytorch's pipeline (bench/python_torch_peer.py:
#   MTCNN + InceptionResnetV1 on Film's 100 Predict photos, the fixture checkpoint),
#   once each (the PyTorch side takes minutes), in the same run.
set -eu
cd "$(dirname "$0")/.."
BUILD=${1:-build/opt}
SHARED=${SHARED:-../shared}
MODELS=${MODELS:-models}
REPS=${REPS:-5}
# Both sides wait passively, as the facenet command and the facenet package set it.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
PY=${PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}
crops="$SHARED/fixtures/aligned112" film="$SHARED/fixtures/film"
if ! "$PY" -c 'import numpy' 2>/dev/null; then echo "skip python: $PY lacks numpy"; exit 0; fi
if [ ! -d "$crops" ] || [ ! -d "$film" ] || [ ! -f "$MODELS/MobileFaceNet.tflite" ]; then
  echo "skip python: $crops, $film or $MODELS/MobileFaceNet.tflite missing"; exit 0
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$BUILD/facenet" enroll --models-dir "$MODELS" --gallery "$tmp/g.db" "$film/Film/Test" >/dev/null 2>&1
secs() { sed -n 's/^seconds=//p'; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
for job in "embed $crops ${N_EMBED:-1000}" "identify $tmp/g.db $film/Predict"; do
  set -- $job
  : > "$tmp/c" ; : > "$tmp/p"
  for r in $(seq "$REPS"); do
    "$BUILD/bench/bench_python" "$1" "$MODELS" "$2" "$3" | secs >> "$tmp/c"
    FACENET_LIB=$BUILD/libfacenet.so "$PY" bench/python_peer.py "$1" "$MODELS" "$2" "$3" | secs >> "$tmp/p"
  done
  c=$(median < "$tmp/c") p=$(median < "$tmp/p")
  awk -v j="$1" -v c="$c" -v p="$p" -v n="$REPS" 'BEGIN {
    printf "python_%s: C %.3f s, Python %.3f s (medians of %d, interleaved): overhead %+.1f %% (goal <= 5 %%)\n",
           j, c, p, n, (p / c - 1) * 100 }'
done

ckpt="$SHARED/fixtures/facenet_random/irv1_random_legacy.pt.xz"
if [ -f "$ckpt" ] && "$PY" -c 'import torch' 2>/dev/null; then
  xz -dc "$ckpt" > "$tmp/irv1.pt"
  f=$(FACENET_LIB=$BUILD/libfacenet.so "$PY" bench/python_torch_peer.py facenet "$SHARED" "$tmp/irv1.pt" "$film/Predict")
  t=$("$PY" bench/python_torch_peer.py torch "$SHARED" "$tmp/irv1.pt" "$film/Predict" 2>/dev/null)
  echo "python_vs_facenet_pytorch: facenet package $f; PyTorch pipeline $t"
  awk -v f="${f#seconds=}" -v t="${t#seconds=}" 'BEGIN { split(f, a, " "); split(t, b, " ");
    printf "ratio python_api_vs_facenet_pytorch: %.1fx faster (MTCNN + InceptionResnetV1, all faces of 100 photos)\n", b[1] / a[1] }'
else
  echo "skip python_vs_facenet_pytorch: $ckpt or torch missing"
fi

#!/usr/bin/env bash
# Photo library scan (`facenet scan`, issue 13): images/s with both cores
# busy, in the same run as the peer (bench/scan_peer.py: facenet-pytorch's
# MTCNN + InceptionResnetV1 in plain PyTorch, one photo at a time).
#  1. LFW's development photos (250x250): facenet scan with MobileFaceNet
#     (the default) and with the InceptionResnetV1 fixture checkpoint (the
#     peer's network); the peer on the first PEER_N of them.
#  2. 24-megapixel photos (6000x4000, Film photos upscaled with PIL):
#     facenet scan at working resolutions 1200, 1600, 2000 and full, faces
#     found at each (the measurement behind FN_SCAN_DEFAULT_SIDE), each with
#     libjpeg's reduced decode (1/2..1/8, the default), and at 1600 once more
#     with --full-decode (before that change) as a ratio; the peer at full
#     resolution on the first PEER_BIG of them.
# Then the clustering table on LFW (facenet eval-cluster, tuning split
# pairsDevTrain.txt).  Usage: bench/scan.sh build/opt.  LIMIT=N scans only
# the first N LFW photos; BIG=N photos of 24 Mpx (default 12); CLUSTER=0
# leaves out the clustering table.
set -eu
cd "$(dirname "$0")/.."
BUILD=${1:-build/opt}
SHARED=${SHARED:-../shared}
MODELS=${MODELS:-models}
LIMIT=${LIMIT:-0}
BIG=${BIG:-12}
PEER_N=${PEER_N:-300}
PEER_BIG=${PEER_BIG:-3}
CLUSTER=${CLUSTER:-1}
FN="$BUILD/facenet"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
lfw="$SHARED/datasets/lfw_view1/images"
if [ ! -d "$lfw" ] || [ ! -f "$MODELS/MobileFaceNet.tflite" ]; then
  echo "skip scan: $lfw or $MODELS/MobileFaceNet.tflite missing"; exit 0
fi
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores"
xz -dc "$SHARED/fixtures/facenet_random/irv1_random_legacy.pt.xz" > "$tmp/irv1.pt"

# scan NAME ARGS...: a fresh library; prints images/s, CPU busy, faces
scan() {
  local name=$1; shift
  rm -f "$tmp/$name.db"*
  /usr/bin/time -f "%e %U %S" -o "$tmp/t" "$FN" scan --gallery "$tmp/$name.db" --models-dir "$MODELS" --json "$@" \
    > "$tmp/$name.out" 2> "$tmp/$name.err" || { echo "$name failed:"; tail -3 "$tmp/$name.err"; return 1; }
  read -r wall user sys < "$tmp/t"
  local n faces
  n=$(grep -c "\"action\"" "$tmp/$name.out" || true)
  faces=$(tail -1 "$tmp/$name.out" | sed 's/.*"faces_added":\([0-9]*\).*/\1/')
  awk -v n="$n" -v w="$wall" -v u="$user" -v s="$sys" -v f="$faces" -v name="$name" \
    'BEGIN { printf "%-22s %5d images %6d faces  %7.2f s  %7.2f images/s  cpu busy %.2f of 2 cores\n", name, n, f, w, n / w, (u + s) / w }'
  echo "$n $wall" > "$tmp/$name.rate"
}
rate() { awk '{ print $1 / $2 }' "$tmp/$1.rate"; }

mkdir -p "$tmp/lfw"
if [ "$LIMIT" -gt 0 ]; then
  find "$lfw" -name "*.jpg" | sort | head -n "$LIMIT" | while read -r f; do cp "$f" "$tmp/lfw/"; done
  src="$tmp/lfw"
else
  src="$lfw"
fi
echo "== LFW development photos (250x250)"
scan lfw_mobilefacenet "$src"
scan lfw_irv1 --model "$tmp/irv1.pt" "$src"
find "$src"/ -name "*.jpg" | sort | head -n "$PEER_N" > "$tmp/peer.list"
if /usr/bin/python3 -c 'import torch, PIL' 2>/dev/null; then
  OMP_WAIT_POLICY=passive /usr/bin/python3 bench/scan_peer.py "$SHARED" "$tmp/irv1.pt" "$tmp/peer.list" > "$tmp/peer.txt"
  p=$(grep '^images_per_s=' "$tmp/peer.txt" | cut -d= -f2)
  echo "peer (MTCNN + InceptionResnetV1, PyTorch, first $PEER_N): $p images/s"
  awk -v c="$(rate lfw_irv1)" -v p="$p" 'BEGIN { printf "ratio facenet scan (irv1) / peer = %.2fx\n", c / p }'
  awk -v c="$(rate lfw_mobilefacenet)" -v p="$p" 'BEGIN { printf "ratio facenet scan (mobilefacenet) / peer = %.2fx\n", c / p }'
else
  echo "PyTorch or PIL not available: peer skipped"
fi

echo "== 24-megapixel photos (Film photos upscaled to 6000x4000)"
mkdir -p "$tmp/big"
/usr/bin/python3 - "$SHARED/fixtures/film/Predict" "$tmp/big" "$BIG" <<'PY'
import os, sys
from PIL import Image
src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
files = sorted(os.path.join(r, f) for r, _, fs in os.walk(src) for f in fs)
step = max(1, len(files) // n)
for i, f in enumerate(files[::step][:n]):
    im = Image.open(f).convert("RGB")
    # fill a 6000x4000 frame: the photo scaled to the frame's height, centred on gray
    s = 4000 / im.size[1]
    im = im.resize((min(6000, round(im.size[0] * s)), 4000), Image.BICUBIC)
    frame = Image.new("RGB", (6000, 4000), (128, 128, 128))
    frame.paste(im, ((6000 - im.size[0]) // 2, 0))
    frame.save(os.path.join(dst, f"big{i:02d}.jpg"), quality=92)
PY
for side in 1200 1600 2000 0; do scan "big_side_$side" --max-side "$side" "$tmp/big"; done
scan big_side_1600_full_decode --max-side 1600 --full-decode "$tmp/big"
awk -v r="$(rate big_side_1600)" -v f="$(rate big_side_1600_full_decode)" \
  'BEGIN { printf "ratio reduced decode / full decode at 1600 px = %.2fx\n", r / f }'
ls "$tmp"/big/*.jpg | head -n "$PEER_BIG" > "$tmp/peer_big.list"
if /usr/bin/python3 -c 'import torch, PIL' 2>/dev/null; then
  OMP_WAIT_POLICY=passive /usr/bin/python3 bench/scan_peer.py "$SHARED" "$tmp/irv1.pt" "$tmp/peer_big.list" > "$tmp/peer_big.txt"
  p=$(grep '^images_per_s=' "$tmp/peer_big.txt" | cut -d= -f2)
  echo "peer at full resolution (first $PEER_BIG): $p images/s, $(grep '^faces=' "$tmp/peer_big.txt" | cut -d= -f2) faces"
  awk -v c="$(rate big_side_1600)" -v p="$p" 'BEGIN { printf "ratio facenet scan (1600 px) / peer = %.1fx\n", c / p }'
fi

[ "$CLUSTER" = 0 ] && { echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"; exit 0; }
echo "== clustering on LFW (eval-cluster; thresholds chosen on pairsDevTrain's people)"
"$FN" eval-cluster --images "$lfw" --train-pairs "$SHARED/datasets/lfw_view1/pairsDevTrain.txt" --models-dir "$MODELS" \
  | grep -E 'chosen|default|embedded'

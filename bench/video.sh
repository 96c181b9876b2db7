#!/usr/bin/env bash
# Video: facenet's watch loop (bench_video: the 1080p crowd clip, old path vs
# the default plan in the same run, then slideshows), and OpenCV's
# CascadeClassifier on the same clip as the Haar peer (bench/haar_video_peer.py),
# with the ratio facenet (new path) / OpenCV on 1 and 2 threads.
# Usage: bench/video.sh build/opt (run by bench/run.sh).  REPS=3.
set -u
cd "$(dirname "$0")/.."
BUILD=${1:-build/opt}
SHARED=${SHARED:-../shared}
MODELS=${MODELS:-models}
clip=$SHARED/fixtures/video/video.mp4
cascade=/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
SHARED=$SHARED "$BUILD/bench/bench_video" "$MODELS" | tee "$tmp/c.txt"
status=${PIPESTATUS[0]}
if [ -f "$clip" ] && [ -f "$cascade" ] && /usr/bin/python3 -c 'import cv2' 2>/dev/null; then
  echo "== OpenCV $(/usr/bin/python3 -c 'import cv2; print(cv2.__version__)') CascadeClassifier peer on the same clip (decode + gray + detectMultiScale only) =="
  for th in 1 2; do
    p=$(/usr/bin/python3 bench/haar_video_peer.py "$cascade" "$clip" $th "${REPS:-3}")
    echo "opencv haar, $th thread(s): $p"
    pf=$(echo "$p" | awk '{print $2}')
    cf=$(grep "^crowd_haar_${th}thr_new_fps=" "$tmp/c.txt" | cut -d= -f2)
    of=$(grep "^crowd_haar_${th}thr_old_fps=" "$tmp/c.txt" | cut -d= -f2)
    [ -n "$cf" ] && [ -n "$pf" ] && awk -v c="$cf" -v o="$of" -v p="$pf" -v t="$th" \
      'BEGIN { printf "ratio crowd haar %d thr: facenet/OpenCV = %.2fx (facenet new %s fps, old %s fps, OpenCV %s fps)\n", t, c / p, c, o, p }'
  done
else
  echo "OpenCV peer skipped (needs $clip, $cascade and python3-opencv)"
fi
# facenet-pytorch's way through the same clip (bench/watch_torch_peer.py):
# MTCNN every 5th frame at full size and InceptionResnetV1 on every face
# found, against `facenet watch --detector mtcnn --threads 2` with the same
# MTCNN weights and the same checkpoint (and with its defaults), 2 threads.
ckpt="$SHARED/fixtures/facenet_random/irv1_random_legacy.pt.xz"
if [ -f "$clip" ] && [ -f "$ckpt" ] && [ -d "$SHARED/fixtures/mtcnn" ] && /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  echo "== watch vs facenet-pytorch's pipeline on the same clip (MTCNN every 5th frame, InceptionResnetV1, 2 threads)"
  xz -dc "$ckpt" > "$tmp/irv1p.pt"
  nets=(--model "$tmp/irv1p.pt" --mtcnn-dir "$SHARED/fixtures/mtcnn")
  "$BUILD/facenet" enroll --models-dir "$MODELS" "${nets[@]}" --gallery "$tmp/pt.db" "$SHARED/fixtures/film/Film/Test" >/dev/null 2>&1
  frames=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 "$clip")
  wall() { local s; s=$(date +%s.%N); "$@" >/dev/null 2>&1; awk -v s="$s" -v e="$(date +%s.%N)" 'BEGIN { printf "%.3f", e - s }'; }
  fw=$(wall "$BUILD/facenet" watch --models-dir "$MODELS" "${nets[@]}" --gallery "$tmp/pt.db" --detector mtcnn --threads 2 --headless --json "$clip")
  p=$(/usr/bin/python3 bench/watch_torch_peer.py "$SHARED" "$tmp/irv1p.pt" "$clip" 2 5 2>/dev/null)
  echo "facenet-pytorch pipeline: $p"
  pf=$(echo "$p" | sed -n 's/^fps=\([0-9.]*\).*/\1/p')
  awk -v n="$frames" -v f="$fw" -v p="$pf" 'BEGIN {
    printf "facenet watch (same nets, start and load included): %d frames in %.2f s = %.1f fps\n", n, f, n / f
    printf "ratio watch_vs_facenet_pytorch = %.1fx\n", (n / f) / p }'
else
  echo "skip facenet-pytorch video peer: $clip, $ckpt, fixtures/mtcnn or torch missing"
fi
exit "$status"

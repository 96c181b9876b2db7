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
exit "$status"

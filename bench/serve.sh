#!/usr/bin/env bash
# facenet serve under load (localhost only, bounded in count and time):
# identify requests with a 640x480 JPEG of one face from 1, 8 and 32
# concurrent keep-alive clients for DURATION seconds each (default 60, the
# issue's protocol; DURATION=10 for trials), then 8 clients with one
# enrolment in ten requests; requests/s, latency p50/p95/p99, errors, the
# server's RSS at start and end, and the server's CPU time per request
# (/proc/PID/stat; much less sensitive to other load than wall time).  The peer, in the same run: the CLI's one-shot
# `facenet identify --gallery G photo.jpg` (a process per request: start,
# models, one photo), sequentially; the ratio is the 1-client server rate
# over the CLI's.  And the issue's peer: a Flask server (Debian python3-flask)
# around PyTorch MTCNN + InceptionResnetV1 (bench/serve_peer.py), at 1 and 8
# clients, as a ratio.  HTTP's own cost per request (GET /v1/health) is printed
# too: it is what a WebSocket would save per live frame.
# PEERS=0 runs the server alone (trials).
# Usage: bench/serve.sh build/opt (run by bench/run.sh)
set -u
cd "$(dirname "$0")/.."
BUILD=${1:-build/opt}
SHARED=${SHARED:-../shared}
MODELS=${MODELS:-models}
export DURATION=${DURATION:-60}
film=$SHARED/fixtures/film
if [ ! -d "$film/Film/Test" ] || [ ! -f "$MODELS/MobileFaceNet.tflite" ]; then
  echo "skip serve: $film or $MODELS/MobileFaceNet.tflite missing"; exit 0
fi
tmp=$(mktemp -d)
srv=
trap '[ -n "$srv" ] && kill $srv 2>/dev/null; rm -rf "$tmp"' EXIT
export OMP_WAIT_POLICY=passive
"$BUILD/facenet" enroll --models-dir "$MODELS" --gallery "$tmp/g.db" "$film/Film/Test" >/dev/null 2>&1
"$BUILD/facenet" serve --models-dir "$MODELS" --gallery "$tmp/g.db" --listen 127.0.0.1:0 --max-busy 64 2> "$tmp/server.log" &
srv=$!
for _ in $(seq 100); do grep -q "listening on" "$tmp/server.log" && break; sleep 0.1; done
port=$(sed -n 's/.*listening on http:\/\/127.0.0.1:\([0-9]*\)\/.*/\1/p' "$tmp/server.log")
[ -n "$port" ] || { echo "serve: the server did not start"; cat "$tmp/server.log"; exit 1; }
# the peer: Flask around PyTorch MTCNN + InceptionResnetV1 (bench/serve_peer.py)
ckpt=$SHARED/fixtures/facenet_random/irv1_random_legacy.pt.xz
peer=
if [ "${PEERS:-1}" = 0 ]; then
  echo "peers: not run (PEERS=0)"
elif [ -f "$ckpt" ] && /usr/bin/python3 -c 'import flask, torch' 2>/dev/null; then
  xz -dc "$ckpt" > "$tmp/irv1.pt"
  pport=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  /usr/bin/python3 bench/serve_peer.py "$SHARED" "$pport" "$tmp/irv1.pt" 2> "$tmp/peer.log" &
  peer=$!
  for _ in $(seq 300); do grep -q "peer listening" "$tmp/peer.log" && break; sleep 0.1; done
  sleep 1
  export PEER_PORT=$pport PEER_PID=$peer
else
  echo "peer: skipped ($ckpt, or Debian's python3-flask / python3-torch, missing)"
fi
/usr/bin/python3 bench/serve_load.py "$port" "$srv" "$film" "$tmp" "$BUILD/facenet" "$MODELS"
rc=$?
kill -TERM $srv; wait $srv
srv=
[ -n "$peer" ] && kill $peer
exit $rc

#!/usr/bin/env bash
# MobileFaceNet from the default bundle: load, ms/face, RSS.  No peer:
# nothing on this machine runs TFLite (the fixture embeddings were made
# elsewhere); the reference path's time is printed beside the fast one.
set -eu
cd "$(dirname "$0")/.."
BUILD=${1:-build/opt}
MODELS=${MODELS:-models}
if [ ! -f "$MODELS/MobileFaceNet.tflite" ]; then echo "skip mobilefacenet: run make models"; exit 0; fi
"$BUILD/bench/bench_mobilefacenet" "$MODELS/MobileFaceNet.tflite" "${ITERS:-50}"

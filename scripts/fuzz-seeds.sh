#!/usr/bin/env bash
# Writes the fuzz seed corpora into OUT/<target>/ (default build/fuzz/seeds):
# small valid files of every format, generated (fuzz/make_seeds.py), never
# copied from ../shared.  Re-runs only when the generator changed.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-build/fuzz/seeds}
MODELS=${MODELS:-models}
stamp="$OUT/.stamp"
if [ -f "$stamp" ] && [ "$stamp" -nt fuzz/make_seeds.py ] && [ "$stamp" -nt src/gallery/gallery_open.c ]; then
  exit 0
fi
rm -rf "$OUT"
mkdir -p "$OUT"
/usr/bin/python3 fuzz/make_seeds.py "$OUT" "$MODELS"
touch "$stamp"

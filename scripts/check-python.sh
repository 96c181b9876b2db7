#!/usr/bin/env bash
# check-python.sh PYTHON — the Python package's tests (python/tests, pytest)
# against the checkout's build/opt/libfacenet.so and CLI.  Run by `make check`
# after the C tests; ends with pytest's summary line.  Without numpy or pytest
# for PYTHON it says so and skips (exit 0): `make deps-python` installs them.
# Tests needing the models or ../shared skip with a message naming the path.
set -u
cd "$(dirname "$0")/.."
PY=${1:-python3}
if ! "$PY" -c 'import numpy, pytest' 2>/dev/null; then
  echo "skip  python tests: $PY lacks numpy or pytest (make deps-python installs python3-numpy python3-pytest)"
  exit 0
fi
export SHARED=${SHARED:-$(cd .. && pwd)/shared} MODELS=${MODELS:-$PWD/models}
export FACENET_LIB=${FACENET_LIB:-$PWD/build/opt/libfacenet.so}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
# -rs: every skip with its reason (the missing path or package).  The suite
# takes under a minute; one that hangs is stopped (with what it started) at
# PY_TEST_TIMEOUT seconds and fails, instead of holding up the whole run.
limit=${PY_TEST_TIMEOUT:-1200}
timeout --kill-after=10 "$limit" "$PY" -m pytest -q -rs -p no:cacheprovider python/tests
rc=$?
case $rc in
  124|137) echo "FAIL  python tests: timed out, stopped after ${limit}s (PY_TEST_TIMEOUT)";;
esac
exit $rc

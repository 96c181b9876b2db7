#!/usr/bin/env bash
# Three `facenet serve` processes on one PostgreSQL gallery (issue 14): enrol
# on one, identify on the others within a second; a server stopped, one
# killed mid-enrolment, PostgreSQL restarted under them
# (tests/serve_pg.py, Debian's python3).  Skips (77) with the reason when
# PostgreSQL's binaries, the models or the Film photos are absent.
# Usage: tests/test_serve_pg.sh build/opt|build/asan   (tests/run.sh runs it)
set -u
cd "$(dirname "$0")/.."
variant=${1:?usage: test_serve_pg.sh BUILD_VARIANT_DIR}
py=/usr/bin/python3
[ -x "$py" ] || py=python3
"$py" -c 'import PIL' 2>/dev/null || { echo "SKIP: python3 with PIL is absent (make deps-check)"; exit 77; }
exec "$py" tests/serve_pg.py "${FACENET_BIN:-$variant/facenet}" "$variant"

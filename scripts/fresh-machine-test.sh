#!/usr/bin/env bash
# fresh-machine-test.sh [WORKDIR] — the quick start on a fresh minimal Debian 12.
#
# As root on a Debian machine with debootstrap: bootstraps a minbase bookworm
# root (from the mirror this machine's apt is configured with), installs only
# `git make ca-certificates` (what a new user has to have to clone), clones
# this repository's HEAD into it, and then
#   sizes        what each make target would install (packages, MB), from apt
#   user-denied  as a non-root user, `make demo` before anything is installed:
#                must stop with the apt-get command to run as root
#   root-*       as root: make demo, make check without and with ../shared
#   user-*       as a non-root user (packages now present): the same
# printing each step's exit status, time and test summary line.  ../shared
# (SHARED_DIR, default the repo's ../shared) is bind-mounted read-only as the
# clone's ../shared for the "with" runs and absent otherwise.
#
# Env: PHASES (default all, in the order above), SHARED_DIR, REF (default
# HEAD of this repo), JOBS (make -j, default 2).  WORKDIR (default
# /var/tmp/fn-fresh) keeps the bootstrapped base (reused) and the root;
# results are appended to WORKDIR/results.txt.  Long: downloads ~1 GB.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-/var/tmp/fn-fresh}
SHARED_DIR=${SHARED_DIR:-$(cd "$repo/.." && pwd)/shared}
REF=${REF:-$(git -C "$repo" rev-parse HEAD)}
JOBS=${JOBS:-2}
PHASES=${PHASES:-"sizes user-denied root-demo root-check-noshared root-check-shared user-demo user-check-noshared user-check-shared"}
base=$work/base root=$work/root out=$work/results.txt
die() { echo "fresh-machine-test: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, chroot, mounts)"
command -v debootstrap >/dev/null || die "debootstrap is missing (as root: apt-get install debootstrap)"
mkdir -p "$work"
log() { echo "$*" | tee -a "$out"; }

# The mirror this machine's apt uses (deb822 .sources or one-line lists).
mirror=$( { cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '/^URIs:/ {print $2}';
            cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '/^deb / {print $2}'; } |
          grep -v security | head -n1 || true)
[ -n "$mirror" ] || die "no Debian mirror found in /etc/apt/sources.list*"

if [ ! -f "$base/.fresh-complete" ]; then
  rm -rf "$base"
  log "== debootstrap --variant=minbase bookworm $base $mirror"
  debootstrap --variant=minbase bookworm "$base" "$mirror" > "$work/debootstrap.log" 2>&1 ||
    die "debootstrap failed (see $work/debootstrap.log)"
  touch "$base/.fresh-complete"
fi

mounted=()
cleanup() {
  local m i
  for ((i=${#mounted[@]}-1; i>=0; i--)); do
    m=${mounted[i]}
    mountpoint -q "$m" || continue
    umount -R "$m" 2>/dev/null || umount -lR "$m" 2>/dev/null || echo "fresh-machine-test: could not unmount $m" >&2
  done
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mnt() {   # mnt TARGET mount-args... — mounted once, unmounted on exit
  mountpoint -q "$1" && return 0
  local t=$1; shift
  mkdir -p "$t"; mount "$@" "$t"; mounted+=("$t")
}

if [ ! -f "$root/.fresh-ready" ]; then
  # Never rm -rf a root that may still have /dev, /proc bound into it.
  if [ -d "$root" ]; then
    grep -q " $root/" /proc/mounts && die "$root still has mounts; unmount them first"
    rm -rf "$root"
  fi
  cp -a "$base" "$root"
fi
mnt "$root/proc" -t proc proc
mnt "$root/sys" -t sysfs -o ro sysfs
mnt "$root/dev" --rbind /dev; mount --make-rslave "$root/dev"
cp -L /etc/resolv.conf "$root/etc/resolv.conf"
# The same suites as this machine (bookworm, -updates, -security).
if ls /etc/apt/sources.list.d/*.sources >/dev/null 2>&1; then
  rm -f "$root/etc/apt/sources.list"; cp /etc/apt/sources.list.d/*.sources "$root/etc/apt/sources.list.d/"
fi

in_root() { chroot "$root" env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
              LANG=C.UTF-8 TERM=dumb bash -c "$1"; }
as_user() { chroot --userspec=fresh:fresh "$root" env -i HOME=/home/fresh PATH=/usr/local/bin:/usr/bin:/bin \
              LANG=C.UTF-8 TERM=dumb bash -c "cd /home/fresh && $1"; }

if [ ! -f "$root/.fresh-ready" ]; then
  log "== $(date -u +%H:%M) the new user's starting point: apt-get install git make ca-certificates"
  in_root "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends git make ca-certificates >/dev/null"
  in_root "id fresh >/dev/null 2>&1 || useradd -m -s /bin/bash fresh"
  touch "$root/.fresh-ready"
  log "fresh root: $(in_root "dpkg-query -W | wc -l") packages, $(du -sm --exclude=proc --exclude=sys --exclude=dev "$root" | cut -f1) MB"
fi
# A machine behind a TLS-inspecting proxy trusts the proxy's CA; the CAs this
# machine added locally (public certificates only) are added to the root too,
# or npm could not reach its registry from it.
if ls /usr/local/share/ca-certificates/*.crt >/dev/null 2>&1; then
  mkdir -p "$root/usr/local/share/ca-certificates"
  cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
  in_root "update-ca-certificates >/dev/null 2>&1" || true
fi
# Clones of REF for root (/root/facenet) and the user (/home/fresh/facenet).
clone() {   # clone DIR RUNNER
  local dir=$1 run=$2
  rm -rf "$root$dir"
  git clone -q --no-hardlinks "$repo" "$root$dir"
  git -C "$root$dir" checkout -q "$REF"
  [ "$run" = as_user ] && chroot "$root" chown -R fresh:fresh "$dir"
  return 0
}

# An existing clone moves to REF (its build/ and models/ stay: untracked).
update() {  # update DIR RUNNER
  local dir=$1 run=$2
  if [ -d "$root$dir/.git" ]; then
    # (the user's clone is not ours: tell git that is fine)
    git -c safe.directory="$root$dir" -C "$root$dir" fetch -q "$repo" "$REF" 2>/dev/null ||
      git -c safe.directory="$root$dir" -C "$root$dir" fetch -q "$repo"
    git -c safe.directory="$root$dir" -C "$root$dir" checkout -q "$REF"
    [ "$run" = as_user ] && chroot "$root" chown -R fresh:fresh "$dir"
  else
    clone "$dir" "$run"
  fi
  return 0
}

summary() { grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped' "$1" | tail -n1; }
step() {    # step NAME RUNNER COMMAND — runs, logs, records status/time/summary
  local name=$1 run=$2 cmd=$3 t0 rc
  t0=$SECONDS
  log "== $(date -u +%H:%M) $name: $cmd"
  set +e; $run "$cmd" > "$work/$name.log" 2>&1; rc=$?; set -e
  log "   exit $rc after $((SECONDS - t0)) s; $(summary "$work/$name.log" || true)"
  grep -E '^(install-deps|    apt-get|Run as root|then run)' "$work/$name.log" | sed 's/^/   | /' | tee -a "$out" || true
  return 0
}
shared_mount() {   # shared_mount HOME on|off — ../shared of the clone
  local t="$root$1/shared"
  if [ "$2" = on ]; then
    [ -d "$SHARED_DIR" ] || die "SHARED_DIR=$SHARED_DIR is absent"
    # A mount left by an interrupted run may show a directory since replaced
    # (an empty, deleted one): always mount afresh, and prove it is there.
    if mountpoint -q "$t"; then umount "$t"; fi
    mnt "$t" --bind "$SHARED_DIR"; mount -o remount,bind,ro "$t"
    [ -f "$t/README.md" ] || die "$t: the bind mount of $SHARED_DIR shows no README.md"
  else
    if mountpoint -q "$t"; then umount "$t"; fi
    rmdir "$t" 2>/dev/null || true
  fi
}

log "== $(date -u) fresh-machine-test of $(git -C "$repo" log --oneline -1 "$REF")"
for phase in $PHASES; do
  case $phase in
    sizes)
      [ -d "$root/root/facenet" ] || clone /root/facenet in_root
      log "== what each target installs on this fresh root (apt-get, --no-install-recommends)"
      for t in build models demo check bench fuzz python "build models demo check bench fuzz python"; do
        pk=$(in_root "cd /root/facenet && PRINT_ONLY=1 bash scripts/install-deps.sh $t")
        sim=$(in_root "apt-get install --assume-no --no-install-recommends $pk 2>&1" || true)
        n=$(sed -n 's/.* \([0-9]*\) newly installed.*/\1/p' <<<"$sim")
        dl=$(sed -n 's/^Need to get \([^ ]* [^ ]*\) of archives.*/\1/p' <<<"$sim")
        sz=$(sed -n 's/^After this operation, \([^ ]* [^ ]*\) of additional.*/\1/p' <<<"$sim")
        log "   target '$t': $n packages, download $dl, installed $sz  (asked for: $(wc -w <<<"$pk"))"
      done
      for p in npm nodejs; do
        sim=$(in_root "apt-get install --assume-no --no-install-recommends $p 2>&1" || true)
        log "   package '$p' alone: $(sed -n 's/.* \([0-9]*\) newly installed.*/\1/p' <<<"$sim") packages, installed $(sed -n 's/^After this operation, \([^ ]* [^ ]*\) of additional.*/\1/p' <<<"$sim")"
      done;;
    user-denied)
      clone /home/fresh/facenet as_user
      step user-denied as_user "cd facenet && make demo";;
    root-demo)
      update /root/facenet in_root
      before=$(du -sm --exclude=proc --exclude=sys --exclude=dev "$root" | cut -f1)
      step root-demo in_root "cd /root/facenet && make -j$JOBS demo"
      log "   root grew from $before MB to $(du -sm --exclude=proc --exclude=sys --exclude=dev "$root" | cut -f1) MB; $(in_root "dpkg-query -W | wc -l") packages";;
    root-check-noshared)
      update /root/facenet in_root; shared_mount /root off
      step root-check-noshared in_root "cd /root/facenet && nice -n 10 make -j$JOBS check";;
    root-check-shared)
      update /root/facenet in_root; shared_mount /root on
      step root-check-shared in_root "cd /root/facenet && nice -n 10 make -j$JOBS check"
      shared_mount /root off;;
    user-demo)
      update /home/fresh/facenet as_user
      step user-demo as_user "cd facenet && make -j$JOBS demo";;
    user-check-noshared)
      update /home/fresh/facenet as_user; shared_mount /home/fresh off
      step user-check-noshared as_user "cd facenet && nice -n 10 make -j$JOBS check";;
    user-check-shared)
      update /home/fresh/facenet as_user; shared_mount /home/fresh on
      step user-check-shared as_user "cd facenet && nice -n 10 make -j$JOBS check"
      shared_mount /home/fresh off;;
    *) die "unknown phase $phase";;
  esac
done
log "== $(date -u +%H:%M) done; logs in $work/*.log"

#!/usr/bin/env bash
# Build diffbench against LibTorch 2.6 and run its whole suite there: a Debian 13 (trixie) root made
# with debootstrap (or reused), the project's own scripts/setup.sh run inside it with chroot, the
# working tree and ../shared bind-mounted, the build in build-libtorch2/ (ignored by git).
# Debian 12 packages LibTorch 1.13 and Debian 13 LibTorch 2.6, so the two runs of .ci/run prove both.
#   scripts/check_libtorch2.sh [--build-only]      (as root; DIFFBENCH_TRIXIE_ROOT picks the root)
# The root lives outside the clone (default /var/cache/diffbench/trixie) so a machine that keeps it
# reuses it: debootstrap takes minutes, a reused root seconds. Exit: ctest's status, 1 on setup errors.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
shared=$(realpath -m ../shared)
root=${DIFFBENCH_TRIXIE_ROOT:-/var/cache/diffbench/trixie}
mirror=${DIFFBENCH_TRIXIE_MIRROR:-http://deb.debian.org/debian}
build_only=false
[[ ${1:-} == --build-only ]] && build_only=true
say() { echo "check_libtorch2: $*" >&2; }
[[ $(id -u) == 0 ]] || { echo "error: check_libtorch2.sh needs root (debootstrap and chroot); run it with sudo" >&2; exit 1; }

if [[ ! -f $root/.diffbench-root-complete ]]; then
  command -v debootstrap >/dev/null || {
    say "installing debootstrap"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null ||
      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null; }
  }
  say "making a trixie root in $root (minutes; reused afterwards)"
  rm -rf "$root"
  mkdir -p "$(dirname "$root")"
  debootstrap --variant=minbase trixie "$root" "$mirror" >"$root.debootstrap.log" 2>&1 ||
    { tail -n 20 "$root.debootstrap.log" >&2; echo "error: debootstrap trixie failed (log: $root.debootstrap.log)" >&2; exit 1; }
  # The host's apt settings (validity checks off for snapshot mirrors) apply inside too.
  cp /etc/apt/apt.conf.d/99* "$root/etc/apt/apt.conf.d/" 2>/dev/null || true
  touch "$root/.diffbench-root-complete"
fi

mounts=()
cleanup() {
  local i
  for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do umount -l "${mounts[i]}" 2>/dev/null || true; done
}
trap cleanup EXIT
bind() { # bind SOURCE TARGET-INSIDE-ROOT [--rbind]
  mkdir -p "$root$2"
  # A mount left from an earlier run is kept only while it still shows the same folder (the source
  # may have been replaced since: a bind holds on to the old one).
  if mountpoint -q "$root$2"; then
    [[ $(stat -c %d:%i "$1") == $(stat -c %d:%i "$root$2") ]] && return 0
    umount -l "$root$2"
  fi
  mount "${3:---bind}" "$1" "$root$2" && mounts+=("$root$2")
  # A recursive bind carries the host's submounts; as a slave, unmounting it here never reaches them.
  [[ ${3:-} != --rbind ]] || mount --make-rslave "$root$2"
}
bind /proc /proc
# Recursively: slurmd (Slurm 24, the Slurm test) needs the cgroup filesystems under /sys/fs/cgroup.
bind /sys /sys --rbind
bind /dev /dev
bind /dev/pts /dev/pts
bind "$repo" /work/diffbench
[[ -d $shared ]] && bind "$shared" /work/shared
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
passed=()  # the caller's settings that change how the suite runs, only when set
for var in OMP_NUM_THREADS CI; do [[ -n ${!var:-} ]] && passed+=("$var=${!var}"); done
inside() { chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
  "${passed[@]}" bash -c "cd /work/diffbench && $1"; }

say "installing packages and building in build-libtorch2/ (LibTorch $(inside "dpkg-query -W -f='\${Version}' libtorch-dev 2>/dev/null || echo 'not yet installed'"))"
inside "scripts/setup.sh build-libtorch2"
inside "/usr/bin/python3 -c 'import torch; print(\"check_libtorch2: python3-torch\", torch.__version__)'" >&2
$build_only && exit 0
say "running the suite against LibTorch 2"
inside "ctest --test-dir build-libtorch2 --output-on-failure -j2"

#!/usr/bin/env bash
# Build the Greenline sandbox image without a container registry:
# debootstrap a minimal Debian bookworm from the host's apt mirror, then
# `docker import` it. Usage: build-sandbox-image.sh [IMAGE]
set -euo pipefail

IMAGE="${1:-${GREENLINE_SANDBOX_IMAGE:-greenline-sandbox:bookworm}}"
PACKAGES=python3,python3-venv,python3-virtualenv,python3-pip,git,ca-certificates,bash

die() { echo "build-sandbox-image: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root (debootstrap needs it); try: sudo $0"
command -v debootstrap >/dev/null || die "debootstrap is not installed; run infra/ensure-docker.sh"
docker info >/dev/null 2>&1 || die "docker daemon is not answering; run infra/ensure-docker.sh"

# The Debian mirror the host already uses (the only one reachable offline).
mirror_from_apt_sources() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && awk '$1 == "URIs:" && $2 !~ /security/ { print $2; exit }' "$f"
  done
  if [ -f /etc/apt/sources.list ]; then
    # "deb [opts] URI suite ..." -> URI (skip the optional [...] block)
    sed -nE 's/^deb[[:space:]]+(\[[^]]*\][[:space:]]+)?([^[:space:]]+).*/\2/p' /etc/apt/sources.list | grep -v security
  fi
}
MIRROR="$(mirror_from_apt_sources | head -n 1 || true)"
MIRROR="${MIRROR:-http://deb.debian.org/debian}"

start=$SECONDS
WORK="$(mktemp -d "${TMPDIR:-/var/tmp}/greenline-rootfs.XXXXXX")"
cleanup() {
  # Never let rm -rf walk into a /proc or /sys that a failed debootstrap left mounted.
  grep -F " $WORK/" /proc/mounts | awk '{print $2}' | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  rm -rf --one-file-system "$WORK"
}
trap cleanup EXIT
ROOTFS="$WORK/rootfs"

if ! debootstrap --variant=minbase --include="$PACKAGES" bookworm "$ROOTFS" "$MIRROR" >"$WORK/debootstrap.log" 2>&1; then
  tail -n 30 "$WORK/debootstrap.log" >&2
  [ -f "$ROOTFS/debootstrap/debootstrap.log" ] && tail -n 30 "$ROOTFS/debootstrap/debootstrap.log" >&2
  die "debootstrap from $MIRROR failed (see above)"
fi
chmod 1777 "$ROOTFS/tmp"
rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/*

tar -C "$ROOTFS" -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  - "$IMAGE" >/dev/null || die "docker import of $IMAGE failed"

echo "build-sandbox-image: built $IMAGE from $MIRROR in $((SECONDS - start)) s"

#!/usr/bin/env bash
# Make sure docker + debootstrap are installed, a docker daemon answers, and the
# Greenline sandbox image exists. Idempotent; quiet unless something fails.
# No systemd and no container registry are assumed.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
IMAGE="${GREENLINE_SANDBOX_IMAGE:-greenline-sandbox:bookworm}"
DOCKERD_LOG=/var/log/greenline-dockerd.log

die() { echo "ensure-docker: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root (installs packages and starts dockerd); try: sudo $0"

# 1. Packages.
missing=()
command -v dockerd >/dev/null || missing+=(docker.io)
command -v debootstrap >/dev/null || missing+=(debootstrap)
if [ "${#missing[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  log=$(mktemp)
  if ! apt-get install -y -q "${missing[@]}" >"$log" 2>&1; then
    # Package lists are probably missing or stale: refresh once and retry.
    if ! { apt-get update -q && apt-get install -y -q "${missing[@]}"; } >"$log" 2>&1; then
      cat "$log" >&2; rm -f "$log"
      die "could not apt-get install ${missing[*]} (see output above); check the apt sources and network"
    fi
  fi
  rm -f "$log"
fi

# 2. Daemon.
if ! docker info >/dev/null 2>&1; then
  setsid dockerd >"$DOCKERD_LOG" 2>&1 < /dev/null &
  for _ in $(seq 60); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
  if ! docker info >/dev/null 2>&1; then
    tail -n 30 "$DOCKERD_LOG" >&2 || true
    die "dockerd did not answer within 60 s; full log: $DOCKERD_LOG"
  fi
fi

# 3. Sandbox image.
if ! docker image inspect "$IMAGE" >/dev/null 2>&1; then
  "$HERE/build-sandbox-image.sh" "$IMAGE"
fi

#!/usr/bin/env bash
# Ensures nats-server is on PATH, installing Debian's package if needed. Idempotent.
# If the package also starts a system service on 4222 that is harmless: tests use free ports.
set -euo pipefail

log() { echo "[provision/nats] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

if command -v nats-server >/dev/null 2>&1; then
  log "nats-server already installed: $(nats-server --version 2>&1 | head -n1)"
  exit 0
fi

# Debian installs it to /usr/sbin, which some non-login PATHs leave out.
SBIN_HINT="nats-server is installed at /usr/sbin/nats-server, but /usr/sbin is not on PATH (${PATH}); add it to PATH"
[[ -x /usr/sbin/nats-server ]] && die "${SBIN_HINT}"

command -v apt-get >/dev/null 2>&1 || die "nats-server is not on PATH and apt-get is unavailable; install nats-server (>= 2.9) by hand"
if [[ "$(id -u)" -ne 0 ]]; then
  die "nats-server is not on PATH and installing it needs root; run: sudo apt-get install -y nats-server"
fi

log "installing nats-server with apt-get"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2 || die "apt-get update failed"
apt-get install -y -qq nats-server >&2 || die "apt-get install nats-server failed"

if ! command -v nats-server >/dev/null 2>&1; then
  [[ -x /usr/sbin/nats-server ]] && die "${SBIN_HINT}"
  die "nats-server still not on PATH after installing the package"
fi
log "installed: $(nats-server --version 2>&1 | head -n1)"

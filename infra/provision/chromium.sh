#!/usr/bin/env bash
# Ensures Debian's chromium is installed at /usr/bin/chromium, for the browser tests
# (test/browser/*.e2e.test.ts drive it through playwright-core). Idempotent. Prints the binary path.
set -euo pipefail

BIN=/usr/bin/chromium

log() { echo "[provision/chromium] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

if [[ -x "${BIN}" ]]; then
  log "chromium already installed: $("${BIN}" --version 2>/dev/null | head -n1 || echo "${BIN}")"
  echo "${BIN}"
  exit 0
fi

command -v apt-get >/dev/null 2>&1 || die "${BIN} is missing and apt-get is unavailable; install Chromium by hand"
if [[ "$(id -u)" -ne 0 ]]; then
  die "${BIN} is missing and installing it needs root; run: sudo apt-get install -y chromium"
fi

log "installing chromium with apt-get"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2 || die "apt-get update failed"
apt-get install -y -qq chromium >&2 || die "apt-get install chromium failed"

[[ -x "${BIN}" ]] || die "${BIN} still missing after installing the package"
log "installed: $("${BIN}" --version 2>/dev/null | head -n1 || echo "${BIN}")"
echo "${BIN}"

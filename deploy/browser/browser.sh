#!/usr/bin/env bash
# The browser the page tests drive (tests/browser): Debian's chromium and chromium-driver,
# installed with apt-get when missing (CI runs as root), and axe-core from npm into .local/axe
# (the accessibility engine the tests inject into every page).
#
# Usage: deploy/browser/browser.sh install|paths
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
AXE_VERSION=4.14.1
AXE_DIR=$REPO/.local/axe
AXE=$AXE_DIR/node_modules/axe-core/axe.min.js

die() { echo "browser.sh: error: $*" >&2; exit 1; }

install_browser() {
  if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then
    return
  fi
  [ "$(id -u)" = 0 ] || die "chromium and chromium-driver are missing: apt-get install them as root"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
}

install_axe() {
  if [ -f "$AXE" ] && grep -q "\"version\": \"$AXE_VERSION\"" "$AXE_DIR/node_modules/axe-core/package.json"; then
    return
  fi
  if ! command -v npm >/dev/null; then
    [ "$(id -u)" = 0 ] || die "npm is missing: apt-get install npm as root"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null
  fi
  mkdir -p "$AXE_DIR"
  (cd "$AXE_DIR" && npm install --silent --no-audit --no-fund "axe-core@$AXE_VERSION" >/dev/null)
}

case "${1:-}" in
  install) install_browser; install_axe; echo "browser.sh: $(chromium --version 2>/dev/null), axe-core $AXE_VERSION" ;;
  paths) echo "chromium=$(command -v chromium) chromedriver=$(command -v chromedriver) axe=$AXE" ;;
  *) die "usage: $0 install|paths" ;;
esac

#!/usr/bin/env bash
# Checks the Prometheus files in this folder with promtool (`make lint` runs `promtool.sh check`).
#
# promtool comes from Debian's `prometheus` package. Installing that package would also install
# (and on some systems start) a Prometheus server, so the package is only downloaded with
# `apt-get download` and promtool alone unpacked into .cache/promtool/ (kept like the Kafka jars;
# `make clean` leaves it). A promtool already on PATH is used as it is.
#
# Usage: deploy/monitoring/promtool.sh check|path
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
CACHE=$REPO/.cache/promtool
UNPACKED=$CACHE/usr/bin/promtool

die() { echo "promtool.sh: error: $*" >&2; exit 1; }

promtool_path() {
  if command -v promtool >/dev/null 2>&1; then command -v promtool; return; fi
  if [ ! -x "$UNPACKED" ]; then
    mkdir -p "$CACHE"
    echo "promtool.sh: fetching Debian's prometheus package for promtool (once)" >&2
    (cd "$CACHE" && rm -f prometheus_*.deb && apt-get download -q prometheus >/dev/null 2>&1) \
      || { apt-get update -q >/dev/null && (cd "$CACHE" && apt-get download -q prometheus >/dev/null); } \
      || die "apt-get download prometheus failed"
    dpkg-deb --fsys-tarfile "$CACHE"/prometheus_*.deb | tar -x -C "$CACHE" ./usr/bin/promtool
    rm -f "$CACHE"/prometheus_*.deb
  fi
  echo "$UNPACKED"
}

case "${1:-check}" in
  path) promtool_path ;;
  check)
    tool=$(promtool_path)
    "$tool" check rules "$HERE/alerts.yml"
    (cd "$HERE" && "$tool" test rules alerts_test.yml)
    "$tool" check config --syntax-only "$HERE/prometheus.yml"
    ;;
  *) die "usage: $0 check|path" ;;
esac

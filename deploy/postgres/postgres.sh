#!/usr/bin/env bash
# Private PostgreSQL cluster for dev and tests (not the Debian-managed cluster).
#
# Usage: deploy/postgres/postgres.sh install|start|stop|restart|status|clean|url
#
# Environment (defaults in brackets):
#   RADAR_PG_DIR   cluster dir: data/ (PGDATA), postgres.log, unix socket [$REPO/.local/postgres]
#   RADAR_PG_PORT  TCP port on 127.0.0.1 [54329]
#   RADAR_PG_DATABASES  databases to create besides radar, space-separated (make cluster's
#                  radar_cluster) []
# URL: postgresql://radar:radar@127.0.0.1:$RADAR_PG_PORT/radar (role radar is a superuser;
# auth is trust for local socket and loopback TCP, password radar is set anyway).
#
# Running as root: PostgreSQL refuses to run as root, so initdb/pg_ctl run as the `postgres`
# OS user (runuser), which must be able to traverse every parent of the cluster dir. When
# it cannot (e.g. the repo lives under /root, mode 700) and RADAR_PG_DIR is not set, the
# cluster goes to /var/tmp/radar-postgres-<hash of repo path> instead (printed on start);
# the choice is a pure function of the paths, so every subcommand finds the same dir.
# Not root: the binaries run as the current user, in RADAR_PG_DIR as given.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
PORT=${RADAR_PG_PORT:-54329}
DATABASES=${RADAR_PG_DATABASES:-}
case "$DATABASES" in *[!a-z0-9_\ ]*) echo "postgres.sh: RADAR_PG_DATABASES: names of a-z, 0-9 and _ only" >&2; exit 2;; esac
HOST=127.0.0.1
URL="postgresql://radar:radar@$HOST:$PORT/radar"
IS_ROOT=0; [ "$(id -u)" = 0 ] && IS_ROOT=1

die() { echo "postgres.sh: error: $*" >&2; exit 1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# Run a server binary as the postgres OS user when we are root (from / so that an
# unreadable cwd does not produce warnings), else as ourselves.
as_pg() {
  if [ "$IS_ROOT" = 1 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

# Can the postgres OS user reach (traverse) directory $1, or its nearest existing parent?
pg_can_reach() {
  local d=$1
  while [ ! -d "$d" ]; do d=$(dirname "$d"); done
  (cd / && runuser -u postgres -- test -x "$d")
}

find_bin() {
  PGBIN=$(find /usr/lib/postgresql -maxdepth 3 -path '*/bin/initdb' 2>/dev/null | sort -V | tail -n 1)
  PGBIN=${PGBIN%/initdb}
}

resolve_dir() {
  DIR=${RADAR_PG_DIR:-$REPO/.local/postgres}
  if [ "$IS_ROOT" = 1 ] && id postgres >/dev/null 2>&1 && ! pg_can_reach "$DIR"; then
    [ -n "${RADAR_PG_DIR:-}" ] && die "the postgres OS user cannot traverse into RADAR_PG_DIR=$DIR; pick a dir under /tmp or /var/tmp"
    DIR=/var/tmp/radar-postgres-$(printf %s "$REPO" | sha256sum | cut -c1-12)
    RELOCATED=1
  fi
  PGDATA=$DIR/data
  LOG=$DIR/postgres.log
}
RELOCATED=0
PGBIN=""
find_bin
resolve_dir

# ---- install -------------------------------------------------------------------
cmd_install() {
  [ -n "$PGBIN" ] && return 0
  [ "$IS_ROOT" = 1 ] || die "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb) and we are not root: apt-get install postgresql"
  echo "postgres.sh: installing PostgreSQL via apt-get" >&2
  local out; out=$(mktemp)
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; } >"$out" 2>&1; then
    cat "$out" >&2; rm -f "$out"; die "apt-get install postgresql failed"
  fi
  rm -f "$out"
  find_bin
  [ -n "$PGBIN" ] || die "postgresql installed but no /usr/lib/postgresql/*/bin/initdb found"
  resolve_dir   # the postgres OS user exists only now
}

# ---- helpers ---------------------------------------------------------------------
answering() { [ -n "$PGBIN" ] && "$PGBIN/pg_isready" -q -h "$HOST" -p "$PORT" -U postgres -d postgres -t 3; }
# State of our postmaster per $PGDATA/postmaster.pid: none | alive | stale (dead, a zombie,
# or a reused pid). After a SIGKILL the dead postmaster can linger as a zombie for seconds
# when PID 1 reaps slowly; pg_ctl and the postmaster's own lock check take it for alive.
pm_state() {
  local pid st
  pid=$(head -n 1 "$PGDATA/postmaster.pid" 2>/dev/null) || { echo none; return; }
  [ -n "$pid" ] || { echo stale; return; }
  st=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1) || true
  if [ -n "$st" ] && [ "$st" != Z ] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q postgres; then
    echo alive
  else
    echo stale
  fi
}
psql_admin() { "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$HOST" -p "$PORT" -U postgres -d postgres "$@"; }

log_tail() {
  echo "---- last 30 lines of $LOG ----" >&2
  tail -n 30 "$LOG" >&2 2>/dev/null || echo "(no log)" >&2
}

init_cluster() {
  (umask 022; mkdir -p "$DIR")
  if [ "$IS_ROOT" = 1 ]; then chown postgres:postgres "$DIR"; fi
  chmod 700 "$DIR"
  local out; out=$(mktemp)
  if ! as_pg "$PGBIN/initdb" -D "$PGDATA" -U postgres --auth=trust -E UTF8 --locale=C >"$out" 2>&1; then
    cat "$out" >&2; rm -f "$out"; die "initdb failed"
  fi
  rm -f "$out"
  echo "include_if_exists = 'radar.conf'    # written by deploy/postgres/postgres.sh" >>"$PGDATA/postgresql.conf"
}

write_conf() {
  # The unix socket lives in $DIR; sun_path is limited to 107 bytes, so a very long
  # path disables the socket (everything here connects over TCP anyway).
  local sock=$DIR
  [ ${#sock} -gt 90 ] && sock=""
  cat >"$PGDATA/radar.conf" <<EOF
# Generated by deploy/postgres/postgres.sh on every start; edits are overwritten.
listen_addresses = '$HOST'
port = $PORT
unix_socket_directories = '$sock'
max_connections = 200
# Durability on: this cluster is used for crash tests.
fsync = on
synchronous_commit = on
full_page_writes = on
logging_collector = off        # stderr goes to $LOG (pg_ctl -l)
log_line_prefix = '%m [%p] %q%u@%d '
EOF
  if [ "$IS_ROOT" = 1 ]; then chown postgres:postgres "$PGDATA/radar.conf"; fi
}

ensure_db() {
  local out
  out=$(psql_admin -tA -c "select 1 from pg_roles where rolname = 'radar'")
  if [ "$out" != 1 ]; then
    psql_admin -c "create role radar with login superuser password 'radar'"
  fi
  local name
  for name in radar $DATABASES; do
    out=$(psql_admin -tA -c "select 1 from pg_database where datname = '$name'")
    if [ "$out" != 1 ]; then
      psql_admin -c "create database $name owner radar"
    fi
  done
}

pg_start() {  # pg_start start|restart
  local out; out=$(mktemp)
  if ! as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -l "$LOG" -w -t 60 -s "$1" -m fast >"$out" 2>&1; then
    cat "$out" >&2; rm -f "$out"; log_tail; die "pg_ctl $1 failed"
  fi
  rm -f "$out"
}

# ---- commands ----------------------------------------------------------------------
cmd_start() {
  local t0; t0=$(now)
  cmd_install
  if answering; then
    [ -z "$DATABASES" ] || ensure_db
    echo "postgres: already running on $HOST:$PORT"
    echo "$URL"; return 0
  fi
  if [ "$RELOCATED" = 1 ]; then
    echo "postgres: $REPO is not reachable by the postgres OS user; using $DIR"
  fi
  if [ ! -f "$PGDATA/PG_VERSION" ]; then
    [ -d "$PGDATA" ] && rm -rf "$PGDATA"       # a failed initdb's leftovers
    init_cluster
  fi
  write_conf
  case $(pm_state) in
    alive) pg_start restart ;;                                      # ours, but not answering
    stale) # crashed (e.g. SIGKILL): drop the lock files naming the dead/zombie postmaster
           rm -f "$PGDATA/postmaster.pid" "$DIR"/.s.PGSQL.*.lock; pg_start start ;;
    *)     pg_start start ;;
  esac
  ensure_db
  echo "postgres: started on $HOST:$PORT (dir $DIR) in $(elapsed "$t0")s"
  echo "$URL"
}

cmd_restart() {
  if [ -z "$PGBIN" ] || [ "$(pm_state)" != alive ]; then cmd_start; return; fi
  write_conf
  pg_start restart
}

cmd_stop() {
  [ -n "$PGBIN" ] && [ "$(pm_state)" = alive ] || return 0
  local out; out=$(mktemp)
  if ! as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -w -t 60 -s stop -m fast >"$out" 2>&1; then
    cat "$out" >&2; rm -f "$out"; die "pg_ctl stop failed"
  fi
  rm -f "$out"
}

cmd_status() {
  if answering; then echo "postgres: running on $HOST:$PORT (dir $DIR)"; return 0; fi
  echo "postgres: not running on $HOST:$PORT (dir $DIR)"; return 1
}

cmd_clean() {
  cmd_stop
  case "$DIR" in ""|/|"$REPO"|"$HOME") die "refusing to remove '$DIR'";; esac
  rm -rf "$DIR"
}

case "${1:-}" in
  install) cmd_install ;;
  start)   cmd_start ;;
  stop)    cmd_stop ;;
  restart) cmd_restart ;;
  status)  cmd_status ;;
  clean)   cmd_clean ;;
  url)     echo "$URL" ;;
  *) echo "usage: $0 install|start|stop|restart|status|clean|url" >&2; exit 2 ;;
esac

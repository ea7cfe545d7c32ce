#!/usr/bin/env bash
# Local single-node Kafka (KRaft, broker+controller in one JVM) for dev and tests.
# No Kafka distribution needed: the jars come from Maven Central via ./pom.xml.
#
# Usage: deploy/kafka/kafka.sh fetch|start|wait|stop|status|clean
#
# Environment (defaults in brackets):
#   RADAR_KAFKA_DIR              data dir: config, storage, logs, pid [$REPO/.local/kafka]
#   RADAR_KAFKA_PORT             PLAINTEXT listener on 127.0.0.1 [9092]
#   RADAR_KAFKA_CONTROLLER_PORT  CONTROLLER listener on 127.0.0.1 [9093]
#   RADAR_KAFKA_LIBS             jar cache, shared by all brokers [$REPO/.cache/kafka-libs]
#   RADAR_KAFKA_WAIT             seconds `wait` (and `start`) wait for readiness [60]
#   RADAR_KAFKA_HEAP             JVM heap flags [-Xms256m -Xmx512m]
#   RADAR_KAFKA_RETENTION_HOURS  default topic retention, log.retention.hours [168 = 7 days,
#                                Kafka's own default; no size limit]
#   RADAR_KAFKA_NODE_ID          this broker's node.id [1]
#   RADAR_KAFKA_VOTERS           a static controller quorum, id@host:port,... (a cluster:
#                                deploy/cluster/cluster.sh); unset: this node alone (--standalone)
#   RADAR_KAFKA_CLUSTER_ID       the cluster's id, the same on every node [a new one]
#   RADAR_KAFKA_REPLICATION      replication factor of new and internal topics [1]
#   RADAR_KAFKA_MIN_INSYNC       min.insync.replicas of the broker and internal topics [1]
#   RADAR_PYTHON                 python with kafka-python for the readiness probe
#                                [$REPO/.venv/bin/python]; without it the probe falls back to
#                                "TCP port open + 'Kafka Server started' in this run's log"
# Several independent brokers can run at once with distinct DIR/PORT/CONTROLLER_PORT.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
LIBS=${RADAR_KAFKA_LIBS:-$REPO/.cache/kafka-libs}
DIR=${RADAR_KAFKA_DIR:-$REPO/.local/kafka}
PORT=${RADAR_KAFKA_PORT:-9092}
CPORT=${RADAR_KAFKA_CONTROLLER_PORT:-9093}
WAIT_SECS=${RADAR_KAFKA_WAIT:-60}
HEAP=${RADAR_KAFKA_HEAP:--Xms256m -Xmx512m}
RETENTION_HOURS=${RADAR_KAFKA_RETENTION_HOURS:-168}
PY=${RADAR_PYTHON:-$REPO/.venv/bin/python}
NODE_ID=${RADAR_KAFKA_NODE_ID:-1}
VOTERS=${RADAR_KAFKA_VOTERS:-}
CLUSTER_ID=${RADAR_KAFKA_CLUSTER_ID:-}
REPLICATION=${RADAR_KAFKA_REPLICATION:-1}
MIN_INSYNC=${RADAR_KAFKA_MIN_INSYNC:-1}
HOST=127.0.0.1
if [ -n "$VOTERS" ]; then
  QUORUM="controller.quorum.voters=$VOTERS"
else
  QUORUM="controller.quorum.bootstrap.servers=$HOST:$CPORT"
fi
CONF=$DIR/server.properties
DATA=$DIR/data
LOGS=$DIR/logs
PIDFILE=$DIR/kafka.pid
LOG4J=$HERE/log4j2.properties

die() { echo "kafka.sh: error: $*" >&2; exit 1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# ---- prerequisites -------------------------------------------------------
ensure_tools() {
  if command -v java >/dev/null && command -v mvn >/dev/null; then return; fi
  [ "$(id -u)" = 0 ] || die "java and mvn are required (apt-get install default-jdk-headless maven)"
  echo "kafka.sh: installing JDK and Maven via apt-get" >&2
  apt-get update -qq >/dev/null || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jdk-headless maven >/dev/null \
    || die "apt-get install default-jdk-headless maven failed"
}

# ---- fetch: copy the broker's jars into $LIBS (once per pom.xml checksum) ---
libs_ok() {
  local sum; sum=$(sha256sum "$HERE/pom.xml" | cut -d' ' -f1)
  [ -f "$LIBS/.complete" ] && [ "$(cat "$LIBS/.complete")" = "$sum" ]
}

cmd_fetch() {
  libs_ok && return 0
  ensure_tools
  mkdir -p "$(dirname "$LIBS")"
  exec 9>"$LIBS.lock"
  flock 9                       # several brokers may start at once
  if ! libs_ok; then
    local sum tmp out
    sum=$(sha256sum "$HERE/pom.xml" | cut -d' ' -f1)
    tmp=$LIBS.tmp.$$
    out=$(mktemp)
    rm -rf "$tmp"
    if ! mvn -q -B -f "$HERE/pom.xml" dependency:copy-dependencies \
        -DoutputDirectory="$tmp" >"$out" 2>&1; then
      cat "$out" >&2; rm -rf "$tmp" "$out"
      die "mvn dependency:copy-dependencies failed (see output above)"
    fi
    rm -f "$out"
    compgen -G "$tmp/kafka_2.13-*.jar" >/dev/null || { rm -rf "$tmp"; die "no kafka jar in $tmp"; }
    rm -rf "$LIBS"
    mv "$tmp" "$LIBS"
    echo "$sum" >"$LIBS/.complete"
  fi
  exec 9>&-
}

# ---- process / readiness helpers -------------------------------------------
# pid of the broker that serves $DIR, or nothing (validates the pid file's cmdline).
broker_pid() {
  local pid="" p
  [ -f "$PIDFILE" ] && pid=$(cat "$PIDFILE" 2>/dev/null || true)
  if [ -n "$pid" ] && tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF "kafka.Kafka $CONF"; then
    echo "$pid"; return
  fi
  for p in /proc/[0-9]*; do   # pid file lost: look for our exact command line
    if tr '\0' ' ' 2>/dev/null <"$p/cmdline" | grep -qF "kafka.Kafka $CONF"; then
      echo "${p#/proc/}"; return
    fi
  done
}

# Alive and not a zombie (PID 1 in some sandboxes reaps orphans only after a delay).
alive() {
  local st
  st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
  [ -n "$st" ] && [ "$st" != Z ]
}

port_open() { timeout 2 bash -c ">/dev/tcp/$HOST/$1" 2>/dev/null; }

PY_OK=""
have_py() {
  if [ -z "$PY_OK" ]; then
    if [ -x "$PY" ] && "$PY" -c 'import kafka' 2>/dev/null; then PY_OK=yes; else PY_OK=no; fi
  fi
  [ "$PY_OK" = yes ]
}

# One readiness probe: does a broker answer a metadata request on $PORT?
probe() {
  port_open "$PORT" || return 1
  if have_py; then
    local err=/dev/null
    [ -d "$LOGS" ] && err=$LOGS/probe.err
    timeout 15 "$PY" - "$HOST:$PORT" >/dev/null 2>"$err" <<'EOF'
import logging, sys
logging.disable(logging.CRITICAL)
from kafka import KafkaAdminClient
from kafka.errors import KafkaConfigurationError
kw = dict(bootstrap_servers=sys.argv[1], client_id="radar-kafka-probe", request_timeout_ms=5000)
try:
    admin = KafkaAdminClient(bootstrap_timeout_ms=3000, **kw)          # kafka-python >= 3
except KafkaConfigurationError:
    admin = KafkaAdminClient(api_version_auto_timeout_ms=3000, **kw)   # kafka-python 2.x
try:
    admin.list_topics()
finally:
    admin.close()
EOF
  else
    [ -n "$(broker_pid)" ] && grep -q "Kafka Server started" "$LOGS/server.log" 2>/dev/null
  fi
}

log_tail() {
  echo "---- last 50 lines of $LOGS/server.log ----" >&2
  tail -n 50 "$LOGS/server.log" >&2 2>/dev/null || echo "(no log)" >&2
  if [ -s "$LOGS/kafka.out" ]; then
    echo "---- last 20 lines of $LOGS/kafka.out ----" >&2
    tail -n 20 "$LOGS/kafka.out" >&2
  fi
  if [ -s "$LOGS/probe.err" ]; then
    echo "---- last readiness probe ($PY) ----" >&2
    tail -n 5 "$LOGS/probe.err" >&2
  fi
}

cmd_wait() {
  local deadline=$(( $(date +%s) + WAIT_SECS )) had_pid
  [ -n "$(broker_pid)" ] && had_pid=1 || had_pid=0
  until probe; do
    if [ "$had_pid" = 1 ] && [ -z "$(broker_pid)" ]; then
      log_tail; die "broker for $DIR exited during startup"
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      log_tail; die "broker on $HOST:$PORT not ready after ${WAIT_SECS}s"
    fi
    sleep 0.5
  done
}

# ---- start -------------------------------------------------------------------
write_config() {
  cat >"$CONF.tmp" <<EOF
# Generated by deploy/kafka/kafka.sh; edits are overwritten on every start.
process.roles=broker,controller
node.id=$NODE_ID
# One node: a dynamic quorum formatted with --standalone (this node the sole voter). A
# cluster: a static quorum of three controllers (RADAR_KAFKA_VOTERS), which survives the loss
# of any one of them.
$QUORUM
controller.listener.names=CONTROLLER
listeners=PLAINTEXT://$HOST:$PORT,CONTROLLER://$HOST:$CPORT
advertised.listeners=PLAINTEXT://$HOST:$PORT
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$DATA
num.partitions=6
auto.create.topics.enable=false
# One node: every internal topic and min ISR 1. A cluster: 3 copies, 2 in sync for a write
# (acks=all), and an out-of-sync copy never elected leader (it would drop acknowledged records).
default.replication.factor=$REPLICATION
min.insync.replicas=$MIN_INSYNC
offsets.topic.replication.factor=$REPLICATION
transaction.state.log.replication.factor=$REPLICATION
transaction.state.log.min.isr=$MIN_INSYNC
share.coordinator.state.topic.replication.factor=$REPLICATION
share.coordinator.state.topic.min.isr=$MIN_INSYNC
unclean.leader.election.enable=false
group.initial.rebalance.delay.ms=0
# Default topic retention: ${RETENTION_HOURS}h (RADAR_KAFKA_RETENTION_HOURS, default 168 = 7 days,
# Kafka's default), no size limit. Topics may override with retention.ms.
log.retention.hours=$RETENTION_HOURS
log.retention.bytes=-1
num.recovery.threads.per.data.dir=1
# After a SIGKILL the restarted broker can only re-register once its old session expires
# (default 9 s); shorter values make crash/restart tests faster (~5 s instead of ~13 s).
broker.heartbeat.interval.ms=1000
broker.session.timeout.ms=4000
EOF
  mv "$CONF.tmp" "$CONF"
}

# Command line shared by every Kafka JVM (StorageTool and the broker).
read -r -a HEAP_ARGS <<<"$HEAP"
JAVA=(java "${HEAP_ARGS[@]}" -XX:+UseG1GC -Djava.awt.headless=true
      -Dlog4j2.configurationFile="$LOG4J" -Dkafka.logs.dir="$LOGS" -cp "$LIBS/*")

cmd_start() {
  local t0; t0=$(now)
  cmd_fetch
  if probe; then
    echo "kafka: already running on $HOST:$PORT (dir $DIR)"; return 0
  fi
  if [ -z "$(broker_pid)" ]; then
    for p in "$PORT" "$CPORT"; do
      port_open "$p" && die "port $HOST:$p is in use by another process (not a broker for $DIR)"
    done
    mkdir -p "$DATA" "$LOGS"
    # A formatted storage pins the controller endpoint: refuse a silent mismatch.
    if [ -f "$DATA/meta.properties" ] && [ -f "$CONF" ] && ! grep -qxF "$QUORUM" "$CONF"; then
      die "$DIR was formatted with another controller quorum ($(grep '^controller.quorum' "$CONF")); use that or run '$0 clean'"
    fi
    write_config
    if [ ! -f "$DATA/meta.properties" ]; then
      local uuid out
      rm -rf "$DATA"; mkdir -p "$DATA"      # never formatted: any leftover is garbage
      uuid=$CLUSTER_ID
      if [ -z "$uuid" ]; then
        uuid=$("${JAVA[@]}" kafka.tools.StorageTool random-uuid 2>"$LOGS/format.log") \
          || { cat "$LOGS/format.log" >&2; die "StorageTool random-uuid failed"; }
      fi
      local quorum_flag=(--standalone)
      [ -n "$VOTERS" ] && quorum_flag=()   # a static quorum: the voters are in the config
      if ! "${JAVA[@]}" kafka.tools.StorageTool format "${quorum_flag[@]}" -t "$uuid" -c "$CONF" \
           >>"$LOGS/format.log" 2>&1; then
        cat "$LOGS/format.log" >&2; die "StorageTool format failed"
      fi
    fi
    [ -f "$LOGS/server.log" ] && mv -f "$LOGS/server.log" "$LOGS/server.log.prev"
    rm -f "$PIDFILE"
    # New session (setsid) so the broker outlives this script and its terminal; the
    # child writes its own pid, closes inherited descriptors (lock, callers' pipes), then execs java.
    # shellcheck disable=SC2016
    nohup setsid bash -c '
      for fd in /proc/$$/fd/*; do fd=${fd##*/}; [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done 2>/dev/null
      echo $$ >"$0"; exec "$@"' "$PIDFILE" "${JAVA[@]}" kafka.Kafka "$CONF" \
      </dev/null >"$LOGS/kafka.out" 2>&1 &

    for _ in $(seq 50); do [ -s "$PIDFILE" ] && break; sleep 0.1; done
  fi
  cmd_wait
  echo "kafka: started on $HOST:$PORT (controller $CPORT, dir $DIR) in $(elapsed "$t0")s"
}

# ---- stop / status / clean ---------------------------------------------------
cmd_stop() {
  local pid
  pid=$(broker_pid)
  if [ -z "$pid" ]; then rm -f "$PIDFILE"; return 0; fi
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 300); do
    alive "$pid" || break
    sleep 0.1
  done
  if alive "$pid"; then
    echo "kafka.sh: broker $pid did not stop within 30s, sending SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
    for _ in $(seq 50); do alive "$pid" || break; sleep 0.1; done
  fi
  rm -f "$PIDFILE"
}

cmd_status() {
  if probe; then echo "kafka: running on $HOST:$PORT (dir $DIR)"; return 0; fi
  echo "kafka: not running on $HOST:$PORT (dir $DIR)"; return 1
}

cmd_clean() {
  cmd_stop
  case "$DIR" in ""|/|"$REPO"|"$HOME") die "refusing to remove '$DIR'";; esac
  rm -rf "$DIR"
}

case "${1:-}" in
  fetch)  cmd_fetch ;;
  start)  cmd_start ;;
  wait)   cmd_wait ;;
  stop)   cmd_stop ;;
  status) cmd_status ;;
  clean)  cmd_clean ;;
  *) echo "usage: $0 fetch|start|wait|stop|status|clean" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# The radar's cluster shape on one machine: three Kafka brokers in KRaft mode (each a broker
# and one of three controllers: a quorum that survives the loss of any one), from the same
# Maven Central jars as deploy/kafka/kafka.sh, and HAProxy (Debian's package) in front of the
# ingest and query processes, health-checked on /health/ready.
#
# Usage: deploy/cluster/cluster.sh start|stop|status|clean|bootstrap|proxy-start|proxy-stop
#        deploy/cluster/cluster.sh broker N start|stop|kill|status|pid
#   start        the three brokers (and waits until all three answer)
#   proxy-start  HAProxy (its config written to $RADAR_CLUSTER_DIR/haproxy.cfg), ports below
#   bootstrap    prints the brokers' list for RADAR_KAFKA_BOOTSTRAP
#   broker N     one broker (1-3): stop (SIGTERM), kill (SIGKILL), start again, its pid
#
# Environment (defaults in brackets):
#   RADAR_CLUSTER_DIR          brokers' data, proxy config and pid [$REPO/.local/cluster]
#   RADAR_CLUSTER_PORTS        the brokers' client ports; controller = port + 1
#                              ["29092 29094 29096"]
#   RADAR_PROXY_INGEST_PORT    where publishers connect [8081]
#   RADAR_PROXY_QUERY_PORT     where analysts connect [8082]
#   RADAR_PROXY_STATS_PORT     HAProxy's own statistics page, /stats [8404]
#   RADAR_CLUSTER_INGEST_PORTS the ingest processes behind the proxy ["18081 18091"]
#   RADAR_CLUSTER_QUERY_PORTS  the query processes behind the proxy ["18082 18092"]
#   RADAR_MAX_BODY_BYTES       the proxy refuses larger bodies with 413 [2097152, as ingest]
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
KAFKA=$REPO/deploy/kafka/kafka.sh
DIR=${RADAR_CLUSTER_DIR:-$REPO/.local/cluster}
read -r -a PORTS <<<"${RADAR_CLUSTER_PORTS:-29092 29094 29096}"
HOST=127.0.0.1
PROXY_PID=$DIR/haproxy.pid
PROXY_CONF=$DIR/haproxy.cfg

die() { echo "cluster.sh: error: $*" >&2; exit 1; }
[ "${#PORTS[@]}" = 3 ] || die "RADAR_CLUSTER_PORTS must name three ports"

voters() {
  local n=1 port list=""
  for port in "${PORTS[@]}"; do
    list+="${list:+,}$n@$HOST:$((port + 1))"; n=$((n + 1))
  done
  echo "$list"
}

bootstrap() {
  local port list=""
  for port in "${PORTS[@]}"; do list+="${list:+,}$HOST:$port"; done
  echo "$list"
}

# The cluster's id, made once and kept: every node's storage is formatted with it.
cluster_id() {
  mkdir -p "$DIR"
  if [ ! -s "$DIR/cluster.id" ]; then
    "$KAFKA" fetch
    java -cp "$REPO/.cache/kafka-libs/*" kafka.tools.StorageTool random-uuid >"$DIR/cluster.id"
  fi
  cat "$DIR/cluster.id"
}

# Runs deploy/kafka/kafka.sh for node N (1-3) with its own directory and ports.
node() {
  local n=$1; shift
  local port=${PORTS[$((n - 1))]}
  RADAR_KAFKA_DIR=$DIR/broker-$n RADAR_KAFKA_PORT=$port RADAR_KAFKA_CONTROLLER_PORT=$((port + 1)) \
    RADAR_KAFKA_NODE_ID=$n RADAR_KAFKA_VOTERS=$(voters) RADAR_KAFKA_CLUSTER_ID=$(cluster_id) \
    RADAR_KAFKA_REPLICATION=3 RADAR_KAFKA_MIN_INSYNC=2 RADAR_KAFKA_WAIT=${RADAR_KAFKA_WAIT:-120} \
    "$KAFKA" "$@"
}

node_pid() { cat "$DIR/broker-$1/kafka.pid" 2>/dev/null || true; }

cmd_start() {
  "$KAFKA" fetch
  cluster_id >/dev/null
  # All three at once: a node answers only once a majority of the controllers has formed.
  local pids=() n failed=0
  for n in 1 2 3; do node "$n" start & pids+=($!); done
  for n in "${!pids[@]}"; do wait "${pids[$n]}" || failed=1; done
  [ "$failed" = 0 ] || die "a broker did not start (see the lines above)"
  echo "cluster: three brokers on $(bootstrap) (controllers $(voters))"
}

cmd_stop() {
  proxy_stop
  local n
  for n in 1 2 3; do node "$n" stop & done
  wait
}

cmd_status() {
  local n rc=0
  for n in 1 2 3; do node "$n" status || rc=1; done
  if [ -n "$(proxy_pid)" ]; then echo "haproxy: running (pid $(proxy_pid))"; else echo "haproxy: not running"; fi
  return "$rc"
}

cmd_clean() {
  cmd_stop
  case "$DIR" in ""|/|"$REPO"|"$HOME") die "refusing to remove '$DIR'";; esac
  rm -rf "$DIR"
}

# ---- the proxy ---------------------------------------------------------------------------
ensure_haproxy() {
  command -v haproxy >/dev/null && return
  [ -x /usr/sbin/haproxy ] && return
  [ "$(id -u)" = 0 ] || die "haproxy is required (apt-get install haproxy)"
  echo "cluster.sh: installing HAProxy via apt-get" >&2
  apt-get update -qq >/dev/null || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy >/dev/null \
    || die "apt-get install haproxy failed"
}

haproxy_bin() { command -v haproxy || echo /usr/sbin/haproxy; }

servers() {  # servers NAME "PORT PORT ...": one HAProxy server line per process
  local name=$1 port n=1
  for port in $2; do
    printf '    server %s-%d %s:%d check\n' "$name" "$n" "$HOST" "$port"; n=$((n + 1))
  done
}

# HAProxy's configuration: one frontend each for ingest and query, least connections over the
# processes whose /health/ready answers 200 (a process not ready, or an ingest whose signals
# topic is below its minimum of copies in sync, gets no traffic), with the proxy's own limits.
write_proxy_config() {
  cat <<EOF
# Generated by deploy/cluster/cluster.sh; edits are overwritten on every proxy-start.
global
    maxconn 4096
    pidfile $PROXY_PID

defaults
    mode http
    # No request log: URLs carry household pseudonyms; the radar logs its own requests, masked.
    timeout connect 2s
    # A slow client (slowloris) gets 10 s to send its request headers.
    timeout http-request 10s
    timeout client 30s
    timeout server 30s
    timeout queue 5s
    # A connection refused by a process just killed goes to another: the request never
    # reached it. (A request a process took and then died on is the client's to send again:
    # the ingest receipts keep a signal sent twice once.)
    retries 3
    option redispatch 1
    retry-on conn-failure empty-response
    default-server inter 1s fall 2 rise 2 maxconn 256

frontend ingest
    bind $HOST:${RADAR_PROXY_INGEST_PORT:-8081}
    http-request deny deny_status 413 if { req.hdr_val(content-length) gt ${RADAR_MAX_BODY_BYTES:-2097152} }
    default_backend ingest

frontend query
    bind $HOST:${RADAR_PROXY_QUERY_PORT:-8082}
    http-request deny deny_status 413 if { req.hdr_val(content-length) gt 65536 }
    default_backend query

backend ingest
    balance leastconn
    option httpchk GET /health/ready
    http-check expect status 200
$1

backend query
    balance leastconn
    option httpchk GET /health/ready
    http-check expect status 200
$2

listen stats
    bind $HOST:${RADAR_PROXY_STATS_PORT:-8404}
    stats enable
    stats uri /stats
    stats refresh 5s
EOF
}

proxy_pid() {
  local pid
  pid=$(cat "$PROXY_PID" 2>/dev/null || true)
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
  return 0
}

proxy_start() {
  ensure_haproxy
  mkdir -p "$DIR"
  [ -n "$(proxy_pid)" ] && { echo "haproxy: already running (pid $(proxy_pid))"; return 0; }
  local ingest query
  ingest=$(servers ingest "${RADAR_CLUSTER_INGEST_PORTS:-18081 18091}")
  query=$(servers query "${RADAR_CLUSTER_QUERY_PORTS:-18082 18092}")
  write_proxy_config "$ingest" "$query" >"$PROXY_CONF.tmp"
  mv "$PROXY_CONF.tmp" "$PROXY_CONF"
  "$(haproxy_bin)" -c -q -f "$PROXY_CONF" || die "haproxy refused $PROXY_CONF"
  "$(haproxy_bin)" -D -f "$PROXY_CONF" -p "$PROXY_PID"
  echo "haproxy: ingest on $HOST:${RADAR_PROXY_INGEST_PORT:-8081}, query on $HOST:${RADAR_PROXY_QUERY_PORT:-8082} (stats :${RADAR_PROXY_STATS_PORT:-8404}/stats)"
}

proxy_stop() {
  local pid
  pid=$(proxy_pid)
  [ -n "$pid" ] || { rm -f "$PROXY_PID"; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  rm -f "$PROXY_PID"
}

cmd_broker() {
  local n=${1:-} action=${2:-}
  case "$n" in 1|2|3) ;; *) die "broker N: N is 1, 2 or 3";; esac
  case "$action" in
    start|stop|status) node "$n" "$action" ;;
    kill) local pid; pid=$(node_pid "$n"); [ -n "$pid" ] && kill -KILL "$pid"; rm -f "$DIR/broker-$n/kafka.pid" ;;
    pid) node_pid "$n" ;;
    *) die "broker N start|stop|kill|status|pid" ;;
  esac
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  clean) cmd_clean ;;
  bootstrap) bootstrap ;;
  proxy-start) proxy_start ;;
  proxy-stop) proxy_stop ;;
  broker) shift; cmd_broker "$@" ;;
  *) echo "usage: $0 start|stop|status|clean|bootstrap|proxy-start|proxy-stop|broker N ..." >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# Runs a real single-node Apache Kafka broker (KRaft combined mode) on this machine, without Docker.
#
#   infra/kafka/kafka.sh start    fetch the broker jars (once), format storage (once), start, wait until it answers
#   infra/kafka/kafka.sh stop     stop the broker this script started (SIGTERM, then SIGKILL after 30 s)
#   infra/kafka/kafka.sh status   exit 0 when a broker answers at KAFKA_BROKERS
#   infra/kafka/kafka.sh fetch    only fetch the jars into the cache
#
# Environment (all optional):
#   KAFKA_BROKERS    host:port the broker listens on and clients use     (default 127.0.0.1:9092)
#   KAFKA_CONTROLLER_PORT  KRaft controller port                         (default: broker port + 1)
#   KAFKA_DATA_DIR   where the log and pid live; it is the event log, keep it (default ~/.local/share/csms/kafka)
#   KAFKA_CACHE_DIR  where the broker jars are cached, outside the work tree  (default ~/.cache/csms)
#   KAFKA_HEAP_OPTS  JVM heap                                             (default -Xms256m -Xmx512m)
#   KAFKA_START_TIMEOUT seconds to wait for the broker to answer          (default 90)
#
# If a broker already answers at KAFKA_BROKERS, `start` starts nothing. See docs/adr/0002-kafka-without-docker.md.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
kafka_version="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/pom.xml")"
brokers="${KAFKA_BROKERS:-127.0.0.1:9092}"
first="${brokers%%,*}"
host="${first%:*}"
port="${first##*:}"
controller_port="${KAFKA_CONTROLLER_PORT:-$((port + 1))}"
data_dir="${KAFKA_DATA_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/csms/kafka}"
cache_dir="${KAFKA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/csms}"
libs="$cache_dir/kafka-$kafka_version/libs"
heap="${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}"
timeout="${KAFKA_START_TIMEOUT:-90}"
pid_file="$data_dir/broker.pid"
log_file="$data_dir/broker.log"

say() { echo "kafka.sh: $*" >&2; }

answers() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

fetch() {
  if [ -f "$libs/.complete" ]; then return 0; fi
  command -v mvn >/dev/null || { say "mvn is not installed (apt-get install maven)"; exit 1; }
  say "fetching Apache Kafka $kafka_version broker jars from Maven Central into $libs"
  local tmp="$libs.tmp.$$"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  mvn -q -B -f "$here/pom.xml" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp" >&2
  # the broker's transitive slf4j-api 1.7 would shadow the 2.x binding: keep only the newest
  find "$tmp" -name 'slf4j-api-1.*.jar' -delete
  rm -rf "$libs"
  mv "$tmp" "$libs"
  touch "$libs/.complete"
}

java_cp() { java $heap -cp "$libs/*" -Dlog4j2.configurationFile="$here/log4j2.properties" "$@"; }

format() {
  mkdir -p "$data_dir"
  sed -e "s|@HOST@|$host|g" -e "s|@PORT@|$port|g" -e "s|@CONTROLLER_PORT@|$controller_port|g" \
      -e "s|@DATA_DIR@|$data_dir|g" "$here/server.properties.template" > "$data_dir/server.properties"
  if [ ! -f "$data_dir/log/meta.properties" ]; then
    local cluster_id
    cluster_id="$(java_cp kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)"
    say "formatting storage in $data_dir/log (cluster $cluster_id)"
    java_cp kafka.tools.StorageTool format --standalone -t "$cluster_id" -c "$data_dir/server.properties" >/dev/null
  fi
}

start() {
  if answers "$host" "$port"; then
    say "a broker already answers at $host:$port; starting nothing"
    return 0
  fi
  fetch
  format
  say "starting Kafka $kafka_version on $host:$port (data: $data_dir)"
  # setsid: the broker outlives this script and is not hit by the caller's Ctrl-C
  setsid nohup bash -c "exec java $heap -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile='$here/log4j2.properties' -cp '$libs/*' kafka.Kafka '$data_dir/server.properties'" \
    >"$log_file" 2>&1 < /dev/null &
  echo $! > "$pid_file"
  local waited=0
  until answers "$host" "$port" && grep -q 'Kafka Server started' "$log_file"; do
    if ! kill -0 "$(cat "$pid_file")" 2>/dev/null; then
      say "the broker exited during start-up; last lines of $log_file:"
      tail -n 30 "$log_file" >&2
      exit 1
    fi
    if [ "$waited" -ge "$((timeout * 5))" ]; then
      say "the broker did not answer within ${timeout}s; see $log_file"
      exit 1
    fi
    sleep 0.2
    waited=$((waited + 1))
  done
  say "broker up at $host:$port (pid $(cat "$pid_file"))"
}

stop() {
  if [ ! -f "$pid_file" ]; then say "no broker started from $data_dir"; return 0; fi
  local pid
  pid="$(cat "$pid_file")"
  if kill -0 "$pid" 2>/dev/null; then
    say "stopping broker (pid $pid)"
    kill -TERM "$pid"
    for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then say "broker did not stop in 30 s; killing"; kill -KILL "$pid"; fi
  fi
  rm -f "$pid_file"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) answers "$host" "$port" ;;
  fetch) fetch ;;
  *) echo "usage: $0 start|stop|status|fetch" >&2; exit 2 ;;
esac

# shellcheck shell=bash
# Variables here are read by start.sh and stop.sh, which also set $here.
# shellcheck disable=SC2034,SC2154
# Settings and helpers shared by start.sh and stop.sh; sourced, not run.
# See start.sh for what each variable means.

port="${KAFKA_PORT:-19092}"
controller_port="${KAFKA_CONTROLLER_PORT:-$((port + 1))}"
sasl_port="${KAFKA_SASL_PORT:-}"
sasl_user="${KAFKA_SASL_TEST_USER:-crawler}"
sasl_password="${KAFKA_SASL_TEST_PASSWORD:-crawler-secret}"
workdir="${KAFKA_WORKDIR:-${TMPDIR:-/tmp}/confluence-kafka-$port}"
heap_opts="${KAFKA_HEAP_OPTS:--Xmx512m -Xms256m}"
ready_timeout="${KAFKA_READY_TIMEOUT:-120s}"
java="${JAVA:-java}"

libs="$workdir/libs"
pidfile="$workdir/broker.pid"

# running_pid prints the pid from the pid file and succeeds only if that
# process is alive and is the broker started with this work dir's config, so
# a recycled pid never gets reused or killed.
running_pid() {
  local pid
  [[ -r "$pidfile" ]] || return 1
  pid="$(<"$pidfile")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [[ -r "/proc/$pid/cmdline" ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF "kafka.Kafka $workdir/server.properties" || return 1
  echo "$pid"
}

# kafka_version prints the Kafka version pinned in pom.xml.
kafka_version() {
  sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/pom.xml"
}

#!/usr/bin/env bash
# Stop the broker that .ci/kafka/start.sh started for the same KAFKA_PORT or
# KAFKA_WORKDIR. Only the pid in that work dir's pid file is signalled, and
# only if it is still that broker: SIGTERM, then SIGKILL after
# KAFKA_STOP_TIMEOUT seconds (default 30). Does nothing if no broker runs.
#
# Usage:
#   .ci/kafka/stop.sh            # stop, keep data and logs for a look
#   .ci/kafka/stop.sh --clean    # stop and delete the work dir
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=env.sh source-path=SCRIPTDIR
source "$here/env.sh"

log() { printf 'kafka: %s\n' "$*" >&2; }

# wait_exit polls once a second until pid is gone or the time is up.
wait_exit() {
  local pid=$1 left=$2
  while kill -0 "$pid" 2>/dev/null; do
    ((left-- > 0)) || return 1
    sleep 1
  done
}

stop() {
  local pid
  if ! pid="$(running_pid)"; then
    log "no broker running for $workdir"
    rm -f "$pidfile"
    return 0
  fi

  log "stopping broker pid $pid"
  kill -TERM "$pid" 2>/dev/null || true
  if ! wait_exit "$pid" "${KAFKA_STOP_TIMEOUT:-30}"; then
    log "broker pid $pid ignored SIGTERM; killing it"
    kill -KILL "$pid" 2>/dev/null || true
    wait_exit "$pid" 5 || log "broker pid $pid still alive"
  fi
  rm -f "$pidfile"
}

stop
# Delete only a folder that start.sh laid out, whatever KAFKA_WORKDIR says.
if [[ "${1:-}" == "--clean" && -f "$workdir/server.properties" ]]; then
  rm -rf "$workdir"
fi

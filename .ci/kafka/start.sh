#!/usr/bin/env bash
# Start a real single-node Apache Kafka broker (KRaft, broker and controller
# in one JVM) on 127.0.0.1, for integration tests and for poking at by hand.
#
# Usage, from anywhere in the repository:
#   .ci/kafka/start.sh                    # broker on 127.0.0.1:19092
#   KAFKA_BROKERS=127.0.0.1:19092 go test -race -tags integration ./...
#   .ci/kafka/stop.sh                     # stop it (give it the same env)
#
# Environment (all optional):
#   KAFKA_PORT             client PLAINTEXT port (default 19092)
#   KAFKA_SASL_PORT        if set, a second client listener on this port that
#                          requires SASL (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512)
#                          over plaintext; the PLAINTEXT listener stays as is
#   KAFKA_SASL_TEST_USER   SASL user created at format time (default crawler)
#   KAFKA_SASL_TEST_PASSWORD its password (default crawler-secret); a test secret
#                          for a loopback broker, never a real one
#   KAFKA_CONTROLLER_PORT  KRaft controller port (default KAFKA_PORT+1)
#   KAFKA_WORKDIR          config, data, logs and pid file
#                          (default ${TMPDIR:-/tmp}/confluence-kafka-$KAFKA_PORT)
#   KAFKA_HEAP_OPTS        JVM heap (default -Xmx512m -Xms256m)
#   KAFKA_READY_TIMEOUT    how long to wait for the broker (default 120s)
#   JAVA                   java binary, 17 or newer (default: java on PATH)
#
# Needs Java 17+, Maven and Go. The Kafka jars (version pinned in pom.xml)
# come from Maven Central once and then stay in ~/.m2.
#
# Safe to run twice: if the broker this script started for the same
# KAFKA_WORKDIR is alive and answers, it says so and exits 0. Otherwise it
# removes a stale pid file, wipes its own data dir, formats fresh storage with
# a random cluster id and starts the broker detached from this shell. It
# prints the seed address on the last line of stdout and exits non-zero if
# the broker does not become ready; the broker log is then in
# $KAFKA_WORKDIR/logs/server.log.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
# shellcheck source=env.sh source-path=SCRIPTDIR
source "$here/env.sh"

log() { printf 'kafka: %s\n' "$*" >&2; }

# resolve_jars copies the broker's runtime jars into $libs, fresh each time so
# that a version change in pom.xml never leaves old jars on the classpath.
resolve_jars() {
  rm -rf "$libs"
  mvn -q -B -f "$here/pom.xml" dependency:copy-dependencies \
    -Dkafka.libs="$libs" >"$workdir/logs/maven.log" 2>&1 || {
    cat "$workdir/logs/maven.log" >&2
    return 1
  }
}

build_waiter() {
  (cd "$repo" && go build -o "$workdir/bin/kafkawait" ./internal/kafkatest/cmd/kafkawait)
}

write_config() {
  local listeners="PLAINTEXT://127.0.0.1:$port" protocols="PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"
  if [[ -n "$sasl_port" ]]; then
    listeners+=",SASL://127.0.0.1:$sasl_port"
    protocols+=",SASL:SASL_PLAINTEXT"
  fi
  cat >"$workdir/server.properties" <<EOF
process.roles=broker,controller
node.id=1
listeners=$listeners,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=$listeners
listener.security.protocol.map=$protocols
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
controller.quorum.bootstrap.servers=127.0.0.1:$controller_port
log.dirs=$workdir/data

num.partitions=1
default.replication.factor=1
min.insync.replicas=1
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
group.initial.rebalance.delay.ms=0

# 1 MiB is the smallest segment Kafka 4 accepts; small segments let the
# cleaner compact test topics after little data.
log.segment.bytes=1048576
log.cleaner.backoff.ms=1000
EOF
  if [[ -n "$sasl_port" ]]; then
    write_sasl_config
  fi

  cat >"$workdir/log4j2.properties" <<'EOF'
status = warn
appender.out.type = Console
appender.out.name = out
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.out.ref = out
logger.cleaner.name = kafka.log.LogCleaner
logger.cleaner.level = info
EOF
}

# write_sasl_config enables the SASL listener's mechanisms. PLAIN users live
# in the JAAS line; SCRAM users are created by format_storage (--add-scram),
# so the SCRAM login modules need no user list.
write_sasl_config() {
  cat >>"$workdir/server.properties" <<EOF

sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512
listener.name.sasl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_$sasl_user="$sasl_password";
listener.name.sasl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
EOF
}

# jvm prints the java command line shared by the storage tool and the broker,
# one word per line, for use with mapfile.
jvm() {
  local opt
  printf '%s\n' "$java"
  for opt in $heap_opts; do printf '%s\n' "$opt"; done
  printf '%s\n' -XX:+UseG1GC -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
    "-Dlog4j2.configurationFile=$workdir/log4j2.properties" -cp "$libs/*"
}

java_cmd() {
  local cmd
  mapfile -t cmd < <(jvm)
  "${cmd[@]}" "$@"
}

format_storage() {
  local cluster_id out="$workdir/logs/format.log"
  # The tool's own log lines share stdout with the id: keep the last line
  # and check it has the shape of a Kafka uuid (22 base64url characters).
  java_cmd kafka.tools.StorageTool random-uuid >"$out" 2>&1 || {
    cat "$out" >&2
    return 1
  }
  cluster_id="$(tail -n 1 "$out")"
  if [[ ! "$cluster_id" =~ ^[A-Za-z0-9_-]{22}$ ]]; then
    log "StorageTool random-uuid printed '$cluster_id', want a 22-character id"
    return 1
  fi

  local scram=()
  if [[ -n "$sasl_port" ]]; then
    scram=(--add-scram "SCRAM-SHA-256=[name=$sasl_user,password=$sasl_password]"
      --add-scram "SCRAM-SHA-512=[name=$sasl_user,password=$sasl_password]")
  fi
  java_cmd kafka.tools.StorageTool format --standalone \
    -t "$cluster_id" -c "$workdir/server.properties" "${scram[@]}" >"$out" 2>&1 || {
    cat "$out" >&2
    return 1
  }
  log "formatted $workdir/data, cluster id $cluster_id"
}

port_taken() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

wait_ready() {
  "$workdir/bin/kafkawait" -brokers "127.0.0.1:$port" \
    -timeout "$ready_timeout" -pid "$1" || {
    log "broker not ready; last lines of $workdir/logs/server.log:"
    tail -n 40 "$workdir/logs/server.log" >&2 || true
    return 1
  }
}

main() {
  mkdir -p "$workdir/logs" "$workdir/bin"
  build_waiter

  local pid
  if pid="$(running_pid)"; then
    log "already running as pid $pid"
    wait_ready "$pid"
    echo "127.0.0.1:$port"
    return 0
  fi
  rm -f "$pidfile"

  for p in "$port" "$controller_port" $sasl_port; do
    if port_taken "$p"; then
      log "127.0.0.1:$p is in use by a process this script did not start"
      return 1
    fi
  done

  local started=$SECONDS
  resolve_jars
  log "kafka $(kafka_version) jars in $libs ($((SECONDS - started))s)"

  rm -rf "$workdir/data"
  write_config
  format_storage

  started=$SECONDS
  start_broker
  log "broker pid $(cat "$pidfile") starting, log in $workdir/logs/server.log"
  wait_ready "$(cat "$pidfile")"
  log "broker ready on 127.0.0.1:$port after $((SECONDS - started))s"
  echo "127.0.0.1:$port"
}

# start_broker runs the JVM in its own session, so the broker outlives this
# script and a Ctrl-C in the developer's terminal does not reach it. The
# shell has no job control here, so setsid execs in place and $! is the
# JVM's own pid.
start_broker() {
  local cmd
  mapfile -t cmd < <(jvm)
  setsid "${cmd[@]}" kafka.Kafka "$workdir/server.properties" \
    >"$workdir/logs/server.log" 2>&1 </dev/null &
  echo "$!" >"$pidfile"
}

main "$@"

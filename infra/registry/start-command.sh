#!/usr/bin/env bash
# Launch Apicurio Registry 3.x (Confluent-compatible API at /apis/ccompat/v7) in the foreground.
#
#   start-command.sh PORT DATA_DIR BOOTSTRAP [CACHE_DIR]
#
#   PORT       HTTP port on 127.0.0.1 (Confluent clients: http://127.0.0.1:PORT/apis/ccompat/v7)
#   DATA_DIR   scratch/persistent dir (created). kafkasql: snapshot + import work dir.
#              sql fallback: H2 database files live here (DATA_DIR/h2/registry.mv.db).
#   BOOTSTRAP  Kafka bootstrap servers (e.g. 127.0.0.1:9092) -> kafkasql storage: schemas are
#              kept in Kafka topics (_registry-journal, _registry-snapshots); a restart replays
#              them. Pass "" or "none" to use H2 file storage in DATA_DIR instead.
#   CACHE_DIR  the dir given to build.sh (default: $REGISTRY_CACHE_DIR). Alternatively set
#              REGISTRY_JAR=/path/to/quarkus-app/quarkus-run.jar.
#
# Env overrides:
#   REGISTRY_HEAP (default 256m), REGISTRY_DEFAULT_COMPATIBILITY (default BACKWARD, like
#   Confluent; Apicurio's own default would be NONE), REGISTRY_JAVA (a JDK >= 21 java binary),
#   REGISTRY_JAVA_OPTS (extra JVM/-D flags appended last, so they win).
#
# The process stays in the foreground (exec), so a supervisor can background it and record
# its pid. Ready when GET http://127.0.0.1:PORT/apis/ccompat/v7/subjects returns 200.
# Management interface (health/metrics) is forced onto 127.0.0.1 with a random port.
set -euo pipefail

die() { echo "registry start-command: $*" >&2; exit 2; }

[ $# -ge 3 ] || die "usage: $0 PORT DATA_DIR BOOTSTRAP [CACHE_DIR]"
PORT=$1; DATA_DIR=$2; BOOTSTRAP=$3; CACHE_DIR=${4:-${REGISTRY_CACHE_DIR:-}}
[[ "$PORT" =~ ^[0-9]+$ ]] || die "PORT must be a number, got '$PORT'"
[ -n "$DATA_DIR" ] || die "DATA_DIR must not be empty"

JAR=${REGISTRY_JAR:-}
if [ -z "$JAR" ]; then
  [ -n "$CACHE_DIR" ] || die "no jar: pass CACHE_DIR (the dir given to build.sh) or set REGISTRY_JAR"
  JAR="$CACHE_DIR/registry-build/target/quarkus-app/quarkus-run.jar"
fi
[ -f "$JAR" ] || die "quarkus-run.jar not found at $JAR (run infra/registry/build.sh first)"

# Apicurio 3.3 classes are compiled for Java 21: find a java >= 21.
java_major() {
  "$1" -XshowSettings:properties -version 2>&1 |
    awk -F'= ' '/java.specification.version/ {print $2; exit}' | cut -d. -f1
}
is_ok_java() { [ -x "$1" ] && v=$(java_major "$1") && [ -n "$v" ] && [ "$v" -ge 21 ]; }
JAVA=""
for cand in "${REGISTRY_JAVA:-}" "${JAVA_HOME:+$JAVA_HOME/bin/java}" "$(command -v java || true)" \
            $(ls -d /usr/lib/jvm/*/bin/java 2>/dev/null | sort -rV); do
  [ -n "$cand" ] || continue
  if is_ok_java "$cand"; then JAVA=$cand; break; fi
done
[ -n "$JAVA" ] || die "no Java >= 21 found (set REGISTRY_JAVA or JAVA_HOME)"

mkdir -p "$DATA_DIR"
DATA_DIR=$(cd "$DATA_DIR" && pwd)

FLAGS=(
  # JVM: small footprint, fast start (C1 only), die on OOM so the supervisor notices
  -Xms32m "-Xmx${REGISTRY_HEAP:-256m}" -XX:+UseSerialGC -XX:TieredStopAtLevel=1
  -XX:ReservedCodeCacheSize=64m -Xss512k -XX:+ExitOnOutOfMemoryError
  -Djava.net.preferIPv4Stack=true
  # HTTP: loopback only
  -Dquarkus.http.host=127.0.0.1 "-Dquarkus.http.port=$PORT"
  -Dquarkus.management.host=127.0.0.1 -Dquarkus.management.port=0
  -Dquarkus.http.access-log.enabled=false
  # No auth, no telemetry/tracing export, no external calls
  -Dquarkus.oidc.tenant-enabled=false
  -Dapicurio.authn.basic-client-credentials.enabled=false
  -Dapicurio.auth.role-based-authorization=false
  -Dquarkus.otel.sdk.disabled=true
  # Logs: keep Apicurio INFO, silence the Kafka client's config dumps
  -Dquarkus.log.level=WARN '-Dquarkus.log.category."io.apicurio".level=INFO'
  '-Dquarkus.log.category."io.quarkus".level=INFO'
  '-Dquarkus.log.category."org.apache.kafka".level=WARN'
  # Confluent-like default compatibility for subjects without their own config
  "-Dapicurio.rules.global.compatibility=${REGISTRY_DEFAULT_COMPATIBILITY:-BACKWARD}"
  # The DB pool defaults (20 initial / 20 min / 100 max) are sized for prod servers
  -Dapicurio.datasource.jdbc.initial-size=2 -Dapicurio.datasource.jdbc.min-size=2
  -Dapicurio.datasource.jdbc.max-size=10
  "-Dapicurio.storage.snapshot.location=$DATA_DIR" "-Dapicurio.import.work-dir=$DATA_DIR"
)

case "$BOOTSTRAP" in
  ""|none|-)
    mkdir -p "$DATA_DIR/h2"
    FLAGS+=(
      -Dapicurio.storage.kind=sql -Dapicurio.storage.sql.kind=h2
      "-Dapicurio.datasource.url=jdbc:h2:file:$DATA_DIR/h2/registry"
    ) ;;
  *)
    FLAGS+=(
      -Dapicurio.storage.kind=kafkasql
      "-Dapicurio.kafkasql.bootstrap.servers=$BOOTSTRAP"
      -Dapicurio.kafkasql.topic=_registry-journal
      -Dapicurio.kafkasql.snapshots.topic=_registry-snapshots
      -Dapicurio.events.kafka.topic=_registry-events
      -Dapicurio.kafkasql.consumer.group-prefix=registry-
      # default 5000ms; startup polls the (empty) snapshots topic twice with it (~10s)
      -Dapicurio.kafkasql.consumer.poll.timeout=500
    ) ;;
esac

# shellcheck disable=SC2206
EXTRA=(${REGISTRY_JAVA_OPTS:-})
cd "$DATA_DIR"
exec "$JAVA" "${FLAGS[@]}" "${EXTRA[@]}" -jar "$JAR"

#!/usr/bin/env bash
# Prepares a checkout to run Tributary: Debian packages, node_modules, Kafka jars, the schema registry,
# the real query clients the tests drive (Go clickhouse-go, Python clickhouse-connect), and the Kafka
# Streams peers the benchmark compares with.
#
#   infra/setup/setup.sh [--quiet]
#
# Idempotent: every step checks a stamp first, so a second run with nothing changed takes about a second.
# --quiet prints nothing when every step is cached (used by ./tributary before each command).
# Progress goes to stdout, failures to stderr; step logs live under $CACHE/logs.
#
# Env:
#   TRIBUTARY_CACHE_DIR  cache root (default ${XDG_CACHE_HOME:-$HOME/.cache}/tributary); shared by every
#                        clone on the machine, so a fresh clone restores node_modules by hardlinks in seconds.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CACHE=${TRIBUTARY_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tributary}
QUIET=0
case "${1:-}" in
  --quiet) QUIET=1 ;;
  "") ;;
  *) echo "usage: infra/setup/setup.sh [--quiet]" >&2; exit 2 ;;
esac

mkdir -p "$CACHE/logs"
CACHE=$(cd "$CACHE" && pwd)
# shellcheck source=infra/setup/lib.sh
source "$REPO/infra/setup/lib.sh"
# shellcheck source=infra/setup/steps.sh
source "$REPO/infra/setup/steps.sh"

# One setup at a time per cache: two concurrent runs would race on node_modules and the caches.
exec 9>"$CACHE/setup.lock"
if ! flock -n 9; then
  echo "setup: another setup holds $CACHE/setup.lock; waiting for it (up to 15 min)…" >&2
  flock -w 900 9 || { echo "setup failed: timed out waiting for $CACHE/setup.lock. To fix: check for a stuck setup process (fuser $CACHE/setup.lock)." >&2; exit 1; }
fi

T0=$EPOCHREALTIME
run_step 1 6 "debian packages" apt_check apt_run
run_step 2 6 "node modules" node_check node_run "npm ci compiles librdkafka, ~2 min"
run_step 3 6 "kafka jars" kafka_check kafka_run
run_step 4 6 "schema registry" registry_check registry_run "downloads Apicurio, ~150 MB"
run_step 5 6 "query clients" clients_check clients_run "Go clickhouse-go and Python clickhouse-connect, ~1 min"
run_step 6 6 "kafka streams peers" peers_check peers_run "bench/kafka-streams, one jar by Maven, ~1 min"
if [ "$QUIET" = 0 ] || [ "$WORKED" = 1 ]; then
  echo "setup complete in $(elapsed "$T0")s (cache: $CACHE)"
fi

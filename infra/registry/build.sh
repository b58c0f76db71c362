#!/usr/bin/env bash
# Build (fetch + unpack) the Apicurio Registry Quarkus app outside the repo, with caching.
#
#   build.sh <cache_dir>
#
# Result: <cache_dir>/registry-build/target/quarkus-app/quarkus-run.jar
# (printed as the last line of stdout). Idempotent: if that jar exists and
# <cache_dir>/registry-build/.stamp holds the sha256 of infra/registry/pom.xml, nothing runs.
# Maven uses the default local repo (~/.m2), so downloads are cached across cache dirs.
# Env: MVN (default: mvn), REGISTRY_MVN_ARGS (extra maven args, e.g. -o for offline).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
POM="$HERE/pom.xml"
step() { STEP=$1; }
fail() { echo "registry build.sh: FAILED at step '$STEP'${1:+: $1}" >&2; exit 1; }
trap 'fail "command exited with status $?"' ERR

step "arguments"
[ $# -eq 1 ] && [ -n "$1" ] || { echo "usage: $0 <cache_dir>" >&2; exit 2; }
[ -f "$POM" ] || fail "missing $POM"

step "prepare cache dir"
mkdir -p "$1"
CACHE=$(cd "$1" && pwd)
BUILD="$CACHE/registry-build"
JAR="$BUILD/target/quarkus-app/quarkus-run.jar"
STAMP="$BUILD/.stamp"
WANT=$(sha256sum "$POM" | cut -d' ' -f1)

if [ -f "$JAR" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ]; then
  echo "registry build.sh: up to date (pom sha256 ${WANT:0:12})" >&2
  echo "$JAR"
  exit 0
fi

step "check tools"
MVN=${MVN:-mvn}
command -v "$MVN" >/dev/null || fail "'$MVN' not found on PATH"

step "copy pom"
mkdir -p "$BUILD"
rm -f "$STAMP"
cp "$POM" "$BUILD/pom.xml"

step "clean previous output"
rm -rf "$BUILD/target"

step "mvn package (download + unpack io.apicurio:apicurio-registry-app:tar.gz:all)"
LOG="$BUILD/mvn.log"
# shellcheck disable=SC2086
if ! "$MVN" -B -q -Dstyle.color=never -f "$BUILD/pom.xml" ${REGISTRY_MVN_ARGS:-} package >"$LOG" 2>&1; then
  tail -n 40 "$LOG" >&2
  fail "maven failed (full log: $LOG)"
fi

step "verify output"
[ -f "$JAR" ] || fail "maven succeeded but $JAR is missing"
[ -d "$BUILD/target/quarkus-app/lib/main" ] || fail "quarkus-app/lib/main missing"

echo "$WANT" >"$STAMP"
echo "registry build.sh: built $JAR" >&2
echo "$JAR"

# The six setup steps (sourced by setup.sh): Debian packages, node_modules, Kafka jars, schema registry,
# query clients, the Kafka Streams peers of the benchmark.
# Each has a cheap <step>_check (0 = cached) and a <step>_run (see lib.sh).

# --- a. Debian packages -----------------------------------------------------------------------------
APT_PACKAGES=(libssl-dev zlib1g-dev libzstd-dev liblz4-dev libsasl2-dev python3-venv docker-compose)
APT_MISSING=()

apt_check() {
  APT_MISSING=()
  command -v dpkg-query >/dev/null 2>&1 || { STEP_NOTE="no dpkg-query: not Debian, assuming present"; return 0; }
  local pkg
  for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || APT_MISSING+=("$pkg")
  done
  [ ${#APT_MISSING[@]} -eq 0 ]
}

apt_run() {
  local cmd="apt-get update && apt-get install -y ${APT_MISSING[*]}"
  echo "missing: ${APT_MISSING[*]}"
  [ "$(id -u)" = 0 ] || fail "missing Debian packages: ${APT_MISSING[*]} (and not root)" "run: sudo sh -c '$cmd'"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update || fail "apt-get update failed" "check the network to the Debian mirror, then run: $cmd"
  apt-get install -y "${APT_MISSING[@]}" || fail "apt-get install failed" "run: $cmd and read its error"
  STEP_NOTE="installed ${APT_MISSING[*]}"
}

# --- b. node_modules --------------------------------------------------------------------------------
# Key = package-lock.json + node version/ABI + arch + how librdkafka is linked. The finished node_modules
# is kept in $CACHE/node_modules/<key>/ and restored into fresh clones with hardlinks (cp -al).
NODE_STAMP_FILE=.tributary-setup-stamp
NODE_KEY=""

node_key() {
  [ -n "$NODE_KEY" ] && return 0
  [ -f "$REPO/package-lock.json" ] || return 1
  command -v node >/dev/null 2>&1 || return 1
  NODE_KEY=$({
    cat "$REPO/package-lock.json"
    echo "node=$(node --version) arch=$(uname -m) CKJS_LINKING=dynamic"
  } | sha256)
}

node_check() {
  node_key || return 1
  [ -f "$CACHE/node_modules/$NODE_KEY/.complete" ] && STEP_HINT="restoring the cached copy"
  [ -f "$REPO/node_modules/$NODE_STAMP_FILE" ] && [ "$(cat "$REPO/node_modules/$NODE_STAMP_FILE")" = "$NODE_KEY" ]
}

node_run() {
  need_command node "install Node.js >= 20.11 (e.g. apt-get install nodejs npm)"
  need_command npm "install npm (apt-get install npm)"
  [ -f "$REPO/package-lock.json" ] || fail "package-lock.json is missing" "run 'npm install' in $REPO and commit package-lock.json"
  node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=11)?0:1)' ||
    fail "Node.js $(node --version) is too old" "install Node.js >= 20.11"
  node_key
  local cached="$CACHE/node_modules/$NODE_KEY"
  if [ -f "$cached/.complete" ]; then
    echo "restoring node_modules from $cached"
    rm -rf "$REPO/node_modules"
    if ! cp -al "$cached/node_modules" "$REPO/node_modules" 2>/dev/null; then
      echo "hardlinks not possible (another filesystem?): copying instead"
      rm -rf "$REPO/node_modules"
      cp -a "$cached/node_modules" "$REPO/node_modules" || fail "could not copy $cached/node_modules" "check free disk space, or remove $cached"
    fi
    # npm rewrites this file in place: give the clone its own copy so the cache is never edited through a link.
    if [ -f "$REPO/node_modules/.package-lock.json" ]; then
      cp --remove-destination "$cached/node_modules/.package-lock.json" "$REPO/node_modules/.package-lock.json"
    fi
    STEP_NOTE="restored from cache"
    return 0
  fi

  # librdkafka is compiled from source and linked dynamically; node-gyp cannot download headers here.
  export CKJS_LINKING=dynamic
  if [ -z "${npm_config_nodedir:-}" ] && [ -d /usr/include/node ]; then export npm_config_nodedir=/usr; fi
  echo "npm ci (CKJS_LINKING=$CKJS_LINKING npm_config_nodedir=${npm_config_nodedir:-unset})"
  local ci_log="$CACHE/logs/npm-ci.log"
  if ! (cd "$REPO" && npm ci --no-audit --no-fund --foreground-scripts) 2>&1 | tee "$ci_log"; then
    node_install_fallback "$ci_log"
  fi
  # npm skips install scripts it is not allowed to run (see .npmrc): check that the binding was built.
  (cd "$REPO" && node -e "require('@confluentinc/kafka-javascript')") ||
    fail "@confluentinc/kafka-javascript installed but its native binding does not load" \
      "check that .npmrc allows its install script (allow-scripts=@confluentinc/kafka-javascript), then run ./tributary setup again"
  local tmp
  tmp=$(mktemp "$REPO/node_modules/.stamp.XXXXXX") && chmod 644 "$tmp"
  echo "$NODE_KEY" >"$tmp" && mv -f "$tmp" "$REPO/node_modules/$NODE_STAMP_FILE"

  echo "saving node_modules to $cached"
  rm -rf "$cached.tmp" && mkdir -p "$cached.tmp"
  if ! cp -al "$REPO/node_modules" "$cached.tmp/node_modules" 2>/dev/null; then
    rm -rf "$cached.tmp/node_modules"
    cp -a "$REPO/node_modules" "$cached.tmp/node_modules"
  fi
  touch "$cached.tmp/.complete"
  rm -rf "$cached" && mv -T "$cached.tmp" "$cached"
  # Keep the three most recent keys.
  (cd "$CACHE/node_modules" && ls -1t | grep -v '\.tmp$' | tail -n +4 | xargs -r rm -rf) || true
  STEP_NOTE="${STEP_NOTE}compiled, cached for fresh clones"
}

# npm ci refuses a lock that lacks optional platform packages the registry cannot serve (here: other
# platforms' @chdb/lib-* return 404, so `npm install` leaves them out of the lock). Only in that case,
# install exactly the locked tree with `npm install --no-save` and keep package-lock.json as it was.
node_install_fallback() {
  local ci_log=$1 missing
  grep -q 'can only install packages when your package.json and package-lock.json' "$ci_log" ||
    fail "npm ci failed" "read the log; a compile error usually means a missing -dev package (see step 'debian packages') or missing node headers (npm_config_nodedir)"
  missing=$(grep -o 'Missing: [^ ]* from lock file' "$ci_log" | cut -d' ' -f2 | tr '\n' ' ')
  # Anything else missing or invalid is a real mismatch (package.json edited without the lock).
  (cd "$REPO" && node -e '
    const lock = require("./package-lock.json");
    const optional = new Set(Object.values(lock.packages).flatMap((p) => Object.keys(p.optionalDependencies ?? {})));
    const missing = process.argv.slice(1);
    process.exit(missing.length > 0 && missing.every((m) => optional.has(m.replace(/@[^@]*$/, ""))) ? 0 : 1);
  ' $missing) && ! grep -q 'Invalid: lock file' "$ci_log" ||
    fail "package-lock.json does not match package.json" "run 'npm install' in $REPO and commit package-lock.json"
  echo "npm ci refused the lock (missing: $missing); falling back to npm install --no-save"
  cp "$REPO/package-lock.json" "$CACHE/package-lock.json.bak"
  rm -rf "$REPO/node_modules"
  (cd "$REPO" && npm install --no-save --no-audit --no-fund --foreground-scripts) || {
    cp "$CACHE/package-lock.json.bak" "$REPO/package-lock.json"
    fail "npm install failed" "read the log; a compile error usually means a missing -dev package or missing node headers (npm_config_nodedir)"
  }
  cmp -s "$CACHE/package-lock.json.bak" "$REPO/package-lock.json" || cp "$CACHE/package-lock.json.bak" "$REPO/package-lock.json"
  rm -f "$CACHE/package-lock.json.bak"
  STEP_NOTE="lock lacks ${missing% }: used npm install --no-save; "
}

# --- c. Kafka jars ----------------------------------------------------------------------------------
KAFKA_POM="$REPO/infra/kafka/pom.xml"
KAFKA_DIR="$CACHE/kafka"

kafka_check() {
  [ -f "$KAFKA_DIR/stamp" ] && [ -f "$KAFKA_DIR/classpath.txt" ] || return 1
  [ "$(cat "$KAFKA_DIR/stamp")" = "$(sha256 <"$KAFKA_POM")" ] || return 1
  local jar jars
  IFS=: read -r -a jars <"$KAFKA_DIR/classpath.txt"
  for jar in "${jars[@]}"; do [ -f "$jar" ] || return 1; done # ~/.m2 may have been cleaned
}

kafka_run() {
  need_command java "install a JDK >= 17 (apt-get install openjdk-17-jdk-headless)"
  need_command mvn "install Maven (apt-get install maven)"
  mkdir -p "$KAFKA_DIR"
  mvn -q -B -Dstyle.color=never -f "$KAFKA_POM" dependency:build-classpath \
    -Dmdep.outputFile="$KAFKA_DIR/classpath.txt.tmp" -Dmdep.includeScope=runtime ||
    fail "maven could not resolve the Kafka jars" "check access to Maven Central (repo.maven.apache.org), then run ./tributary setup again"
  grep -q 'kafka_2.13' "$KAFKA_DIR/classpath.txt.tmp" || fail "the classpath maven wrote has no kafka_2.13 jar" "check $KAFKA_POM"
  mv -f "$KAFKA_DIR/classpath.txt.tmp" "$KAFKA_DIR/classpath.txt"
  sha256 <"$KAFKA_POM" >"$KAFKA_DIR/stamp"
  STEP_NOTE="$(tr ':' '\n' <"$KAFKA_DIR/classpath.txt" | wc -l) jars"
}

# --- d. Schema registry -----------------------------------------------------------------------------
# infra/registry/build.sh owns the build and its stamp: <cache>/registry-build/.stamp = sha256 of its pom.
REGISTRY_BUILD="$REPO/infra/registry/build.sh"

registry_check() {
  local stamp="$CACHE/registry-build/.stamp" jar="$CACHE/registry-build/target/quarkus-app/quarkus-run.jar"
  [ -f "$REPO/infra/registry/pom.xml" ] && [ -f "$jar" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$(sha256 <"$REPO/infra/registry/pom.xml")" ]
}

registry_run() {
  [ -x "$REGISTRY_BUILD" ] || fail "$REGISTRY_BUILD is missing or not executable" "update your checkout (infra/registry/ provides it)"
  "$REGISTRY_BUILD" "$CACHE" ||
    fail "infra/registry/build.sh failed" "check access to Maven Central, then run ./tributary setup again"
}

# --- e. Query clients -------------------------------------------------------------------------------
# The real clients the query endpoint's tests drive: a Go program on clickhouse-go (the version Grafana's
# ClickHouse plugin uses) and a Python venv with clickhouse-connect. Each is rebuilt only when its inputs
# (sources, pins, toolchain version) change; the stamp is their sha256.
CLIENTS_SRC="$REPO/test/clients"
CLIENTS_DIR="$CACHE/clients"

# The toolchains enter the key by their resolved path (it names the version), not by running them: the
# check runs before every ./tributary command and must stay cheap.
go_toolchain() {
  local go
  go=$(readlink -f "$(command -v go)")
  echo "$go"
  cat "$(dirname "$go")/../VERSION" 2>/dev/null || true
}
clients_go_key() { { cat "$CLIENTS_SRC/go/go.mod" "$CLIENTS_SRC/go/go.sum" "$CLIENTS_SRC/go/main.go"; go_toolchain; } | sha256; }
clients_py_key() { { cat "$CLIENTS_SRC/python/requirements.txt"; readlink -f "$(command -v python3)"; } | sha256; }

clients_check() {
  command -v go >/dev/null 2>&1 && command -v python3 >/dev/null 2>&1 || return 1
  [ -x "$CLIENTS_DIR/go/clients-go" ] && [ "$(cat "$CLIENTS_DIR/go/stamp" 2>/dev/null)" = "$(clients_go_key)" ] &&
    [ -x "$CLIENTS_DIR/python/venv/bin/python" ] && [ "$(cat "$CLIENTS_DIR/python/stamp" 2>/dev/null)" = "$(clients_py_key)" ]
}

clients_run() {
  need_command go "install Go >= 1.25 (apt-get install golang-go, or from go.dev)"
  need_command python3 "install Python 3 (apt-get install python3 python3-venv)"
  mkdir -p "$CLIENTS_DIR/go" "$CLIENTS_DIR/python"
  (cd "$CLIENTS_SRC/go" && go build -mod=readonly -o "$CLIENTS_DIR/go/clients-go.tmp" .) ||
    fail "building test/clients/go failed" "check access to the Go module proxy (GOPROXY), then run ./tributary setup again"
  mv -f "$CLIENTS_DIR/go/clients-go.tmp" "$CLIENTS_DIR/go/clients-go"
  clients_go_key >"$CLIENTS_DIR/go/stamp"
  # A venv records its own path, so it is built in place; the stamp is written only once it is complete.
  rm -rf "$CLIENTS_DIR/python/venv" "$CLIENTS_DIR/python/stamp"
  python3 -m venv "$CLIENTS_DIR/python/venv" ||
    fail "python3 -m venv failed" "install python3-venv (apt-get install python3-venv)"
  "$CLIENTS_DIR/python/venv/bin/pip" install -q --disable-pip-version-check -r "$CLIENTS_SRC/python/requirements.txt" ||
    fail "pip could not install test/clients/python/requirements.txt" "check access to PyPI, then run ./tributary setup again"
  clients_py_key >"$CLIENTS_DIR/python/stamp"
  STEP_NOTE="clickhouse-go $(grep -o 'clickhouse-go/v2 v[0-9.]*' "$CLIENTS_SRC/go/go.mod" | cut -d' ' -f2), $(cat "$CLIENTS_SRC/python/requirements.txt")"
}

# --- f. Kafka Streams peers -------------------------------------------------------------------------
# bench/kafka-streams: the Kafka Streams apps `npm run bench` compares Tributary with, one shaded jar.
# Rebuilt only when its inputs change (pom, Java sources, the schemas it bundles, the JDK); the build
# directory lives in the cache so the checkout stays clean.
PEERS_SRC="$REPO/bench/kafka-streams"
PEERS_DIR="$CACHE/kafka-streams"

peers_key() {
  {
    cat "$PEERS_SRC/pom.xml"
    find "$PEERS_SRC/src" "$REPO/schemas" -type f -print0 | LC_ALL=C sort -z | xargs -0 cat
    readlink -f "$(command -v java)"
  } | sha256
}

peers_check() {
  command -v java >/dev/null 2>&1 || return 1
  [ -f "$PEERS_DIR/kafka-streams-peers.jar" ] && [ "$(cat "$PEERS_DIR/stamp" 2>/dev/null)" = "$(peers_key)" ]
}

peers_run() {
  need_command java "install a JDK >= 17 (apt-get install openjdk-17-jdk-headless)"
  need_command mvn "install Maven (apt-get install maven)"
  local key build="$PEERS_DIR/build"
  key=$(peers_key)
  rm -rf "$build" && mkdir -p "$build"
  mvn -q -B -Dstyle.color=never -f "$PEERS_SRC/pom.xml" -Dtributary.build.dir="$build" package ||
    fail "maven could not build bench/kafka-streams" "check access to Maven Central (repo.maven.apache.org) and the Java error above, then run ./tributary setup again"
  [ -f "$build/kafka-streams-peers.jar" ] || fail "maven succeeded but $build/kafka-streams-peers.jar is missing" "check $PEERS_SRC/pom.xml (finalName, shade plugin)"
  mv -f "$build/kafka-streams-peers.jar" "$PEERS_DIR/kafka-streams-peers.jar"
  rm -rf "$build"
  echo "$key" >"$PEERS_DIR/stamp"
  STEP_NOTE="kafka-streams $(grep -o '<kafka.version>[^<]*' "$PEERS_SRC/pom.xml" | cut -d'>' -f2)"
}

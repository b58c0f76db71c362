# Step runner for setup.sh: progress lines, timings, failure reports with the step's log tail.
# Sourced, not executed. A step is a pair of functions: <check> (cheap, returns 0 when cached) and
# <run> (does the work; its output goes to the step's log; it calls `fail` with why + how to fix).
export LC_NUMERIC=C
set -E
exec 3>&1 4>&2 # the user's stdout/stderr, while a step's own output goes to its log
WORKED=0
STEP_NAME=""
STEP_LOG=""
STEP_OPEN=0 # 1 while "setup [n/N] step … " waits for its ending

elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }

# fail WHY FIX: reports the failing step with the tail of its log, exits non-zero.
fail() {
  trap - ERR
  [ "$STEP_OPEN" = 0 ] || echo "failed" >&3
  STEP_OPEN=0
  echo "setup failed at step $STEP_NAME: $1. To fix: $2" >&4
  if [ -s "$STEP_LOG" ]; then
    if grep -qiE '(^|[^a-z])(error|fatal|failed)' "$STEP_LOG"; then
      echo "--- first error lines of $STEP_LOG ---" >&4
      grep -iE '(^|[^a-z])(error|fatal|failed)' "$STEP_LOG" | grep -v '^npm error *$' | head -n 8 >&4
    fi
    echo "--- last 25 lines of $STEP_LOG ---" >&4
    tail -n 25 "$STEP_LOG" >&4
    echo "---" >&4
  fi
  exit 1
}

# A command a step did not guard failed (set -e): still report it the same way.
on_err() {
  fail "'$BASH_COMMAND' exited with status $1" "read the log above; fix the cause and run ./tributary setup again"
}

# run_step N TOTAL NAME CHECK RUN [HINT]
run_step() {
  local n=$1 total=$2 name=$3 check=$4 run=$5 hint=${6:-}
  STEP_NAME=$name
  STEP_LOG="$CACHE/logs/setup-${name// /-}.log"
  STEP_NOTE=""
  STEP_HINT="" # a check may set it to describe the work ahead
  if "$check"; then
    [ "$QUIET" = 1 ] || echo "setup [$n/$total] $name … cached${STEP_NOTE:+ ($STEP_NOTE)}" >&3
    return 0
  fi
  WORKED=1
  hint=${STEP_HINT:-$hint}
  printf 'setup [%s/%s] %s … %s' "$n" "$total" "$name" "${hint:+($hint) }" >&3
  STEP_OPEN=1
  local t=$EPOCHREALTIME
  echo "=== $(date -Is) $name" >"$STEP_LOG"
  trap 'on_err $?' ERR
  "$run" >>"$STEP_LOG" 2>&1 </dev/null
  trap - ERR
  STEP_OPEN=0
  echo "done in $(elapsed "$t")s${STEP_NOTE:+ ($STEP_NOTE)}" >&3
}

# sha256 of files/strings given on stdin, hex only.
sha256() { sha256sum | cut -d' ' -f1; }

need_command() { # need_command CMD FIX
  command -v "$1" >/dev/null 2>&1 || fail "'$1' is not on PATH" "$2"
}

#!/usr/bin/env bash
# Conformance of the sandbox to spec/ayra.yaml, checked with Schemathesis.
#
#   crates/ayra-sandbox/conformance.sh [--max-examples N] [--seed S] [extra schemathesis args...]
#
# Builds and starts the `ayra-sandbox` binary on a free port (127.0.0.1), runs
# `schemathesis run` on every operation of the spec with all checks, stops the
# binary, and exits non-zero when schemathesis found a failure.
#
# Needs Schemathesis 4.x (`pip install 'schemathesis>=4,<5'`).
# AYRA_CONFORMANCE_STRICT=1 also reports the known spec issues (see conformance/hooks.py);
# AYRA_CONFORMANCE_FILTER_LOG=/path lists every failure the hooks dropped.
# AYRA_CONFORMANCE_SANDBOX_ARGS passes flags to the sandbox, e.g. "--job-duration-ms 600000"
# (jobs that never finish in the run: the stateful phase then meets unfinished exports).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
SPEC="$ROOT/spec/ayra.yaml"
MAX_EXAMPLES=25
SEED=1
EXTRA=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --max-examples) MAX_EXAMPLES="$2"; shift 2 ;;
    --seed) SEED="$2"; shift 2 ;;
    *) EXTRA+=("$1"); shift ;;
  esac
done

command -v schemathesis >/dev/null || { echo "conformance: schemathesis is not installed (pip install 'schemathesis>=4,<5')" >&2; exit 2; }
case "$(schemathesis --version 2>/dev/null)" in
  *" 4."*) ;;
  *) echo "conformance: needs schemathesis 4.x, found: $(schemathesis --version 2>/dev/null)" >&2; exit 2 ;;
esac

cargo build --quiet -p ayra-sandbox --manifest-path "$ROOT/Cargo.toml"
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/ayra-sandbox"

PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
LOG="$(mktemp -t ayra-sandbox-conformance.XXXXXX)"
"$BIN" --port "$PORT" ${AYRA_CONFORMANCE_SANDBOX_ARGS:-} >"$LOG" 2>&1 &
PID=$!
cleanup() { kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; rm -f "$LOG"; }
trap cleanup EXIT

for _ in $(seq 1 100); do
  if curl -fsS -o /dev/null -H "Authorization: Bearer sk_test_ayra_sandbox" "http://127.0.0.1:$PORT/v1/voices" 2>/dev/null; then
    break
  fi
  if ! kill -0 "$PID" 2>/dev/null; then echo "conformance: the sandbox exited:" >&2; cat "$LOG" >&2; exit 2; fi
  sleep 0.1
done

echo "conformance: sandbox at http://127.0.0.1:$PORT/v1 (pid $PID), spec $SPEC"
export SCHEMATHESIS_HOOKS="$HERE/conformance/hooks.py"
set +e
schemathesis --config-file "$HERE/conformance/schemathesis.toml" run "$SPEC" \
  --url "http://127.0.0.1:$PORT/v1" \
  -H "Authorization: Bearer sk_test_ayra_sandbox" \
  --checks all \
  --max-examples "$MAX_EXAMPLES" \
  --seed "$SEED" \
  --request-timeout 10 \
  --no-color \
  "${EXTRA[@]}"
STATUS=$?
set -e
if ! kill -0 "$PID" 2>/dev/null; then
  echo "conformance: the sandbox died during the run:" >&2; cat "$LOG" >&2; exit 1
fi
exit "$STATUS"

#!/usr/bin/env bash
# The page in a real browser: Debian's chromium driven by playwright-core
# (npm, installed here into tests/browser/node_modules), against the example
# service (uvicorn + jetl.web) on a fresh database and the Jira simulator.
#   tests/browser/run.sh BUILD_DIR     (BUILD_DIR holds bindings/python)
# Screenshots and logs go to BUILD_DIR/browser/. Needs JETL_DB (scripts/services).
# Bounded: every wait in page_test.mjs has a deadline; the whole run ~1-2 min.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
out="$build/browser"
PY=/usr/bin/python3
: "${JETL_DB:?run under scripts/services (JETL_DB)}"
rm -rf "$out" && mkdir -p "$out"

[ -x /usr/bin/chromium ] || { echo "browser test: /usr/bin/chromium missing (scripts/setup installs it)" >&2; exit 1; }
want=$(node -p "require('$here/package.json').dependencies['playwright-core']")
have=$(node -p "try { require('$here/node_modules/playwright-core/package.json').version } catch (e) { '' }")
if [ "$want" != "$have" ]; then
  (cd "$here" && npm install --no-audit --no-fund --no-package-lock --loglevel=error) >"$out/npm.log" 2>&1 ||
    { cat "$out/npm.log" >&2; exit 1; }
fi

[ -f "$root/examples/service/node_modules/swagger-ui-dist/swagger-ui-bundle.js" ] ||
  { echo "browser test: Swagger UI's files for the service's /docs are missing: run scripts/setup" >&2; exit 1; }

db_name="jetl_browser_$$"
admin_db=$JETL_DB
db="${JETL_DB%/*}/$db_name"
psql -q "$admin_db" -c "CREATE DATABASE $db_name" >/dev/null
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ -n "${JETL_BROWSER_KEEP_DB:-}" ] || psql -q "$admin_db" -c "DROP DATABASE IF EXISTS $db_name WITH (FORCE)" >/dev/null 2>&1 || true
}
trap cleanup EXIT

# APP+WEB: the quick job (230 issues); SLOW: 4000 issues behind 40 ms per request, to cancel.
data="$out/data"
$PY "$root/sim/gen.py" --out "$data" --projects "APP:130,WEB:100,SLOW:4000" --seed 5 >/dev/null
export JETL_JIRA_USER=browser@example.com JETL_JIRA_TOKEN=browser-sim-token
$PY "$root/sim/jirasim.py" --data "$data" --port 0 --port-file "$out/sim.port" --quiet \
  --user "$JETL_JIRA_USER" --token "$JETL_JIRA_TOKEN" --latency-ms 40 >"$out/sim.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -s "$out/sim.port" ] && break; sleep 0.1; done
[ -s "$out/sim.port" ] || { echo "browser test: the simulator did not start" >&2; exit 1; }
export JETL_JIRA_URL="http://127.0.0.1:$(cat "$out/sim.port")"

export JETL_DB="$db" JETL_QUEUE="" JETL_SERVICE_TOKENS='{"browser-token-tenant-1": 1}'
PYTHONPATH="$build/bindings/python" $PY "$root/examples/service/server.py" --port 0 \
  --port-file "$out/service.port" --migrate --seed-integration >"$out/service.log" 2>&1 &
pids+=($!)
for _ in $(seq 150); do [ -s "$out/service.port" ] && break; sleep 0.1; done
[ -s "$out/service.port" ] || { cat "$out/service.log" >&2; echo "browser test: the service did not start" >&2; exit 1; }

export JETL_PAGE_URL="http://127.0.0.1:$(cat "$out/service.port")/" JETL_PAGE_TOKEN=browser-token-tenant-1
export JETL_BROWSER_OUT="$out" JETL_EXPECT_ISSUES=230
timeout 240 node "$here/page_test.mjs"
echo "browser test: screenshots in $out"

#!/usr/bin/env bash
# Browser test of the operations console and the API docs: builds and
# starts the example server (-memory -demo, fixed keys, a free loopback
# port), then drives Debian's headless Chromium through it with
# playwright-core, at desk and phone sizes. Screenshots go to
# e2e/screenshots/ (CI keeps the folder; git ignores it). Exits non-zero on
# failure.
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v chromium >/dev/null 2>&1; then
  echo "--- installing chromium (Debian package)"
  export DEBIAN_FRONTEND=noninteractive
  sudo_=""
  if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1; then sudo_=sudo; fi
  $sudo_ apt-get update -qq
  $sudo_ apt-get install -y -qq chromium >/dev/null
fi
chromium --version 2>/dev/null | head -1 || true

echo "--- npm ci (playwright-core; no browser download)"
npm ci --no-audit --no-fund --loglevel=error

work=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "--- building the example server"
go build -o "$work/sety-server" ../examples/server

port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
export SETY_BOOTSTRAP_TEST_KEY=sety_test_e2e0e2e0e2e0e2e0e2e0e2e0e2e0e2e0
export SETY_BOOTSTRAP_LIVE_KEY=sety_live_e2e0e2e0e2e0e2e0e2e0e2e0e2e0e2e0
"$work/sety-server" -memory -demo -addr "127.0.0.1:$port" >"$work/server.log" 2>&1 &
server_pid=$!

url="http://127.0.0.1:$port"
for _ in $(seq 1 100); do
  if node -e 'fetch(process.argv[1]+"/health").then(r=>process.exit(r.ok?0:1),()=>process.exit(1))' "$url"; then break; fi
  if ! kill -0 "$server_pid" 2>/dev/null; then echo "the server exited:"; cat "$work/server.log"; exit 1; fi
  sleep 0.2
done
node -e 'fetch(process.argv[1]+"/health").then(r=>process.exit(r.ok?0:1),()=>process.exit(1))' "$url" || {
  echo "the server did not become healthy:"; cat "$work/server.log"; exit 1; }

echo "--- browser test against $url"
status=0
SETY_E2E_URL="$url" SETY_E2E_TEST_KEY="$SETY_BOOTSTRAP_TEST_KEY" SETY_E2E_LIVE_KEY="$SETY_BOOTSTRAP_LIVE_KEY" CHROMIUM="$(command -v chromium)" \
  node --test --test-reporter=spec console.test.js || status=$?
if [ "$status" != 0 ]; then
  echo "--- server log (last 60 lines)"; tail -60 "$work/server.log"
fi
exit "$status"

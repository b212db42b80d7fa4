#!/usr/bin/env bash
# `npm start`: a working single-host Corral. Installs what is missing, builds, applies the
# database migrations, makes sure the runtime daemon runs, then runs the web server and a local
# agent joined to it; the agent is restarted if it dies. Ctrl-C / SIGTERM stops both, never the
# containers (they belong to corral-rtd, which keeps running).
# Env: PORT (3000), CORRAL_DATA (/var/lib/corral/web), DATABASE_URL (file:$CORRAL_DATA/corral.db
# or postgresql://...: the migrations of its provider are applied),
# CORRAL_ADMIN_EMAIL / CORRAL_ADMIN_PASSWORD (the first admin; without them the server prints a
# one-time setup token for /setup), CORRAL_TRUSTED_PROXIES, CORRAL_AGENT_NAME (hostname),
# CORRAL_ROOT (the runtime the local agent drives; /var/lib/corral).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-system-deps.sh
bash scripts/ensure-node-deps.sh
npx turbo run build --output-logs=errors-only

export NEXT_TELEMETRY_DISABLED=1
export PORT="${PORT:-3000}"
export CORRAL_DATA="${CORRAL_DATA:-/var/lib/corral/web}"
mkdir -p -m 0700 "$CORRAL_DATA"
(cd apps/web && npx prisma migrate deploy >/dev/null)
node packages/runtime/dist/cli/main.js ps -q >/dev/null # starts corral-rtd when it is not running

url="http://127.0.0.1:$PORT"
agent_data="$CORRAL_DATA/agent"
web=""
agent=""
stopping=0
stop() {
  stopping=1
  for pid in $agent $web; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "corral: stopped the web server and the agent (containers keep running)"
  exit 0
}
trap stop INT TERM

(cd apps/web && exec node --import tsx server.ts) &
web=$!
until node -e 'fetch(process.argv[1]).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))' "$url/api/v1/health"; do
  kill -0 "$web" 2>/dev/null || { echo "corral: the web server did not start" >&2; exit 1; }
  sleep 0.5
done

token=()
if [ ! -f "$agent_data/credential.json" ]; then
  token=(--token "$(cd apps/web && node --import tsx scripts/local-join-token.ts "$url")")
fi
cat <<INFO

corral: open http://$(hostname -f 2>/dev/null || hostname):$PORT (or $url)
corral: first run (no user yet): open $url/setup and enter the one-time setup token the server
        printed above ("corral-web: no user yet: ... setup token cst_..."); it makes the first admin.
        With CORRAL_ADMIN_EMAIL/CORRAL_ADMIN_PASSWORD set, that admin is made instead: log in.
corral: scripts: curl -X POST $url/api/v1/auth/login -H 'content-type: application/json' \\
          -d '{"email":"...","password":"..."}'   # -> {"token":...} for Authorization: Bearer
INFO

while [ "$stopping" = 0 ]; do
  node apps/agent/bin/corral-agent.mjs --server "$url" --data "$agent_data" \
    --name "${CORRAL_AGENT_NAME:-$(hostname)}" "${token[@]}" &
  agent=$!
  # Whichever ends first: the web server (then stop) or the agent (then restart it).
  status=0
  wait -n "$web" "$agent" || status=$?
  [ "$stopping" = 1 ] && break
  if [ "$status" = 78 ] && kill -0 "$web" 2>/dev/null; then
    # EX_CONFIG from the agent: the server refused its credential; restarting cannot help.
    echo "corral: the server refused the local agent; remove $agent_data/credential.json and restart to join again" >&2
    wait "$web" || true
    exit 1
  fi
  if ! kill -0 "$web" 2>/dev/null; then
    echo "corral: the web server exited; stopping" >&2
    kill "$agent" 2>/dev/null || true
    exit 1
  fi
  token=()
  echo "corral: the local agent exited; restarting it in 2 s" >&2
  sleep 2
done

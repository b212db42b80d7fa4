#!/usr/bin/env bash
# `npm run agent -- --server URL --token T [--name NAME] [--data DIR] [--runtime private]`: this
# machine's agent, joined to a Corral web app. What the dashboard's "Add host" shows, so that
# it works verbatim in a fresh checkout: installs what is missing and builds first.
# `--runtime private` gives the agent a corral-rtd of its own under DATA/runtime (its own
# bridge, subnet, cgroup parent, nftables table): several agents on one machine, for demos
# and tests; each needs its own --data and --name.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
(
  cd "$repo"
  bash scripts/ensure-system-deps.sh
  bash scripts/ensure-node-deps.sh
  npx turbo run build --output-logs=errors-only --filter=@corral/agent... >&2
)
# npm runs scripts at the repository's root: relative paths (--data) mean the caller's directory.
cd "${INIT_CWD:-$PWD}"
exec node "$repo/apps/agent/bin/corral-agent.mjs" "$@"

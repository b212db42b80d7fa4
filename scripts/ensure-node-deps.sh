#!/usr/bin/env bash
# Installs npm dependencies from the lockfile when node_modules is missing or older than it.
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=node_modules/.corral-installed
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  npm ci --no-audit --no-fund
  touch "$stamp"
fi

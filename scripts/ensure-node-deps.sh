#!/usr/bin/env bash
# Installs npm dependencies from the lockfile when node_modules is missing or older than it.
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=node_modules/.corral-installed
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  # `npm install` honours the lockfile; `npm ci` here rejects it for omitting other
  # platforms' optional turbo binaries, which npm 11 does not record on Linux.
  npm install --no-audit --no-fund
  touch "$stamp"
fi

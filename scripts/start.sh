#!/usr/bin/env bash
# `npm start`: installs what is needed, builds, and starts Corral's runtime daemon in the
# foreground (the web app and the agent join here when their issues land).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-system-deps.sh
bash scripts/ensure-node-deps.sh
npx turbo run build --output-logs=errors-only
exec node packages/runtime/dist/daemon/main.js "$@"

#!/usr/bin/env bash
# `npm test`: everything a clean checkout needs to prove itself, in order:
# system packages, npm packages, build, lint + format, typecheck, unit tests, then the
# privileged integration tests (real containers; must run as root).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-system-deps.sh
bash scripts/ensure-node-deps.sh
npx turbo run build --output-logs=errors-only
npx eslint .
npx prettier --check . >/dev/null || { npx prettier --check .; exit 1; }
npx turbo run typecheck --output-logs=errors-only
npx turbo run test:unit --output-logs=full --concurrency=1
if [ "$(id -u)" != 0 ]; then
  echo "integration tests need root (they create real containers): run npm test as root" >&2
  exit 1
fi
npx turbo run test:integration --output-logs=full --concurrency=1
# The web's database paths again on PostgreSQL (a private cluster per file), and both
# providers' migrations checked against prisma/schema.prisma.
npm run test:postgres -w apps/web

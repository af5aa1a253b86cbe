#!/usr/bin/env bash
# The README's test command: sets up this host (as root) and runs den's whole test suite:
# build, type check, lint and format check, unit tests, and end-to-end tests that run real
# containers as the unprivileged user dentest and as root.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
  echo "scripts/test.sh: run me as root: the suite creates a test user and becomes it" >&2
  exit 1
fi
bash scripts/setup-host.sh --test-user dentest
npm ci --no-fund --no-audit
npm test

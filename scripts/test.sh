#!/usr/bin/env bash
# The one command that passes the tests: installs what is missing, then lint,
# contract lint, type-check of every package, and all test tiers against a real
# Kafka broker and a real MongoDB-wire database (provisioned by the testkit).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bootstrap.sh

echo "== lint (biome)"
biome lint --diagnostic-level=error .
echo "== contracts (buf lint)"
buf lint
echo "== type-check (tsc, every package and service)"
tsc -p tsconfig.json
tsc -p services/console   # the browser app: DOM lib and JSX
echo "== tests (vitest: unit + integration)"
mkdir -p test-artifacts
status=0
vitest run --reporter=default --reporter=json --outputFile.json=test-artifacts/vitest.json "$@" || status=$?
node -e '
  const r = JSON.parse(require("fs").readFileSync("test-artifacts/vitest.json", "utf8"));
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`);
' || true
exit $status

#!/usr/bin/env bash
# The ops CLI from a fresh clone with only Node and npm: `npm run ops -- <command> …`
# (`npm run ops -- --help` lists the commands; `npm run -s ops -- …` drops npm's banner
# when piping the JSON). Installs pnpm and the workspace's packages first when they are
# missing or older than pnpm-lock.yaml (scripts/bootstrap.sh), then runs
# packages/ops/src/cli.ts — the same entry the image's CronJob and compose use.
# Runs from the repository root (as `npm run` does), so relative paths such as
# `pii keys --file keyring.json` are relative to the root.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
STAMP="node_modules/.whiteslip-bootstrapped"
if [ ! -d node_modules/tsx ] || [ ! -f "$STAMP" ] || [ pnpm-lock.yaml -nt "$STAMP" ]; then
  source scripts/bootstrap.sh   # leaves the stamp
fi
exec node --import tsx packages/ops/src/cli.ts "$@"

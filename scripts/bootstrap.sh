#!/usr/bin/env bash
# Installs what the project needs on a fresh machine, idempotently:
#   - pnpm (pinned) into the cache, with the machine's npm
#   - the workspace's packages (frozen lockfile)
# Kafka and FerretDB are fetched/built on first use by @whiteslip/testkit
# (Maven Central / Go module proxy), cached in the same folder.
# Source it: `source scripts/bootstrap.sh` puts pnpm and node_modules/.bin on PATH.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export WHITESLIP_CACHE="${WHITESLIP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/whiteslip}"
PNPM_VERSION=12.4.2
PNPM_DIR="$WHITESLIP_CACHE/tools"
if [ ! -x "$PNPM_DIR/node_modules/.bin/pnpm" ] || [ "$("$PNPM_DIR/node_modules/.bin/pnpm" --version 2>/dev/null)" != "$PNPM_VERSION" ]; then
  echo "bootstrap: installing pnpm $PNPM_VERSION into $PNPM_DIR" >&2
  mkdir -p "$PNPM_DIR"
  npm install --prefix "$PNPM_DIR" --no-audit --no-fund --loglevel=error -E "pnpm@$PNPM_VERSION" >&2
fi
export PATH="$ROOT/node_modules/.bin:$PNPM_DIR/node_modules/.bin:$PATH"
for tool in java mvn go node; do
  command -v "$tool" >/dev/null || echo "bootstrap: warning: $tool not found; local Kafka/FerretDB need Java 17 + Maven and Go" >&2
done
(cd "$ROOT" && pnpm install --frozen-lockfile --reporter=append-only >&2)
# scripts/ops.sh skips this whole file while the stamp is newer than pnpm-lock.yaml.
touch "$ROOT/node_modules/.whiteslip-bootstrapped"

#!/usr/bin/env bash
# The one command that runs the platform locally: installs what is missing, starts
# Kafka and the MongoDB-wire database the way the tests do, the five services as
# processes, and plays the demo journey. `npm start -- --no-demo` skips the demo;
# `npm start -- --days 40` plays fewer days. Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bootstrap.sh
exec node --import tsx packages/platform/src/run.ts "$@"

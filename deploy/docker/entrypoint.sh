#!/bin/sh
# Starts one Whiteslip service chosen by $SERVICE from its compiled bundle
# (services/$SERVICE/dist/main.js, made by the image's build stage with
# `node --import tsx packages/platform/src/build.ts --force`), with the compiled
# telemetry preload first so OpenTelemetry's instrumentations patch the MongoDB
# driver before the service loads it. `ops <args>` runs the compiled ops CLI
# (e.g. `ops eod`); any other command is run as given (e.g.
# `node --import tsx packages/ops/src/cli.ts eod`, the TypeScript entry, still
# works: the dev dependencies stay in the image). Runs from the repository root
# (/app in the image). `exec` makes node PID 1, so SIGTERM reaches the service
# and it drains before exiting. ENTRYPOINT_DRY_RUN=1 prints the command instead
# of running it (used by the tests).
set -eu
cd "$(dirname "$0")/../.."
run() {
  if [ -n "${ENTRYPOINT_DRY_RUN:-}" ]; then
    echo "$*"
    exit 0
  fi
  exec "$@"
}
built() {
  for f in "$@"; do
    if [ ! -f "$f" ]; then
      echo "entrypoint: $f is missing: build the bundles first (npm run build)" >&2
      exit 66
    fi
  done
}
if [ "$#" -gt 0 ]; then
  if [ "$1" = "ops" ]; then
    shift
    built packages/ops/dist/cli.js
    run node packages/ops/dist/cli.js "$@"
  fi
  run "$@"
fi
case "${SERVICE:-}" in
  credit | billing | notification | collections | credit-reporting)
    built packages/telemetry/dist/register.js "services/${SERVICE}/dist/main.js"
    run node --import ./packages/telemetry/dist/register.js "services/${SERVICE}/dist/main.js"
    ;;
  *)
    echo "entrypoint: set SERVICE to one of: credit billing notification collections credit-reporting (got '${SERVICE:-}')," >&2
    echo "            or pass a command, e.g. ops eod" >&2
    exit 64
    ;;
esac

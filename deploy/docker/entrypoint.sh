#!/bin/sh
# Starts one Whiteslip service chosen by $SERVICE, or runs the given command
# (e.g. `node --import tsx packages/ops/src/cli.ts eod`), from the repository
# root (/app in the image). `exec` makes node PID 1, so SIGTERM reaches the
# service and it drains before exiting. ENTRYPOINT_DRY_RUN=1 prints the command
# instead of running it (used by the tests).
set -eu
cd "$(dirname "$0")/../.."
run() {
  if [ -n "${ENTRYPOINT_DRY_RUN:-}" ]; then
    echo "$*"
    exit 0
  fi
  exec "$@"
}
if [ "$#" -gt 0 ]; then
  run "$@"
fi
case "${SERVICE:-}" in
  credit | billing | notification | collections | credit-reporting)
    run node --import tsx --import ./packages/telemetry/src/register.ts "services/${SERVICE}/src/main.ts"
    ;;
  *)
    echo "entrypoint: set SERVICE to one of: credit billing notification collections credit-reporting (got '${SERVICE:-}')," >&2
    echo "            or pass a command, e.g. node --import tsx packages/ops/src/cli.ts eod" >&2
    exit 64
    ;;
esac

#!/usr/bin/env bash
# Checks blue, green and nginx, as the original project's script did, through the deploy CLI
# (`npx nx run deploy:status`): each color's /health and version, which color nginx serves right
# now on / and on /preview/, and the last switch.
#
#   scripts/health_check.sh                    # the local stack (npx nx run deploy:up)
#   scripts/health_check.sh --backend=compose  # the Docker Compose deployment
#   scripts/health_check.sh --json             # one JSON document, for scripts
#
# Exit status: 0 when all three are up and healthy and nginx serves the live color, 1 otherwise.
set -euo pipefail

case "${1:-}" in
  -h | --help)
    echo "usage: $0 [--backend=local|compose] [--json] [--state-dir=DIR]" >&2
    exit 0
    ;;
esac

cd "$(dirname "${BASH_SOURCE[0]}")/.."
export SWC_NODE_PROJECT=libs/deploy/tsconfig.lib.json
exec node -r @swc-node/register libs/deploy/src/cli/main.ts status "$@"

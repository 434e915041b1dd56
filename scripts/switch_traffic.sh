#!/usr/bin/env bash
# Switches live traffic between blue and green, as the original project's script did, now through
# the deploy CLI (`npx nx run deploy:switch`): the target is checked first, the switch is one
# atomic rename (no nginx reload), it is verified through nginx, and recorded in the history.
#
#   scripts/switch_traffic.sh            # toggle: whichever color is idle becomes live
#   scripts/switch_traffic.sh green      # make green live (a no-op if it already is)
#   scripts/switch_traffic.sh blue --backend=compose  # the Docker Compose deployment
#
# Any further flags go to the CLI (--json, --state-dir, --expect-version, --backend). Exit status:
# 0 switched (or already live), 1 refused or failed (the message says why), 2 bad usage.
set -euo pipefail

usage() {
  echo "usage: $0 [blue|green] [--backend=local|compose] [--json]   (no color: toggle)" >&2
}

args=(switch)
case "${1:-}" in
  blue | green)
    args+=("--color=$1")
    shift
    ;;
  -h | --help)
    usage
    exit 0
    ;;
  "" | --*) ;;
  *)
    echo "$0: unknown color \"$1\"; use blue or green (or nothing to toggle)." >&2
    usage
    exit 2
    ;;
esac

cd "$(dirname "${BASH_SOURCE[0]}")/.."
export SWC_NODE_PROJECT=libs/deploy/tsconfig.lib.json
exec node -r @swc-node/register libs/deploy/src/cli/main.ts "${args[@]}" "$@"

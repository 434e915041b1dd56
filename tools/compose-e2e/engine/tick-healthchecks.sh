#!/usr/bin/env bash
# Runs every running container's healthcheck each $1 seconds, as Docker's daemon does by itself:
# podman schedules them with systemd timers, and without systemd containers stay "starting"
# forever (and `depends_on: condition: service_healthy` waits forever). Started by prepare.sh,
# stopped by cleanup.sh.
set -uo pipefail
readonly TICK=${1:-5}

while :; do
  for id in $(podman ps -q 2>/dev/null); do
    # A container without a healthcheck answers "has no defined healthcheck": nothing to do.
    podman healthcheck run "$id" >/dev/null 2>&1 &
  done
  wait
  sleep "$TICK"
done

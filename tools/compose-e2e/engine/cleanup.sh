#!/usr/bin/env bash
# Stops and removes what the Compose suite and prepare.sh started: the stack's containers,
# volumes and network (`down -v`), the images the suite made (labelled org.mlbg.compose-e2e),
# the local registry, the healthcheck ticker and podman's API process. Idempotent.
#
#   tools/compose-e2e/engine/cleanup.sh            # keeps the base images and the built service
#                                                  # images, so the next run does not rebuild them
#   tools/compose-e2e/engine/cleanup.sh --images   # also removes those (a run from scratch)
#
# What it never removes: packages it installed and /etc/containers settings (machine setup),
# containers or images it did not make.
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../../.." || exit 1
readonly DIR=${COMPOSE_E2E_ENGINE_DIR:-/tmp/mlbg-compose-engine}
readonly COMPOSE_FILES=(-f docker-compose.yml -f docker-compose.blue.yml -f docker-compose.green.yml)
readonly LABEL=org.mlbg.compose-e2e
# How long a stopped process may take to exit before it is killed.
readonly STOP_SECONDS=10
ALL_IMAGES=0
[[ ${1:-} == --images ]] && ALL_IMAGES=1

step() { printf 'engine cleanup: %s\n' "$*"; }

stop_pid_file() {
  local file=$1 what=$2 pid deadline
  [[ -f $file ]] || return 0
  pid=$(cat "$file")
  if kill -0 "$pid" 2>/dev/null; then
    step "stopping $what (pid $pid)"
    # setsid made it a process group leader: stop its children (a ticker's sleep) with it.
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
    deadline=$((SECONDS + STOP_SECONDS))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
    kill -0 "$pid" 2>/dev/null && { step "$what did not stop in ${STOP_SECONDS}s: killing it"; kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null; }
  fi
  rm -f "$file"
}

if [[ -f $DIR/env ]]; then
  # shellcheck source=/dev/null
  . "$DIR/env"
fi

if docker version >/dev/null 2>&1; then
  if command -v docker-compose >/dev/null && [[ -n $(docker ps -aq --filter name='^ml-(nginx|service-blue|service-green)$') ]]; then
    step "docker-compose down -v (containers, the ml-sockets volume, the ml-network network)"
    docker-compose "${COMPOSE_FILES[@]}" down -v --remove-orphans --timeout 10 >/dev/null 2>&1
  fi
  # Whatever a test started outside Compose (labelled), and leftovers of an interrupted run.
  docker ps -aq --filter "label=$LABEL" | xargs -r docker rm -f >/dev/null
  docker image ls -q --filter "label=$LABEL.test" | sort -u | xargs -r docker rmi -f >/dev/null 2>&1
  if ((ALL_IMAGES)); then
    step "removing the service images and the base images prepare.sh built"
    docker image ls -q --filter "reference=ml-model-service" | sort -u | xargs -r docker rmi -f >/dev/null 2>&1
    docker image ls -q --filter "label=$LABEL.base" | sort -u | xargs -r docker rmi -f >/dev/null 2>&1
  fi
fi

stop_pid_file "$DIR/registry.pid" "the local registry"
rm -rf "$DIR/registry" "$DIR/registry.yml"
stop_pid_file "$DIR/ticker.pid" "the healthcheck ticker"
stop_pid_file "$DIR/podman-service.pid" "podman's Docker API"
rm -f "$DIR/podman.sock" "$DIR/env" "$DIR/engine"
step "done"

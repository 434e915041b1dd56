#!/usr/bin/env bash
# Deploys a model-service image to the IDLE color of the Docker Compose stack, then moves live
# traffic to it (all at once, or step by step in a canary: DEPLOY_STRATEGY). Run on the server, in
# the folder that holds the three compose files:
#
#   scripts/deploy_compose.sh ghcr.io/<owner>/<repo>/model-service:<commit-sha>
#
# Everything after the pull is ONE command of the deploy CLI:
#   deploy release --backend=compose --image=<image> --switch
# which, holding the stack's lock (so no manual switch can slip in), recreates only the idle
# color on the new image with the live color's model (BLUE_MODEL/GREEN_MODEL in .env), waits
# until it is healthy and on /preview/, runs the switch's gates (health, a real prediction, the
# same input signature as the live color), moves the live route's links with renames (no nginx reload),
# verifies through nginx, and writes every step to the history. If the switch does not happen,
# the idle color is put back on what it ran before. `deploy rollback --backend=compose` (or this
# script's CLI with `rollback`) undoes a deploy, as after any switch.
#
# With DEPLOY_STRATEGY=canary it is two commands of the CLI instead, each under the same lock and
# into the same history: `deploy release --backend=compose --image=<image>` (the idle color only),
# then `deploy canary --backend=compose --color=<that color>`, which moves live traffic to it step
# by step (renames of the slot links, no reload), judges each interval against the stable color
# (errors, latency, the model's answers), and promotes it, or moves all live traffic back and exits
# non-zero with the verdict. After a failed canary the idle color keeps the rejected image (it has no
# live traffic); the next deploy replaces it.
#
# Where the CLI runs (DEPLOY_CLI):
#   host       this folder is a checkout with node_modules: node runs libs/deploy's CLI;
#   container  in a one-off container with the Docker socket, the host's docker CLI and its
#              compose plugin mounted, and this folder at the same path (so the server needs Docker
#              only), from the image the LIVE color runs (already deployed and gated), or the
#              image DEPLOY_CLI_IMAGE names; never from the new image, which has passed no gate
#              yet. It runs as the user who runs this script, with the Docker socket's group;
#   auto       (default) host when it can, else container.
#
# With no stack running yet (no nginx container), it starts the whole stack with the image on
# both colors instead (`up -d`), then shows the CLI's status.
#
# Environment (all optional):
#   DEPLOY_DIR       folder with docker-compose*.yml, deploy/nginx/nginx.conf and
#                    deploy/deployment.json (default: the folder above this script)
#   DEPLOY_CLI       auto (default) | host | container
#   HEALTH_TIMEOUT   seconds to wait for the new container to turn healthy (default 180)
#   EXPECT_VERSION   refuse to switch unless the new image serves this model version (e.g. v1.1.0)
#   DEPLOY_MODEL     the model the idle color serves with the new image, a path in the image (e.g.
#                    /app/models/v1.1.0/model.onnx); default: the live color's model
#   DEPLOY_PULL      always (default) | never (an image built on this host)
#   DEPLOY_CLI_IMAGE the image the CLI runs from in container mode (pin it by digest); default: the
#                    image of the live color's container
#   BLUEGREEN_STATE_DIR  the deploy CLI's state folder (lock, history; default .bluegreen here)
#   DEPLOY_STRATEGY  switch (default): all live traffic at once after the gates | canary: step by
#                    step, judged at each step, rolled back by itself when an analysis fails
#   CANARY_STEPS     the canary's weights in percent, rising to 100 (e.g. 5,25,50,100; default:
#                    deploy/deployment.json's canary.steps)
#   CANARY_INTERVAL  seconds each step is analysed (default: the spec's canary.intervalSeconds)
set -euo pipefail

readonly COMPOSE_FILES=(-f docker-compose.yml -f docker-compose.blue.yml -f docker-compose.green.yml)
readonly ROUTER_SERVICE=nginx
# A color's Compose service (and container): the prefix and the color (deploy/deployment.json).
readonly COLOR_SERVICE_PREFIX=ml-service-
# The deploy CLI inside the image (the Dockerfile builds libs/deploy next to the service).
readonly IMAGE_CLI=/app/dist/node_modules/@mlbg/deploy/src/cli/main.js

HEALTH_TIMEOUT=${HEALTH_TIMEOUT:-180}
EXPECT_VERSION=${EXPECT_VERSION:-}
DEPLOY_PULL=${DEPLOY_PULL:-always}
DEPLOY_CLI=${DEPLOY_CLI:-auto}
DEPLOY_STRATEGY=${DEPLOY_STRATEGY:-switch}
CANARY_STEPS=${CANARY_STEPS:-}
CANARY_INTERVAL=${CANARY_INTERVAL:-}
IMAGE=''
CHECKOUT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
COMPOSE_CMD=()
# The image the CLI runs from in container mode (see deployer_image), chosen in main.
CLI_IMAGE=''

step() { printf '\n==> %s\n' "$*"; }
info() { printf '    %s\n' "$*"; }
fail() {
  printf '\nDEPLOY FAILED: %s\n' "$*" >&2
  exit 1
}

usage() {
  printf 'usage: %s <image-ref>\n  e.g. %s ghcr.io/acme/ml-models/model-service:3f2c1e0\n' "$0" "$0" >&2
  exit 2
}

compose() { "${COMPOSE_CMD[@]}" "${COMPOSE_FILES[@]}" "$@"; }

pull_image() {
  if [[ $DEPLOY_PULL == never ]]; then
    docker image inspect "$IMAGE" >/dev/null 2>&1 || fail "DEPLOY_PULL=never but there is no local image $IMAGE."
    info "using the local image $IMAGE (DEPLOY_PULL=never)"
  else
    docker pull "$IMAGE" || fail "could not pull $IMAGE: check the name and that this host is logged in to its registry."
  fi
}

# Which way the CLI runs; see DEPLOY_CLI above.
cli_mode() {
  case $DEPLOY_CLI in
    host | container) echo "$DEPLOY_CLI" ;;
    auto)
      if command -v node >/dev/null && [[ -f $CHECKOUT/libs/deploy/src/cli/main.ts && -d $CHECKOUT/node_modules/@swc-node/register ]]; then
        echo host
      else
        echo container
      fi
      ;;
    *) fail "DEPLOY_CLI must be auto, host or container, not '$DEPLOY_CLI'." ;;
  esac
}

# The docker CLI's compose plugin, where Docker's packages put it (it is mounted into the container).
compose_plugin() {
  local dir
  for dir in "${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins" /usr/local/lib/docker/cli-plugins /usr/local/libexec/docker/cli-plugins /usr/lib/docker/cli-plugins /usr/libexec/docker/cli-plugins; do
    if [[ -x $dir/docker-compose ]]; then
      echo "$dir/docker-compose"
      return 0
    fi
  done
  return 1
}

# Runs the deploy CLI with the given arguments, from this folder (its workspace root).
deploy_cli() {
  local mode
  mode=$(cli_mode)
  if [[ $mode == host ]]; then
    SWC_NODE_PROJECT=$CHECKOUT/libs/deploy/tsconfig.lib.json node -r "$CHECKOUT/node_modules/@swc-node/register" "$CHECKOUT/libs/deploy/src/cli/main.ts" "$@"
    return
  fi
  local plugin socket=/var/run/docker.sock cli_image
  plugin=$(compose_plugin) || fail "the CLI runs in a container here (no node checkout), which needs docker's compose plugin (docker compose); install it, or run this from a checkout with node_modules."
  if [[ ${DOCKER_HOST:-} == unix://* ]]; then socket=${DOCKER_HOST#unix://}; fi
  [[ -S $socket ]] || fail "no Docker socket at $socket (set DOCKER_HOST=unix://<path>)."
  cli_image=${CLI_IMAGE:?the deployer image is chosen before the CLI runs}
  # As this script's user (the state folder stays theirs), with the socket's group to reach Docker.
  docker run --rm --network host --user "$(id -u):$(id -g)" --group-add "$(stat -c %g "$socket")" \
    -e HOME=/tmp -e "BLUEGREEN_USER=$(id -un)" \
    -v "$socket:/var/run/docker.sock" \
    -v "$(command -v docker):/usr/local/bin/docker:ro" \
    -v "$plugin:/usr/local/lib/docker/cli-plugins/docker-compose:ro" \
    -v "$PWD:$PWD" -w "$PWD" \
    -e DOCKER_HOST=unix:///var/run/docker.sock -e BLUEGREEN_COMPOSE_COMMAND='docker compose' \
    ${BLUEGREEN_STATE_DIR:+-e "BLUEGREEN_STATE_DIR=$BLUEGREEN_STATE_DIR"} \
    "$cli_image" node "$IMAGE_CLI" "$@"
}

# The image the CLI runs from in container mode: DEPLOY_CLI_IMAGE, else the live color's (by id,
# so a tag moved since cannot change it). Never the new image: it has passed no gate yet.
deployer_image() {
  if [[ -n ${DEPLOY_CLI_IMAGE:-} ]]; then
    [[ $DEPLOY_CLI_IMAGE =~ ^[A-Za-z0-9][A-Za-z0-9._/:@+-]*$ ]] || fail "DEPLOY_CLI_IMAGE '$DEPLOY_CLI_IMAGE' is not an image reference."
    echo "$DEPLOY_CLI_IMAGE"
    return 0
  fi
  local live container image
  # nginx's live link points at the live color's folder of replica sockets (blue, green).
  live=$(compose exec -T "$ROUTER_SERVICE" readlink /run/mlbg/live 2>/dev/null) || live=''
  [[ $live == blue || $live == green ]] ||
    fail "cannot tell which color is live (nginx's live link), so not which image to run the deploy CLI from; set DEPLOY_CLI_IMAGE to a deployer image (by digest), or run this from a checkout (DEPLOY_CLI=host)."
  container=$(compose ps -q "$COLOR_SERVICE_PREFIX$live" 2>/dev/null) || container=''
  image=$(docker inspect --format '{{.Image}}' "${container:-$COLOR_SERVICE_PREFIX$live}" 2>/dev/null) ||
    fail "cannot read the image of the live color's container ($COLOR_SERVICE_PREFIX$live); set DEPLOY_CLI_IMAGE to a deployer image (by digest)."
  echo "$image"
}

# Sets NAME=value in .env (read by Compose), keeping every other line.
set_env_var() {
  local name=$1 value=$2 tmp
  tmp=$(mktemp .env.XXXXXX)
  { if [[ -f .env ]]; then grep -v "^$name=" .env || true; fi; printf '%s=%s\n' "$name" "$value"; } >"$tmp"
  mv -f "$tmp" .env
}

bootstrap() {
  step "No nginx container: starting the whole stack with $IMAGE on both colors"
  set_env_var BLUE_IMAGE "$IMAGE"
  set_env_var GREEN_IMAGE "$IMAGE"
  # nginx's access log folder (bind-mounted; podman refuses a missing source)
  mkdir -p deploy/logs/nginx
  BLUE_IMAGE=$IMAGE GREEN_IMAGE=$IMAGE compose up -d --no-build
  step "The stack as the deploy CLI sees it"
  # Both colors run the new image now: it is the live one.
  if [[ $(cli_mode) == container ]]; then CLI_IMAGE=$(deployer_image); fi
  deploy_cli status --backend=compose || fail "the stack did not come up healthy (see the status above and \`docker logs ml-service-blue\`)."
}

main() {
  [[ $# -eq 1 && -n $1 ]] || usage
  IMAGE=$1
  [[ $IMAGE =~ ^[A-Za-z0-9][A-Za-z0-9._/:@+-]*$ ]] || fail "'$IMAGE' is not an image reference."
  [[ $HEALTH_TIMEOUT =~ ^[0-9]+$ && $HEALTH_TIMEOUT -gt 0 ]] || fail "HEALTH_TIMEOUT must be a number of seconds, not '$HEALTH_TIMEOUT'."
  [[ $DEPLOY_STRATEGY == switch || $DEPLOY_STRATEGY == canary ]] || fail "DEPLOY_STRATEGY must be switch or canary, not '$DEPLOY_STRATEGY'."
  [[ -z $CANARY_STEPS || $CANARY_STEPS =~ ^[0-9]+(,[0-9]+)*$ ]] || fail "CANARY_STEPS must be weights in percent separated by commas (e.g. 5,25,50,100), not '$CANARY_STEPS'."
  [[ -z $CANARY_INTERVAL || ($CANARY_INTERVAL =~ ^[0-9]+$ && $CANARY_INTERVAL -gt 0) ]] || fail "CANARY_INTERVAL must be a number of seconds, not '$CANARY_INTERVAL'."

  local dir
  dir=${DEPLOY_DIR:-$CHECKOUT}
  cd "$dir" || fail "DEPLOY_DIR $dir does not exist."
  local file
  for file in docker-compose.yml docker-compose.blue.yml docker-compose.green.yml deploy/nginx/nginx.conf deploy/deployment.json; do
    [[ -f $file ]] || fail "$PWD/$file is missing: run this in the folder with the compose files (or set DEPLOY_DIR)."
  done
  command -v docker >/dev/null || fail "docker is not installed on this host."
  if docker compose version >/dev/null 2>&1; then
    COMPOSE_CMD=(docker compose)
  elif command -v docker-compose >/dev/null; then
    COMPOSE_CMD=(docker-compose)
  else
    fail "neither 'docker compose' nor docker-compose is installed."
  fi

  step "Deploying $IMAGE from $PWD with ${COMPOSE_CMD[*]} (deploy CLI: $(cli_mode))"
  pull_image
  if [[ -z $(compose ps -q "$ROUTER_SERVICE" 2>/dev/null) ]]; then
    bootstrap
    return 0
  fi
  # Chosen here, outside any `||`, so a failure stops the script at once.
  if [[ $(cli_mode) == container ]]; then
    CLI_IMAGE=$(deployer_image)
    info "the deploy CLI runs from $CLI_IMAGE (DEPLOY_CLI_IMAGE, or else the image of the live color), not from the new image"
  fi
  if [[ $DEPLOY_STRATEGY == canary ]]; then
    canary_deploy
    return 0
  fi
  step "Releasing $IMAGE to the idle color and switching to it (deploy release --backend=compose --switch)"
  local args=(release --backend=compose "--image=$IMAGE" --switch "--timeout=$HEALTH_TIMEOUT")
  if [[ -n ${DEPLOY_MODEL:-} ]]; then args+=("--model=$DEPLOY_MODEL"); fi
  if [[ -n $EXPECT_VERSION ]]; then args+=("--expect-version=$EXPECT_VERSION"); fi
  deploy_cli "${args[@]}" || fail "$IMAGE is not live (the CLI said why above; live traffic stayed on the color that served it)."
  step "Done: $IMAGE is live. Undo with: deploy rollback --backend=compose"
}

# DEPLOY_STRATEGY=canary: the release to the idle color, then a canary of that color.
canary_deploy() {
  step "Releasing $IMAGE to the idle color (deploy release --backend=compose)"
  local args=(release --backend=compose "--image=$IMAGE" "--timeout=$HEALTH_TIMEOUT")
  if [[ -n ${DEPLOY_MODEL:-} ]]; then args+=("--model=$DEPLOY_MODEL"); fi
  deploy_cli "${args[@]}" || fail "$IMAGE is not live (the CLI said why above; live traffic stayed on the color that served it)."
  # The release went to the idle color, which the preview link points at.
  local color
  color=$(compose exec -T "$ROUTER_SERVICE" readlink /run/mlbg/preview) || color=''
  [[ $color == blue || $color == green ]] || fail "cannot tell which color was released (nginx's preview link says '$color'); live traffic stayed where it was."
  step "Canary of $IMAGE on $color (deploy canary --backend=compose --color=$color)"
  local canary=(canary --backend=compose "--color=$color")
  if [[ -n $CANARY_STEPS ]]; then canary+=("--steps=$CANARY_STEPS"); fi
  if [[ -n $CANARY_INTERVAL ]]; then canary+=("--interval=${CANARY_INTERVAL}s"); fi
  if [[ -n $EXPECT_VERSION ]]; then canary+=("--expect-version=$EXPECT_VERSION"); fi
  deploy_cli "${canary[@]}" ||
    fail "$IMAGE is not live: its canary on $color did not pass (the CLI said why above: a failed analysis moved all live traffic back to the stable color)."
  step "Done: $IMAGE is live after its canary. Undo with: deploy rollback --backend=compose"
}

main "$@"

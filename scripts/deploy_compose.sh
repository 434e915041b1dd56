#!/usr/bin/env bash
# Deploys a model-service image to the IDLE color of the Docker Compose stack, then moves live
# traffic to it. Run on the server, in the folder that holds the three compose files:
#
#   scripts/deploy_compose.sh ghcr.io/<owner>/<repo>/model-service:<commit-sha>
#
#   1. find the live color: the target of nginx's live.sock symlink; the other color is idle;
#   2. pull the image and recreate ONLY the idle color's service with it (BLUE_IMAGE/GREEN_IMAGE,
#      remembered in .env so a later `docker compose up -d` keeps it); live traffic is untouched;
#   3. wait until the idle container's healthcheck says healthy;
#   4. smoke-test it through nginx's preview route: GET /preview/health, POST /preview/predict;
#   5. switch: rename a new live.sock symlink over the old one inside the nginx container (one
#      rename(2): no nginx reload, no dropped request), and point preview.sock at the old color;
#   6. verify through nginx that the new color answers /health and /predict.
#   On any failure after step 2 it puts back what it changed (the live route, the idle color's
#   image) and exits 1 with a message that says what failed.
#
# This script is the one place the Compose deploy moves the symlinks, so the server needs only
# docker (with `docker compose` or docker-compose) and curl: no node, no checkout.
#
# With no stack running yet (no nginx container), it starts the whole stack with the image on
# both colors instead, and checks the live route.
#
# Environment (all optional):
#   DEPLOY_DIR       folder with docker-compose*.yml and deploy/nginx/nginx.conf (default: the
#                    folder above this script)
#   ROUTER_URL       nginx as this host reaches it (default http://127.0.0.1:80)
#   HEALTH_TIMEOUT   seconds to wait for the new container to turn healthy (default 180)
#   POLL_INTERVAL    seconds between health polls (default 3)
#   VERIFY_ATTEMPTS  good answers in a row required through nginx after the switch (default 3)
#   EXPECT_VERSION   refuse to switch unless the idle color serves this model version (e.g. v1.1.0)
#   DEPLOY_MODEL     the model the idle color serves, a path inside the image (e.g.
#                    /app/models/v1.1.0/model.onnx); default: the live color's, so a deploy of
#                    new code never changes the model version clients get
#   DEPLOY_PULL      always (default) | never (an image built on this host)
#   DEPLOY_LOCK      lock file so two deploys never interleave (default /tmp/ml-model-service-deploy.lock)
set -euo pipefail

readonly COMPOSE_FILES=(-f docker-compose.yml -f docker-compose.blue.yml -f docker-compose.green.yml)
readonly ROUTER_SERVICE=nginx
# Where the socket volume is mounted in every container (libs/deploy: COMPOSE_SOCKET_DIR).
readonly SOCKET_DIR=/run/mlbg

ROUTER_URL=${ROUTER_URL:-http://127.0.0.1:80}
HEALTH_TIMEOUT=${HEALTH_TIMEOUT:-180}
POLL_INTERVAL=${POLL_INTERVAL:-3}
VERIFY_ATTEMPTS=${VERIFY_ATTEMPTS:-3}
EXPECT_VERSION=${EXPECT_VERSION:-}
DEPLOY_PULL=${DEPLOY_PULL:-always}
DEPLOY_LOCK=${DEPLOY_LOCK:-/tmp/ml-model-service-deploy.lock}

# What the exit handler must undo.
SWITCHED=0
RECREATED=0
DEPLOY_MODEL=${DEPLOY_MODEL:-}
IMAGE='' LIVE='' IDLE='' LIVE_VERSION='' NEW_VERSION='' PREVIOUS_IMAGE='' PREVIOUS_ENV_LINE='' WORK='' ENV_FILE=''
MODEL='' PREVIOUS_MODEL='' PREVIOUS_MODEL_LINE=''
SMOKE_BODY='' PROBLEM='' HTTP_CODE='' HTTP_COLOR='' HTTP_VERSION='' HTTP_BODY=''
COMPOSE_CMD=()

step() { printf '\n==> %s\n' "$*"; }
info() { printf '    %s\n' "$*"; }
warn() { printf '    WARNING: %s\n' "$*" >&2; }
fail() {
  printf '\nDEPLOY FAILED: %s\n' "$*" >&2
  exit 1
}

usage() {
  printf 'usage: %s <image-ref>\n  e.g. %s ghcr.io/acme/ml-models/model-service:3f2c1e0\n' "$0" "$0" >&2
  exit 2
}

other_color() { if [[ $1 == blue ]]; then echo green; else echo blue; fi; }
service_of() { printf 'ml-service-%s' "$1"; }
image_var_of() { if [[ $1 == blue ]]; then echo BLUE_IMAGE; else echo GREEN_IMAGE; fi; }
model_var_of() { if [[ $1 == blue ]]; then echo BLUE_MODEL; else echo GREEN_MODEL; fi; }

compose() { "${COMPOSE_CMD[@]}" "${COMPOSE_FILES[@]}" "$@"; }
in_router() { compose exec -T "$ROUTER_SERVICE" "$@"; }

# Points a route (live|preview) at a color: a new relative symlink renamed over the old one.
point_route() {
  local route=$1 color=$2
  in_router sh -c "cd $SOCKET_DIR && rm -f $route.sock.next && ln -s $color.sock $route.sock.next && mv -f $route.sock.next $route.sock"
}

# The color a route points at, read from its symlink inside the nginx container.
route_color() {
  local target
  target=$(in_router readlink "$SOCKET_DIR/$1.sock" | tr -d '\r') || return 1
  case $target in
    blue.sock) echo blue ;;
    green.sock) echo green ;;
    *) return 1 ;;
  esac
}

# Sets NAME=value in .env (read by Compose), keeping every other line.
set_env_var() {
  local name=$1 value=$2 tmp
  tmp=$(mktemp "$ENV_FILE.XXXXXX")
  { if [[ -f $ENV_FILE ]]; then grep -v "^$name=" "$ENV_FILE" || true; fi; printf '%s=%s\n' "$name" "$value"; } >"$tmp"
  mv -f "$tmp" "$ENV_FILE"
}
restore_env_line() {
  local name=$1 line=$2 tmp
  tmp=$(mktemp "$ENV_FILE.XXXXXX")
  { if [[ -f $ENV_FILE ]]; then grep -v "^$name=" "$ENV_FILE" || true; fi; if [[ -n $line ]]; then printf '%s\n' "$line"; fi; } >"$tmp"
  mv -f "$tmp" "$ENV_FILE"
}

container_of() { compose ps -q "$(service_of "$1")" | head -n 1; }

# The MODEL_PATH a color's container runs with (empty when there is no container).
model_of() {
  local id
  id=$(container_of "$1")
  [[ -n $id ]] || return 0
  docker inspect --format '{{range .Config.Env}}{{println .}}{{end}}' "$id" | sed -n 's/^MODEL_PATH=//p' | head -n 1
}

# Recreates only the idle color, with the image and model given (an empty model: the file's default).
recreate_idle() {
  local image=$1 model=$2 vars
  vars=("$(image_var_of "$IDLE")=$image")
  if [[ -n $model ]]; then vars+=("$(model_var_of "$IDLE")=$model"); fi
  env "${vars[@]}" "${COMPOSE_CMD[@]}" "${COMPOSE_FILES[@]}" up -d --no-deps --no-build --force-recreate "$(service_of "$IDLE")"
}

# Waits (bounded) until a color's freshly created container reports healthy. A process that
# exits at start is restarted by `restart: unless-stopped`, so it is seen running again between
# polls: a restart count above 0 is that failure, not a slow start.
wait_healthy() {
  local color=$1 deadline=$((SECONDS + HEALTH_TIMEOUT)) id state restarts
  while :; do
    id=$(container_of "$color")
    if [[ -n $id ]]; then
      state=$(docker inspect --format '{{.State.Status}}/{{if .State.Health}}{{.State.Health.Status}}{{else}}no-healthcheck{{end}}/{{.RestartCount}}' "$id")
      restarts=${state##*/}
      state=${state%/*}
      if [[ $state == restarting/* ]] || ((restarts > 0)); then
        show_logs "$color"
        fail "$(service_of "$color") keeps restarting (restarted ${restarts} time(s)): its process exits at start; see its log above."
      fi
      case $state in
        running/healthy) info "$(service_of "$color") is healthy"; return 0 ;;
        running/unhealthy) show_logs "$color"; fail "$(service_of "$color") turned unhealthy: its /health did not answer 200." ;;
        exited/* | dead/*) show_logs "$color"; fail "$(service_of "$color") stopped ($state) instead of starting." ;;
      esac
    else
      state=no-container
    fi
    if ((SECONDS >= deadline)); then
      show_logs "$color"
      fail "$(service_of "$color") was not healthy after ${HEALTH_TIMEOUT}s (last state: $state)."
    fi
    info "waiting for $(service_of "$color"): $state"
    sleep "$POLL_INTERVAL"
  done
}

show_logs() {
  local id
  id=$(container_of "$1" 2>/dev/null || true)
  if [[ -n $id ]]; then
    printf '    --- last log lines of %s ---\n' "$(service_of "$1")" >&2
    docker logs --tail 30 "$id" 2>&1 | sed 's/^/    | /' >&2 || true
  fi
}

# One request through nginx. Sets HTTP_CODE, HTTP_COLOR and HTTP_VERSION (from the X-Color and
# X-Model-Version headers every answer of the service carries) and HTTP_BODY.
http() {
  local method=$1 path=$2 args
  args=(-sS --max-time 10 -D "$WORK/headers" -o "$WORK/body" -w '%{http_code}')
  if [[ $method == POST ]]; then
    args+=(-X POST -H 'Content-Type: application/json' --data-binary "$SMOKE_BODY")
  fi
  : >"$WORK/headers"
  : >"$WORK/body"
  HTTP_CODE=$(curl "${args[@]}" "$ROUTER_URL$path" 2>"$WORK/curl.err" || true)
  HTTP_CODE=${HTTP_CODE:-000}
  HTTP_COLOR=$(header x-color)
  HTTP_VERSION=$(header x-model-version)
  HTTP_BODY=$(head -c 400 "$WORK/body")
}
header() { grep -i "^$1:" "$WORK/headers" | tail -n 1 | cut -d: -f2- | tr -d ' \r' || true; }

# Checks one answer through nginx: 200, from the expected color (and version); sets PROBLEM.
expect_answer() {
  local method=$1 path=$2 color=$3 version=${4:-}
  http "$method" "$path"
  if [[ $HTTP_CODE != 200 ]]; then
    PROBLEM="$method $path answered HTTP $HTTP_CODE${HTTP_BODY:+: $HTTP_BODY}$(head -c 200 "$WORK/curl.err" | sed "s/^/ (curl: /;s/$/)/")"
    return 1
  fi
  if [[ $HTTP_COLOR != "$color" ]]; then
    PROBLEM="$method $path was answered by color '${HTTP_COLOR:-none}', expected $color"
    return 1
  fi
  if [[ -n $version && $HTTP_VERSION != "$version" ]]; then
    PROBLEM="$method $path answered model version '${HTTP_VERSION:-none}', expected $version"
    return 1
  fi
  if [[ $method == POST && $HTTP_BODY != *'"predictions"'* ]]; then
    PROBLEM="$method $path answered 200 without predictions: $HTTP_BODY"
    return 1
  fi
  PROBLEM=
}

# `{"features": [[1], [2], [3]]}` (the original README's request), widened to the model's feature count.
smoke_body() {
  local count=$1 value i row rows='' separator=''
  for value in 1 2 3; do
    row=$value
    for ((i = 1; i < count; i++)); do row+=", $value"; done
    rows+="${separator}[${row}]"
    separator=', '
  done
  printf '{"features": [%s]}' "$rows"
}
feature_count() { grep -o '"feature_count":[0-9]*' <<<"$1" | head -n 1 | cut -d: -f2 || true; }

on_exit() {
  local rc=$?
  set +e
  if ((rc != 0)); then
    if ((SWITCHED)); then
      step "Rolling back: live traffic back to $LIVE"
      if point_route live "$LIVE" && point_route preview "$IDLE"; then
        if expect_answer GET /health "$LIVE"; then
          info "live.sock -> $LIVE.sock again; nginx answers from $LIVE ($HTTP_VERSION)"
        else
          warn "live.sock -> $LIVE.sock again, but it does not answer either: $PROBLEM"
        fi
      else
        printf '\nROLLBACK FAILED: live.sock could not be changed. Point live traffic back by hand:\n  %s\n' \
          "${COMPOSE_CMD[*]} ${COMPOSE_FILES[*]} exec -T $ROUTER_SERVICE sh -c 'cd $SOCKET_DIR && rm -f live.sock.next && ln -s $LIVE.sock live.sock.next && mv -f live.sock.next live.sock'" >&2
      fi
    fi
    if ((RECREATED)); then
      step "Putting $(service_of "$IDLE") back on its previous image ${PREVIOUS_IMAGE:-(unknown)} and model ${PREVIOUS_MODEL:-(the compose file default)}"
      restore_env_line "$(image_var_of "$IDLE")" "$PREVIOUS_ENV_LINE"
      restore_env_line "$(model_var_of "$IDLE")" "$PREVIOUS_MODEL_LINE"
      if [[ -n $PREVIOUS_IMAGE ]]; then
        recreate_idle "$PREVIOUS_IMAGE" "$PREVIOUS_MODEL" ||
          warn "could not recreate $(service_of "$IDLE") with $PREVIOUS_IMAGE; it still runs $IMAGE"
      fi
    fi
    if [[ -n $LIVE ]]; then
      printf '\nDEPLOY OF %s FAILED (exit %s); live traffic is on %s.\n' "$IMAGE" "$rc" "$LIVE" >&2
    fi
  fi
  [[ -n $WORK ]] && rm -rf "$WORK"
  exit "$rc"
}

bootstrap() {
  step "No nginx container: starting the whole stack with $IMAGE on both colors"
  pull_image
  set_env_var BLUE_IMAGE "$IMAGE"
  set_env_var GREEN_IMAGE "$IMAGE"
  BLUE_IMAGE=$IMAGE GREEN_IMAGE=$IMAGE compose up -d --no-build
  wait_healthy blue
  wait_healthy green
  step "Verifying through nginx ($ROUTER_URL)"
  local live
  live=$(route_color live) || fail "nginx's live.sock does not point at blue.sock or green.sock."
  expect_answer GET /health "$live" || fail "the live route does not answer: $PROBLEM"
  step "Done: the stack runs $IMAGE; live is $live ($HTTP_VERSION)."
}

pull_image() {
  if [[ $DEPLOY_PULL == never ]]; then
    docker image inspect "$IMAGE" >/dev/null 2>&1 || fail "DEPLOY_PULL=never but there is no local image $IMAGE."
    info "using the local image $IMAGE (DEPLOY_PULL=never)"
  else
    docker pull "$IMAGE" || fail "could not pull $IMAGE: check the name and that this host is logged in to its registry."
  fi
}

main() {
  [[ $# -eq 1 && -n $1 ]] || usage
  IMAGE=$1
  [[ $IMAGE =~ ^[A-Za-z0-9][A-Za-z0-9._/:@+-]*$ ]] || fail "'$IMAGE' is not an image reference."

  local dir
  dir=${DEPLOY_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
  cd "$dir" || fail "DEPLOY_DIR $dir does not exist."
  ENV_FILE=$PWD/.env
  local file
  for file in docker-compose.yml docker-compose.blue.yml docker-compose.green.yml deploy/nginx/nginx.conf; do
    [[ -f $file ]] || fail "$PWD/$file is missing: run this in the folder with the compose files (or set DEPLOY_DIR)."
  done
  command -v docker >/dev/null || fail "docker is not installed on this host."
  command -v curl >/dev/null || fail "curl is not installed on this host (it checks the routes through nginx)."
  if docker compose version >/dev/null 2>&1; then
    COMPOSE_CMD=(docker compose)
  elif command -v docker-compose >/dev/null; then
    COMPOSE_CMD=(docker-compose)
  else
    fail "neither 'docker compose' nor docker-compose is installed."
  fi
  WORK=$(mktemp -d)
  trap on_exit EXIT
  if command -v flock >/dev/null; then
    exec 9>"$DEPLOY_LOCK"
    flock -n 9 || fail "another deploy holds $DEPLOY_LOCK; wait for it to finish."
  fi

  step "Deploying $IMAGE from $PWD with ${COMPOSE_CMD[*]}"
  if [[ -z $(compose ps -q "$ROUTER_SERVICE" 2>/dev/null) ]]; then
    bootstrap
    return 0
  fi

  step "1/6 Finding the live color (nginx's live.sock)"
  LIVE=$(route_color live) || fail "could not read live.sock in the nginx container, or it points at neither blue.sock nor green.sock."
  IDLE=$(other_color "$LIVE")
  local idle_service image_var model_var live_features
  idle_service=$(service_of "$IDLE")
  image_var=$(image_var_of "$IDLE")
  model_var=$(model_var_of "$IDLE")
  SMOKE_BODY=$(smoke_body 1)
  if expect_answer GET /health "$LIVE"; then
    LIVE_VERSION=$HTTP_VERSION
    live_features=$(feature_count "$HTTP_BODY")
    info "live: $LIVE ($LIVE_VERSION, $live_features feature(s)); idle: $IDLE, which gets the new image"
  else
    warn "the live route does not answer ($PROBLEM); deploying to $IDLE anyway"
    info "live: $LIVE; idle: $IDLE, which gets the new image"
  fi

  # New code, same model: the idle color takes the live color's model unless DEPLOY_MODEL says
  # otherwise (each color's own default would switch clients to another model version).
  MODEL=${DEPLOY_MODEL:-$(model_of "$LIVE")}
  if [[ -z $MODEL ]]; then warn "could not read the live color's MODEL_PATH; $idle_service keeps its own model"; fi

  step "2/6 Pulling $IMAGE and recreating only $idle_service with it (model ${MODEL:-its own default})"
  pull_image
  local id
  id=$(container_of "$IDLE")
  if [[ -n $id ]]; then PREVIOUS_IMAGE=$(docker inspect --format '{{.Config.Image}}' "$id" || true); fi
  PREVIOUS_MODEL=$(model_of "$IDLE")
  PREVIOUS_ENV_LINE=$( (grep "^$image_var=" "$ENV_FILE" 2>/dev/null || true) | tail -n 1)
  PREVIOUS_MODEL_LINE=$( (grep "^$model_var=" "$ENV_FILE" 2>/dev/null || true) | tail -n 1)
  info "$idle_service ran ${PREVIOUS_IMAGE:-nothing}; $image_var=$IMAGE${MODEL:+ and $model_var=$MODEL} are kept in $ENV_FILE"
  RECREATED=1
  set_env_var "$image_var" "$IMAGE"
  if [[ -n $MODEL ]]; then set_env_var "$model_var" "$MODEL"; fi
  recreate_idle "$IMAGE" "$MODEL"

  step "3/6 Waiting for $idle_service to be healthy (at most ${HEALTH_TIMEOUT}s)"
  wait_healthy "$IDLE"

  step "4/6 Smoke-testing $IDLE through nginx's preview route"
  point_route preview "$IDLE"
  expect_answer GET /preview/health "$IDLE" || fail "smoke test: $PROBLEM"
  NEW_VERSION=$HTTP_VERSION
  local new_features
  new_features=$(feature_count "$HTTP_BODY")
  info "GET /preview/health: 200 from $IDLE, model $NEW_VERSION"
  if [[ -n $EXPECT_VERSION && $NEW_VERSION != "$EXPECT_VERSION" ]]; then
    fail "$IDLE serves model $NEW_VERSION, not EXPECT_VERSION=$EXPECT_VERSION; not switching."
  fi
  if [[ -n ${live_features:-} && -n $new_features && $new_features != "$live_features" ]]; then
    fail "$IDLE's model takes $new_features feature(s) but the live one takes $live_features: clients would break; not switching."
  fi
  SMOKE_BODY=$(smoke_body "${new_features:-1}")
  expect_answer POST /preview/predict "$IDLE" "$NEW_VERSION" || fail "smoke test: $PROBLEM"
  info "POST /preview/predict $SMOKE_BODY: 200 from $IDLE ($NEW_VERSION)"

  step "5/6 Switching live traffic: $LIVE (${LIVE_VERSION:-?}) -> $IDLE ($NEW_VERSION)"
  SWITCHED=1
  point_route live "$IDLE"
  point_route preview "$LIVE"
  info "live.sock -> $IDLE.sock, preview.sock -> $LIVE.sock (atomic renames, nginx not reloaded)"

  step "6/6 Verifying through nginx that $IDLE ($NEW_VERSION) answers"
  local attempt
  for ((attempt = 1; attempt <= VERIFY_ATTEMPTS; attempt++)); do
    expect_answer GET /health "$IDLE" "$NEW_VERSION" || fail "after the switch: $PROBLEM"
  done
  expect_answer POST /predict "$IDLE" "$NEW_VERSION" || fail "after the switch: $PROBLEM"
  info "GET /health x$VERIFY_ATTEMPTS and POST /predict: 200 from $IDLE ($NEW_VERSION)"
  SWITCHED=0
  RECREATED=0

  step "Done: live is $IDLE ($NEW_VERSION, $IMAGE); $LIVE (${LIVE_VERSION:-?}) stays up on the preview route for an instant rollback."
}

main "$@"

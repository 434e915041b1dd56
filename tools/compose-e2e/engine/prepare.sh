#!/usr/bin/env bash
# Prepares a container engine for the Compose suite (tools/compose-e2e). Idempotent: every step
# checks first and only does what is missing, so a second run takes seconds.
#
#   tools/compose-e2e/engine/prepare.sh          # then: . "$COMPOSE_E2E_ENGINE_DIR/env"
#   tools/compose-e2e/engine/prepare.sh --images-only
#                                                # packages and base images only; starts nothing
#                                                # (.ci/run runs it in the background while the
#                                                # tests run: it waits on the network, they on the CPU)
#
# - A working Docker engine already (DOCKER_HOST or /var/run/docker.sock answers, e.g. GitHub's
#   runners): only docker-compose and docker-registry are installed when missing.
# - Otherwise (this kind of machine: a Docker CLI without an engine, no image registry reachable):
#   podman from apt, configured (runc, cgroupfs, ulimits), its Docker API on a unix socket, the
#   base images the files name built from a Debian tree and imported (nothing can be pulled), and
#   a healthcheck ticker (podman runs healthchecks from systemd timers; there is no systemd here).
# - Both: a local image registry (Debian's docker-registry) on 127.0.0.1:$REGISTRY_PORT, so a
#   test can push and pull as CD does.
#
# It writes "$COMPOSE_E2E_ENGINE_DIR/env" (DOCKER_HOST, COMPOSE_E2E_ENGINE, COMPOSE_E2E_REGISTRY);
# cleanup.sh stops and removes what this started.
#
# Environment (all optional):
#   COMPOSE_E2E_ENGINE_DIR  state folder: sockets, pid files, logs, registry storage
#                           (default /tmp/mlbg-compose-engine)
#   REGISTRY_PORT           the local registry's port on 127.0.0.1 (default 5000)
#   HEALTHCHECK_TICK        seconds between healthcheck runs under podman (default 5: the files'
#                           healthcheck interval)
#   NODE_BASE_IMAGE, ROUTER_BASE_IMAGE   the names to build (default: what the Dockerfile and
#                           deploy/deployment.json use)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
readonly WORKSPACE=$PWD
readonly DIR=${COMPOSE_E2E_ENGINE_DIR:-/tmp/mlbg-compose-engine}
readonly REGISTRY_PORT=${REGISTRY_PORT:-5000}
readonly HEALTHCHECK_TICK=${HEALTHCHECK_TICK:-5}
# The images the files use: the Dockerfile's ARG NODE_IMAGE and the spec's router image.
NODE_BASE_IMAGE=${NODE_BASE_IMAGE:-$(sed -n 's/^ARG NODE_IMAGE=//p' Dockerfile)}
ROUTER_BASE_IMAGE=${ROUTER_BASE_IMAGE:-$(node -p "require('./deploy/deployment.json').router.image")}
# podman would file a short name under localhost/; the Docker API resolves it under docker.io.
qualified() {
  case $1 in
    *.*/* | *:*/* | localhost/*) echo "$1" ;;
    */*) echo "docker.io/$1" ;;
    *) echo "docker.io/library/$1" ;;
  esac
}
NODE_BASE_IMAGE=$(qualified "$NODE_BASE_IMAGE")
ROUTER_BASE_IMAGE=$(qualified "$ROUTER_BASE_IMAGE")
readonly NODE_BASE_IMAGE ROUTER_BASE_IMAGE
readonly PODMAN_SOCKET=$DIR/podman.sock
# Marks what this script built, so cleanup.sh --images can find it.
readonly BASE_LABEL=org.mlbg.compose-e2e.base
# How long a started daemon may take to answer before this script gives up (they answer in < 1 s).
readonly DAEMON_START_SECONDS=30
IMAGES_ONLY=0
[[ ${1:-} == --images-only ]] && IMAGES_ONLY=1
readonly IMAGES_ONLY

step() { printf 'engine: %s\n' "$*"; }
fail() {
  printf 'engine: FAILED: %s\n' "$*" >&2
  exit 1
}
as_root() { if [[ $(id -u) == 0 ]]; then "$@"; else sudo "$@"; fi; }

# Waits until "$@" succeeds, at most DAEMON_START_SECONDS.
wait_for() {
  local what=$1 deadline=$((SECONDS + DAEMON_START_SECONDS))
  shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
  step "$what answers"
}

alive() { [[ -f $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

apt_install() {
  local missing=() package command
  for package in "$@"; do
    command=${package%%:*}
    package=${package#*:}
    command -v "$command" >/dev/null 2>&1 || missing+=("$package")
  done
  ((${#missing[@]} == 0)) && return 0
  step "installing ${missing[*]} from apt"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
    fail "apt-get install ${missing[*]} failed; run it by hand to see why."
}

docker_answers() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

# ---- the engine -----------------------------------------------------------------------------
configure_podman() {
  # Without the ulimits every container fails with "error setting rlimits"; without cgroupfs
  # podman refuses this machine's hybrid cgroups; crun fails here on cgroups, runc works.
  local conf=/etc/containers/containers.conf
  if ! grep -qs 'mlbg compose-e2e' "$conf"; then
    if [[ -s $conf ]]; then
      as_root cp "$conf" "$conf.before-mlbg"
      step "kept the previous $conf as $conf.before-mlbg"
    fi
    step "writing $conf (runc, cgroupfs, ulimits)"
    as_root tee "$conf" >/dev/null <<'EOF'
# Written by tools/compose-e2e/engine/prepare.sh (mlbg compose-e2e): podman without systemd.
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
  fi
  # The local registry speaks plain HTTP; pulls through the Docker API read this too.
  local registries=/etc/containers/registries.conf.d/mlbg-local-registry.conf
  if ! grep -qs "127.0.0.1:$REGISTRY_PORT" "$registries"; then
    step "marking 127.0.0.1:$REGISTRY_PORT as a plain-HTTP registry ($registries)"
    printf '# Written by tools/compose-e2e/engine/prepare.sh: the test registry.\n[[registry]]\nlocation = "127.0.0.1:%s"\ninsecure = true\n' "$REGISTRY_PORT" |
      as_root tee "$registries" >/dev/null
  fi
}

start_podman_service() {
  if alive "$DIR/podman-service.pid" && curl -sf --unix-socket "$PODMAN_SOCKET" http://d/_ping >/dev/null; then
    step "podman's Docker API already runs at $PODMAN_SOCKET"
    return 0
  fi
  rm -f "$PODMAN_SOCKET"
  step "starting podman's Docker API at $PODMAN_SOCKET (log: $DIR/podman-service.log)"
  # setsid: its own process group, so a test runner's group signal does not reach it; cleanup.sh stops it.
  setsid podman system service --time=0 "unix://$PODMAN_SOCKET" >"$DIR/podman-service.log" 2>&1 </dev/null 9>&- &
  echo $! >"$DIR/podman-service.pid"
  wait_for "podman's Docker API" curl -sf --unix-socket "$PODMAN_SOCKET" http://d/_ping ||
    fail "podman system service did not answer within ${DAEMON_START_SECONDS}s; see $DIR/podman-service.log."
}

start_healthcheck_ticker() {
  if alive "$DIR/ticker.pid"; then
    step "the healthcheck ticker already runs (pid $(cat "$DIR/ticker.pid"))"
    return 0
  fi
  step "starting the healthcheck ticker: podman healthcheck run on every running container each ${HEALTHCHECK_TICK}s"
  setsid "$WORKSPACE/tools/compose-e2e/engine/tick-healthchecks.sh" "$HEALTHCHECK_TICK" >"$DIR/ticker.log" 2>&1 </dev/null 9>&- &
  echo $! >"$DIR/ticker.pid"
}

# ---- base images (podman only: nothing can be pulled here) ----------------------------------
debian_mirror() {
  local mirror
  mirror=$(grep -hs -m1 '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | head -n 1)
  [[ -n $mirror ]] || mirror=$(grep -hs -m1 '^deb ' /etc/apt/sources.list | awk '{print $2}')
  echo "${mirror:-http://deb.debian.org/debian}"
}

# A minimal Debian bookworm tree, made once and shared by both images.
readonly BASE_TREE=$DIR/debian-bookworm
ensure_base_tree() {
  local tree=$BASE_TREE
  if [[ ! -f $tree/.complete ]]; then
    rm -rf "$tree"
    step "debootstrap --variant=minbase bookworm from $(debian_mirror) (about a minute)"
    debootstrap --variant=minbase bookworm "$tree" "$(debian_mirror)" >"$DIR/debootstrap.log" 2>&1 ||
      fail "debootstrap failed; see $DIR/debootstrap.log."
    touch "$tree/.complete"
  fi
}

# A fresh copy of the base tree in $DIR/image-<name>, with the machine's CA bundle (TLS to the npm
# registry is intercepted here: npm in a container fails without it).
new_image_tree() {
  local tree=$DIR/image-$1
  ensure_base_tree
  rm -rf "$tree"
  cp -a "$BASE_TREE" "$tree"
  rm -f "$tree/.complete"
  install -D -m 644 /etc/ssl/certs/ca-certificates.crt "$tree/etc/ssl/certs/ca-certificates.crt"
}

# Installs Debian packages into an image tree: tree_apt_install <tree> <log name> <package>...
tree_apt_install() {
  local tree=$1 log=$DIR/$2-image.log
  shift 2
  cp /etc/resolv.conf "$tree/etc/resolv.conf"
  cp /etc/apt/sources.list.d/*.sources "$tree/etc/apt/sources.list.d/" 2>/dev/null || cp /etc/apt/sources.list "$tree/etc/apt/"
  # A package must not try to start a service inside the tree.
  printf '#!/bin/sh\nexit 101\n' >"$tree/usr/sbin/policy-rc.d"
  chmod +x "$tree/usr/sbin/policy-rc.d"
  chroot "$tree" sh -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $*" >"$log" 2>&1 ||
    fail "installing $* in the image tree failed; see $log."
  rm -f "$tree/usr/sbin/policy-rc.d" "$tree/etc/resolv.conf"
}

trim_tree() {
  rm -rf "$1"/var/cache/apt/* "$1"/var/lib/apt/lists/* "$1"/usr/share/doc/* "$1"/usr/share/man/* "$1"/usr/share/locale/* "$1"/tmp/* "$1"/.complete
}

build_node_image() {
  local tree=$DIR/image-node node_bin
  # The Node the project pins (.nvmrc, which the Dockerfile's tag names), not whatever node this machine has.
  node_bin=$("$WORKSPACE/.ci/install-node") || fail "could not install the pinned Node (.ci/install-node)."
  new_image_tree node
  step "building $NODE_BASE_IMAGE: Node $("$node_bin/node" --version) (.nvmrc) and this machine's npm on Debian bookworm"
  install -D "$node_bin/node" "$tree/usr/local/bin/node"
  # Node's own builds (22 and later) link libatomic, which minbase lacks (the official slim images have it).
  tree_apt_install "$tree" node libatomic1
  local npm_root
  npm_root=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
  mkdir -p "$tree/usr/local/lib/node_modules"
  cp -a "$npm_root" "$tree/usr/local/lib/node_modules/npm"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$tree/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$tree/usr/local/bin/npx"
  # The user `node`, uid/gid 1000, as in the official image.
  grep -q '^node:' "$tree/etc/group" || echo 'node:x:1000:' >>"$tree/etc/group"
  grep -q '^node:' "$tree/etc/passwd" || echo 'node:x:1000:1000::/home/node:/bin/bash' >>"$tree/etc/passwd"
  grep -q '^node:' "$tree/etc/shadow" || echo 'node:*:19000:0:99999:7:::' >>"$tree/etc/shadow"
  install -d -o 1000 -g 1000 "$tree/home/node"
  trim_tree "$tree"
  tar -C "$tree" -c . | podman import --quiet \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
    --change "LABEL $BASE_LABEL=node" \
    --change 'CMD ["node"]' - "$NODE_BASE_IMAGE" >/dev/null
  rm -rf "$tree"
}

build_router_image() {
  local tree=$DIR/image-router
  new_image_tree router
  step "building $ROUTER_BASE_IMAGE: Debian's nginx on Debian bookworm (NOT Alpine's: busybox sh, ln and mv stay untested here)"
  tree_apt_install "$tree" router nginx
  # As in the official image: nginx's logs go to the container's output (docker logs ml-nginx).
  ln -sf /dev/stdout "$tree/var/log/nginx/access.log"
  ln -sf /dev/stderr "$tree/var/log/nginx/error.log"
  trim_tree "$tree"
  tar -C "$tree" -c . | podman import --quiet \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "LABEL $BASE_LABEL=router" \
    --change 'STOPSIGNAL SIGQUIT' \
    --change 'CMD ["nginx", "-g", "daemon off;"]' - "$ROUTER_BASE_IMAGE" >/dev/null
  rm -rf "$tree"
}

base_images() {
  # Both images at once from the one base tree: the router's apt-get waits on the network while
  # the node image is copied and imported.
  local builds=() build
  if podman image exists "$NODE_BASE_IMAGE"; then step "$NODE_BASE_IMAGE is there"; else builds+=(build_node_image); fi
  if podman image exists "$ROUTER_BASE_IMAGE"; then step "$ROUTER_BASE_IMAGE is there"; else builds+=(build_router_image); fi
  if ((${#builds[@]} > 0)); then
    ensure_base_tree
    local pids=()
    for build in "${builds[@]}"; do
      "$build" &
      pids+=($!)
    done
    for pid in "${pids[@]}"; do wait "$pid" || fail "building a base image failed (its message is above)."; done
  fi
  rm -rf "$BASE_TREE"
}

# ---- the registry ---------------------------------------------------------------------------
start_registry() {
  local url=http://127.0.0.1:$REGISTRY_PORT/v2/
  if alive "$DIR/registry.pid" && curl -sf "$url" >/dev/null; then
    step "the local registry already runs at 127.0.0.1:$REGISTRY_PORT"
    return 0
  fi
  if curl -s -o /dev/null "$url"; then
    fail "something else answers on 127.0.0.1:$REGISTRY_PORT; stop it, or set REGISTRY_PORT to a free port."
  fi
  mkdir -p "$DIR/registry"
  cat >"$DIR/registry.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $DIR/registry
http:
  addr: 127.0.0.1:$REGISTRY_PORT
EOF
  step "starting the local registry at 127.0.0.1:$REGISTRY_PORT (log: $DIR/registry.log)"
  setsid docker-registry serve "$DIR/registry.yml" >"$DIR/registry.log" 2>&1 </dev/null 9>&- &
  echo $! >"$DIR/registry.pid"
  wait_for "the registry" curl -sf "$url" || fail "docker-registry did not answer within ${DAEMON_START_SECONDS}s; see $DIR/registry.log."
}

main() {
  mkdir -p "$DIR"
  # One preparation at a time (.ci/run starts one early, in the background; the suite's global
  # setup runs another): the second waits here, then finds everything done. The daemons started
  # below close the lock's descriptor (9>&-), so they do not hold it after this script exits.
  exec 9>"$DIR/prepare.lock"
  flock 9
  local started=$SECONDS engine docker_host
  command -v docker >/dev/null || fail "the docker CLI is not installed (the suite drives the engine with it, as a user would)."
  if [[ ! -f $DIR/engine ]] && docker_answers; then
    # An engine that was there before this script (not the podman it starts).
    engine=docker
    docker_host=${DOCKER_HOST:-unix:///var/run/docker.sock}
    step "using the Docker engine at $docker_host ($(docker version --format '{{.Server.Version}}'))"
    apt_install docker-compose:docker-compose docker-registry:docker-registry
    ((IMAGES_ONLY)) && return 0
  else
    engine=podman
    docker_host=unix://$PODMAN_SOCKET
    [[ $(id -u) == 0 ]] || fail "podman is run as root here (rootful containers, apt, /etc/containers); run as root."
    apt_install podman:podman runc:runc debootstrap:debootstrap docker-compose:docker-compose docker-registry:docker-registry
    configure_podman
    if ((IMAGES_ONLY)); then
      # The podman command builds and imports by itself: nothing is started, so nothing needs stopping.
      base_images
      step "base images ready in $((SECONDS - started))s (nothing started; prepare.sh without --images-only starts the engine)"
      return 0
    fi
    echo podman >"$DIR/engine"
    start_podman_service
    base_images
    start_healthcheck_ticker
  fi
  start_registry
  cat >"$DIR/env" <<EOF
export DOCKER_HOST=$docker_host
export COMPOSE_E2E_ENGINE=$engine
export COMPOSE_E2E_REGISTRY=127.0.0.1:$REGISTRY_PORT
EOF
  step "ready in $((SECONDS - started))s: . $DIR/env   (stop everything: tools/compose-e2e/engine/cleanup.sh)"
}

main "$@"

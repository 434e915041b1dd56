import { Color, SERVICE_ENV_DEFAULTS, colorServiceEnv, otherColor } from '@mlbg/contract';
import { stringify } from 'yaml';
import type { DeploymentSpec } from '../../spec/deployment-spec';
import {
  CANARY_LINK,
  COMPOSE_SOCKET_DIR,
  INITIAL_LIVE_COLOR,
  LIVE_LINK,
  PREVIEW_LINK,
  RELAY_STATUS_PATH,
  SHADOW_RELAY_SOCKET,
  colorFolder,
  colorReplicaSocket,
  liveSlotLink,
  replicaNumbers,
  replicaSocket,
} from '../../spec/sockets';
import {
  COLOR_MODEL_VARIABLES,
  COMPOSE_ACCESS_LOG,
  COMPOSE_BASE_FILE,
  COMPOSE_NGINX_CONF,
  COMPOSE_NGINX_LOG_DIR,
  COMPOSE_NGINX_LOG_MOUNT,
  COMPOSE_RELAY_CONTAINER,
  COMPOSE_RELAY_CONTROL_SOCKET,
  COMPOSE_RELAY_DIR,
  COMPOSE_RELAY_SERVICE,
  COMPOSE_RELAY_STATE_FILE,
  composeColorFile,
} from './compose-names';
import { type GeneratedFile, GENERATE_COMMAND, headerLines } from '../generated-file';

/** Compose file format: docker-compose 1.29 reads a file without `version` as the legacy v1 format. */
const COMPOSE_VERSION = '3.8';
/** The named volume holding every unix socket, shared by nginx and both colors. */
export const SOCKET_VOLUME = 'ml-sockets';
/** The Compose service names (`docker-compose restart nginx` as in the original). */
export const ROUTER_SERVICE = 'nginx';
/** Where the image keeps the repo's files (the Dockerfile's WORKDIR). */
export const IMAGE_APP_DIR = '/app';
/** The shadow relay, built with the deploy tool into the service image (the Dockerfile's deploy:build). */
export const SHADOW_RELAY_MAIN = `${IMAGE_APP_DIR}/dist/node_modules/@mlbg/deploy/src/backends/local/shadow/relay/main.js`;
/** A color in a container listens on every interface of its own network namespace. */
export const CONTAINER_HOST = '0.0.0.0';
const HEALTHCHECK = { interval: '5s', timeout: '3s', retries: 12, start_period: '10s' } as const;
/**
 * The env var that picks a color's image, so a deploy can run a new image on the idle color only
 * (`GREEN_IMAGE=ghcr.io/...:<sha> docker compose up -d --no-deps ml-service-green`).
 */
export const COLOR_IMAGE_VARIABLES = { blue: 'BLUE_IMAGE', green: 'GREEN_IMAGE' } as const satisfies Record<Color, string>;
/**
 * What the service may write with a read-only root filesystem: nothing but its socket (in the
 * socket volume) and temporary files; /tmp is a tmpfs so a library's scratch file never fails.
 */
export const COLOR_TMPFS = ['/tmp'] as const;
/**
 * What `up --build` tags the local build as when the variable is unset. One tag per color: two
 * services building into the same tag race under BuildKit ("image already exists").
 */
export const LOCAL_IMAGE_REPOSITORY = 'ml-model-service';

/** The Compose `image:` of a color: its variable, defaulting to the local build's tag. */
export function colorImage(color: Color): string {
  return `\${${COLOR_IMAGE_VARIABLES[color]}:-${LOCAL_IMAGE_REPOSITORY}:${color}}`;
}

/** The Compose `MODEL_PATH` of a color: its variable, defaulting to the spec's model in the image. */
export function colorModel(spec: DeploymentSpec, color: Color): string {
  return `\${${COLOR_MODEL_VARIABLES[color]}:-${IMAGE_APP_DIR}/${spec.colors[color].model}}`;
}

/**
 * Renders the three Compose files of the original design: the base (network, socket volume,
 * nginx) and one per color. Each color file also makes nginx wait until that color is healthy.
 */
export function renderComposeFiles(spec: DeploymentSpec): GeneratedFile[] {
  return [
    { path: COMPOSE_BASE_FILE, content: toYaml(baseFile(spec)) },
    ...Color.options.map((color) => ({ path: composeColorFile(color), content: toYaml(colorFile(spec, color)) })),
  ];
}

/** The Compose service name of a color (also its container name): its replica 1's. */
export function colorService(spec: DeploymentSpec, color: Color): string {
  return spec.colors[color].container;
}

/**
 * The Compose service (and container) of one replica: the color's own name for replica 1, so
 * `docker logs ml-service-blue` works as in the original design; `ml-service-blue-2`, ... after it.
 */
export function replicaService(spec: DeploymentSpec, color: Color, replica: number): string {
  return replica === 1 ? colorService(spec, color) : `${colorService(spec, color)}-${replica}`;
}

/**
 * The container a service of the generated files runs as (each has a `container_name`): what
 * `docker exec` needs where `docker compose exec` takes the service.
 */
export function serviceContainer(spec: DeploymentSpec, service: string): string {
  if (service === ROUTER_SERVICE) return spec.router.container;
  if (service === COMPOSE_RELAY_SERVICE) return COMPOSE_RELAY_CONTAINER;
  // A replica's service is named as its container (replicaService).
  return service;
}

function baseFile(spec: DeploymentSpec) {
  return {
    version: COMPOSE_VERSION,
    services: {
      [ROUTER_SERVICE]: {
        image: spec.router.image,
        container_name: spec.router.container,
        command: ['sh', '-c', routerCommand(spec)],
        ports: [`${spec.router.port}:${spec.router.port}`],
        volumes: [
          `./${COMPOSE_NGINX_CONF}:/etc/nginx/nginx.conf:ro`,
          `${SOCKET_VOLUME}:${COMPOSE_SOCKET_DIR}`,
          `./${COMPOSE_NGINX_LOG_DIR}:${COMPOSE_NGINX_LOG_MOUNT}`,
        ],
        networks: [spec.network],
        restart: 'unless-stopped',
        logging: COMPOSE_LOGGING,
      },
      [COMPOSE_RELAY_SERVICE]: relayService(spec),
    },
    networks: { [spec.network]: { name: spec.network, driver: 'bridge' } },
    volumes: { [SOCKET_VOLUME]: {} },
  };
}

/** The color whose image the relay runs (the relay is part of every service image). */
const RELAY_IMAGE_COLOR: Color = INITIAL_LIVE_COLOR;

/**
 * The shadow relay (libs/deploy/src/backends/local/shadow/relay) as its own service, from the
 * service image: it listens on `shadow-relay.sock` in the socket volume (nginx's mirror reaches it
 * through the `shadow.sock` link that `deploy:shadow on` makes) and forwards a share of the copies
 * to every replica behind the `preview` link (the idle color, whichever it is). Its control socket
 * is in its own /tmp: only `docker exec` reaches it. No network: it needs none.
 */
function relayService(spec: DeploymentSpec) {
  return {
    image: colorImage(RELAY_IMAGE_COLOR),
    container_name: COMPOSE_RELAY_CONTAINER,
    command: ['node', SHADOW_RELAY_MAIN],
    environment: {
      RELAY_SOCKET: `${COMPOSE_SOCKET_DIR}/${SHADOW_RELAY_SOCKET}`,
      RELAY_CONTROL_SOCKET: COMPOSE_RELAY_CONTROL_SOCKET,
      RELAY_CAPTURE_DIR: COMPOSE_RELAY_DIR,
      RELAY_TARGET_SOCKETS: replicaNumbers(spec.replicas.perColor)
        .map((replica) => `${COMPOSE_SOCKET_DIR}/${PREVIEW_LINK}/${replicaSocket(replica)}`)
        .join('\n'),
      RELAY_PERCENT: String(spec.shadow.percent),
      RELAY_STATE_FILE: COMPOSE_RELAY_STATE_FILE,
      RELAY_QUEUE_SIZE: String(spec.shadow.queueSize),
      // nginx lets no longer body through; the relay holds none longer either.
      RELAY_MAX_BODY_BYTES: String(spec.limits.bodyLimitBytes),
    },
    logging: COMPOSE_LOGGING,
    read_only: true,
    tmpfs: [...COLOR_TMPFS],
    volumes: [`${SOCKET_VOLUME}:${COMPOSE_SOCKET_DIR}`],
    network_mode: 'none',
    healthcheck: {
      test: [
        'CMD',
        'node',
        '-e',
        `require('http').get({socketPath:'${COMPOSE_RELAY_CONTROL_SOCKET}',path:'${RELAY_STATUS_PATH}'},r=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1))`,
      ],
      ...HEALTHCHECK,
    },
    restart: 'unless-stopped',
  };
}

/**
 * nginx's container creates the initial relative symlinks (live -> blue, preview -> the other
 * color: the colors' folders) when they are missing, so a fresh volume works and a restart keeps
 * the last switch. A volume from before replicas keeps its live color (its `live.sock -> green.sock`).
 */
function routerCommand(spec: DeploymentSpec): string {
  const live = colorFolder(INITIAL_LIVE_COLOR);
  const other = colorFolder(otherColor(INITIAL_LIVE_COLOR));
  // The live slot links (and canary) start where live points, so a kept volume keeps its color.
  const slots = [...Array.from({ length: spec.canary.slots }, (_, index) => liveSlotLink(index)), CANARY_LINK].join(' ');
  // `$$`: Compose would read a single `$` as one of its own variables.
  const before = `${LIVE_LINK}.sock`;
  return [
    `cd ${COMPOSE_SOCKET_DIR}`,
    `{ [ -L ${LIVE_LINK} ] || { [ -L ${before} ] && old=$$(readlink ${before}) && ln -s "$\${old%.sock}" ${LIVE_LINK}; } || ln -s ${live} ${LIVE_LINK}; }`,
    `{ [ -L ${PREVIEW_LINK} ] || { [ "$$(readlink ${LIVE_LINK})" = ${live} ] && ln -s ${other} ${PREVIEW_LINK}; } || ln -s ${live} ${PREVIEW_LINK}; }`,
    `for link in ${slots}; do [ -L $$link ] || ln -s "$$(readlink ${LIVE_LINK})" $$link; done`,
    composeAccessLogRotation(),
    `exec nginx -g 'daemon off;'`,
  ].join(' && ');
}

/** nginx's access log on the bind mount (the dashboard and a canary read it on the host) is rotated over this. */
export const COMPOSE_ACCESS_LOG_MAX_BYTES = 64 * 1024 * 1024;
const COMPOSE_ACCESS_LOG_CHECK_SECONDS = 60;
/** What Docker keeps of each container's output: json-file (so `docker logs` works), capped. */
export const COMPOSE_LOGGING = { driver: 'json-file', options: { 'max-size': '10m', 'max-file': '3' } } as const;

/**
 * A loop in nginx's container (started before nginx): the access log over its cap is renamed to
 * `access.log.1` and nginx told to reopen its logs. `$$` is Compose's escape for `$`.
 */
export function composeAccessLogRotation(
  file = COMPOSE_ACCESS_LOG,
  maxBytes = COMPOSE_ACCESS_LOG_MAX_BYTES,
  everySeconds = COMPOSE_ACCESS_LOG_CHECK_SECONDS,
): string {
  return `{ while sleep ${everySeconds}; do [ -f ${file} ] && [ "$$(wc -c < ${file})" -gt ${maxBytes} ] && mv -f ${file} ${file}.1 && nginx -s reopen; done & }`;
}

/**
 * One file per color: a service per replica, all of the color's image and model. Replica 1 builds
 * the image and publishes the color's port (8081, as in the original design); the others start
 * after it (so the image exists when Compose creates them) and are reached through their sockets
 * only. nginx waits until every replica is healthy.
 */
function colorFile(spec: DeploymentSpec, color: Color) {
  const replicas = replicaNumbers(spec.replicas.perColor);
  const services = Object.fromEntries(
    replicas.map((replica) => [replicaService(spec, color, replica), replicaServiceOf(spec, color, replica)]),
  );
  return {
    version: COMPOSE_VERSION,
    services: {
      ...services,
      [ROUTER_SERVICE]: {
        depends_on: Object.fromEntries(replicas.map((replica) => [replicaService(spec, color, replica), { condition: 'service_healthy' }])),
      },
      // The relay runs this color's image: Compose builds (or pulls) it first.
      ...(color === RELAY_IMAGE_COLOR
        ? { [COMPOSE_RELAY_SERVICE]: { depends_on: { [colorService(spec, color)]: { condition: 'service_started' } } } }
        : {}),
    },
  };
}

function replicaServiceOf(spec: DeploymentSpec, color: Color, replica: number) {
  const { port } = spec.colors[color];
  const first = replica === 1;
  return {
    image: colorImage(color),
    ...(first
      ? { build: { context: '.', dockerfile: 'Dockerfile' } }
      : { depends_on: { [colorService(spec, color)]: { condition: 'service_started' } } }),
    container_name: replicaService(spec, color, replica),
    environment: colorServiceEnv({
      color,
      host: CONTAINER_HOST,
      port,
      modelPath: colorModel(spec, color),
      socketPath: `${COMPOSE_SOCKET_DIR}/${colorReplicaSocket(color, replica)}`,
      bodyLimitBytes: spec.limits.bodyLimitBytes,
      maxBatchRows: spec.limits.maxBatchRows,
      // Bounded (the service's default): the canary's judge and deploy:diff read them from inside the
      // container (docker exec, its own socket); nginx never serves /admin/.
      predictionLogSize: SERVICE_ENV_DEFAULTS.PREDICTION_LOG_SIZE,
      // nginx logs every request; the color logs its errors only.
      logRequests: false,
    }),
    logging: COMPOSE_LOGGING,
    // On the spec's address only (loopback by default): nobody else reaches a color past nginx.
    ...(first ? { ports: [`${publishAddress(spec.compose.colorPortsAddress)}:${port}:${port}`] } : {}),
    read_only: true,
    tmpfs: [...COLOR_TMPFS],
    volumes: [`${SOCKET_VOLUME}:${COMPOSE_SOCKET_DIR}`],
    networks: [spec.network],
    // The runtime image is a slim Node image without curl, so node itself checks /health.
    healthcheck: {
      test: ['CMD', 'node', '-e', `fetch('http://127.0.0.1:${port}/health').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))`],
      ...HEALTHCHECK,
    },
    restart: 'unless-stopped',
  };
}

function toYaml(document: object): string {
  const header = headerLines(GENERATE_COMMAND).map((line) => `# ${line}`);
  // Values double-quoted so no YAML 1.1 reader (PyYAML in docker-compose) can misread "80:80";
  // a value every replica shares (COMPOSE_LOGGING) written out in each, never as an anchor and alias.
  const body = stringify(document, {
    defaultStringType: 'QUOTE_DOUBLE',
    defaultKeyType: 'PLAIN',
    lineWidth: 0,
    aliasDuplicateObjects: false,
  });
  return `${header.join('\n')}\n${body}`;
}

/** An address as a Compose port mapping takes it: an IPv6 one in brackets. */
function publishAddress(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}

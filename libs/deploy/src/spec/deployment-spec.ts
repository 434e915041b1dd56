import { z } from 'zod';
import { Color, SERVICE_ENV_DEFAULTS } from '@mlbg/contract';
import { CanarySpec } from './canary-spec';
import { ProxySpec } from './proxy-spec';
import { ImageReference } from './release-values';

/** Where the committed spec lives, relative to the workspace root. */
export const DEPLOYMENT_SPEC_PATH = 'deploy/deployment.json';

// The original design's values, so its users can move over unchanged.
export const DEFAULT_NETWORK = 'ml-network';
export const DEFAULT_ROUTER_PORT = 80;
export const DEFAULT_ROUTER_CONTAINER = 'ml-nginx';
/** Where Compose publishes the colors' ports: this host only. */
export const DEFAULT_COLOR_PORTS_ADDRESS = '127.0.0.1';
/** nginx's stable line (an even minor: 1.30 since April 2026; 1.27 is superseded). */
export const DEFAULT_ROUTER_IMAGE = 'nginx:1.30-alpine';
export const DEFAULT_PREVIEW_PATH_PREFIX = '/preview/';
export const DEFAULT_COLORS = {
  blue: { port: 8081, model: 'models/v1.0.0/model.onnx', container: 'ml-service-blue' },
  green: { port: 8082, model: 'models/v1.1.0/model.onnx', container: 'ml-service-green' },
} as const satisfies Record<Color, { port: number; model: string; container: string }>;
// The model service's own limits (BODY_LIMIT, MAX_BATCH_ROWS); nginx must not be stricter or looser.
export const DEFAULT_BODY_LIMIT_BYTES = SERVICE_ENV_DEFAULTS.BODY_LIMIT;
export const DEFAULT_MAX_BATCH_ROWS = SERVICE_ENV_DEFAULTS.MAX_BATCH_ROWS;
/** The preflight of a switch: health several times in a row, one real prediction, the same input signature. */
export const DEFAULT_PREFLIGHT_GATES = ['health-streak', 'predict', 'signature'] as const;

const Port = z.int().min(1).max(65_535);

/**
 * The `prediction-diff` gate's defaults: tight enough that two different models never pass by
 * accident (numpy's isclose: |candidate - live| <= absolute + relative x |live|).
 */
export const DEFAULT_PREDICTION_DIFF = { absoluteTolerance: 1e-3, relativeTolerance: 1e-3, minAgreement: 0.99, minPairs: 50 } as const;
/** Shadow traffic: the share of live /predict requests copied, and the relay's queue before it drops. */
export const DEFAULT_SHADOW = { mirror: true, percent: 100, queueSize: 1000 } as const;
/** The local supervisor's policy: restart after 0.2 s, doubling up to 5 s, failed after 5 restarts in a row; a color unready for 10 s is restarted. */
export const DEFAULT_SUPERVISOR = {
  restartDelayMs: 200,
  maxRestartDelayMs: 5_000,
  maxRestarts: 5,
  stableAfterMs: 10_000,
  probeIntervalMs: 500,
  unreadyLimitMs: 10_000,
  startGraceMs: 60_000,
} as const;

/**
 * Replicas per color on the local stack and Compose (Kubernetes has its own `kubernetes.replicas`).
 * Two by default: one process of a color is an outage when it crashes (measured 1.7-2.2 s of 503s at
 * 32 clients), a second one of the same version removes it, for about 150 MB more per color
 * (docs/performance.md, "Replicas"). `mustPass`: how many of the target color's replicas must pass
 * the preflight gates before a switch or canary ("all", or a number).
 */
export const DEFAULT_REPLICAS = { perColor: 2, mustPass: 'all' } as const;
/** More than a machine's cores rarely helps; more than this is a typo. */
const MAX_REPLICAS = 32;

// Kubernetes: where the manifests install, and what each color's pods get.
export const DEFAULT_KUBERNETES_NAMESPACE = 'ml-bluegreen';
/** The local build's tag; `kind load docker-image` puts it in a kind cluster, an overlay's `images:` replaces it. */
export const DEFAULT_KUBERNETES_IMAGE = 'ml-model-service:local';
export const DEFAULT_KUBERNETES_REPLICAS = 2;
/**
 * From the bench (docs/performance.md, "Memory"), Node 26: a live color settles at 140-160 MB after heavy
 * load and peaked at 345-425 MB under 10,000-row batches at 32 connections (V8 14's young generation grows
 * to 64 MB), so the limit leaves room above that peak instead of OOM-killing a busy pod; one color keeps
 * about one core busy.
 */
export const DEFAULT_KUBERNETES_RESOURCES = {
  requests: { cpu: '250m', memory: '200Mi' },
  limits: { cpu: '1', memory: '512Mi' },
} as const;
export const DEFAULT_KUBERNETES_HOST = 'ml.example.com';
export const DEFAULT_KUBERNETES_GATEWAY = 'ml-gateway';
export const DEFAULT_KUBERNETES_INGRESS_CLASS = 'nginx';
/** prometheus-operator's Service for a Prometheus in the `monitoring` namespace (kube-prometheus-stack). */
export const DEFAULT_PROMETHEUS_URL = 'http://prometheus-operated.monitoring.svc:9090';

/** A DNS-1123 label: what Kubernetes accepts as a namespace or object name. */
const KubernetesName = z
  .string()
  .max(63)
  .regex(
    /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/,
    'must be a Kubernetes name: lowercase letters, digits and "-", starting and ending with a letter or digit',
  );
/** A Kubernetes quantity such as `250m`, `1`, `200Mi`. */
const Quantity = z.string().regex(/^\d+(\.\d+)?(m|k|Ki|M|Mi|G|Gi)?$/, 'must be a Kubernetes quantity, e.g. "250m", "1", "200Mi"');
const ResourceList = (defaults: { cpu: string; memory: string }) =>
  z.strictObject({ cpu: Quantity.default(defaults.cpu), memory: Quantity.default(defaults.memory) }).prefault({});

const DockerName = z
  .string()
  .regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, 'must be a Docker name: letters, digits, "_", "." or "-", starting with a letter or digit');

// Relative to the repo root (and to /app in the image), so the same value works locally and in Compose.
const ModelPath = z
  .string()
  .regex(
    /^(?!\/)(?!.*(^|\/)\.\.(\/|$))[\w./-]+\.onnx$/,
    'must be a relative path to an .onnx file inside the repo, e.g. "models/v1.0.0/model.onnx"',
  );

const PathPrefix = z.string().regex(/^\/[a-z0-9-]+\/$/, 'must look like "/preview/": lowercase letters, digits or "-" between two slashes');

const colorSpec = (color: Color) =>
  z
    .strictObject({
      port: Port.default(DEFAULT_COLORS[color].port),
      model: ModelPath.default(DEFAULT_COLORS[color].model),
      container: DockerName.default(DEFAULT_COLORS[color].container),
    })
    .prefault({});

const DeploymentSpecShape = z.strictObject({
  network: DockerName.default(DEFAULT_NETWORK),
  router: z
    .strictObject({
      port: Port.default(DEFAULT_ROUTER_PORT),
      container: DockerName.default(DEFAULT_ROUTER_CONTAINER),
      image: ImageReference.default(DEFAULT_ROUTER_IMAGE),
    })
    .prefault({}),
  /** Keepalive to the colors, internal routes, rate limit (spec/proxy-spec.ts). */
  proxy: ProxySpec,
  preview: z.strictObject({ pathPrefix: PathPrefix.default(DEFAULT_PREVIEW_PATH_PREFIX) }).prefault({}),
  colors: z.strictObject({ blue: colorSpec('blue'), green: colorSpec('green') }).prefault({}),
  /** Identical processes (containers) per color, behind the same route links; see DEFAULT_REPLICAS. */
  replicas: z
    .strictObject({
      perColor: z
        .int({ error: 'must be a whole number of processes per color' })
        .min(1, 'must be at least 1 (one process per color)')
        .max(MAX_REPLICAS, `must be at most ${MAX_REPLICAS} processes per color`)
        .default(DEFAULT_REPLICAS.perColor),
      /** How many of the target's replicas must pass the preflight gates: "all", or a number up to perColor. */
      mustPass: z
        .union([z.literal('all'), z.int().min(1)], { error: 'must be "all" or a whole number of replicas (at least 1)' })
        .default(DEFAULT_REPLICAS.mustPass),
    })
    .prefault({}),
  /** The checks a target passes before it takes traffic, by name, in order (see libs/deploy/src/gates). */
  gates: z
    .strictObject({
      preflight: z
        .array(z.string().min(1))
        .min(1)
        .default([...DEFAULT_PREFLIGHT_GATES]),
    })
    .prefault({}),
  /** The `prediction-diff` gate (name it in gates.preflight, or pass --max-diff/--min-agreement/--min-pairs to switch). */
  predictionDiff: z
    .strictObject({
      absoluteTolerance: z.number().min(0).default(DEFAULT_PREDICTION_DIFF.absoluteTolerance),
      relativeTolerance: z.number().min(0).default(DEFAULT_PREDICTION_DIFF.relativeTolerance),
      minAgreement: z.number().min(0).max(1).default(DEFAULT_PREDICTION_DIFF.minAgreement),
      minPairs: z.int().min(1).default(DEFAULT_PREDICTION_DIFF.minPairs),
      /** A JSON Lines file of /predict bodies (relative to the workspace root) replayed to both colors; absent = the shadow traffic's records. */
      replay: z.string().min(1).optional(),
    })
    .prefault({}),
  shadow: z
    .strictObject({
      /** Render nginx's mirror at all; false saves its per-request subrequest, but `shadow on` then needs a restart of nginx. */
      mirror: z.boolean().default(DEFAULT_SHADOW.mirror),
      percent: z.number().min(0).max(100).default(DEFAULT_SHADOW.percent),
      queueSize: z.int().min(1).max(100_000).default(DEFAULT_SHADOW.queueSize),
    })
    .prefault({}),
  compose: z
    .strictObject({
      /**
       * The host address Compose publishes each color's port on: loopback by default (the server
       * itself reaches a color, everyone else goes through nginx: its rate limit, its request id, the
       * internal routes kept off); `0.0.0.0` publishes on every interface, as before.
       */
      colorPortsAddress: z
        .union([z.ipv4(), z.ipv6()], { error: 'must be an IP address, e.g. "127.0.0.1" (this host only) or "0.0.0.0" (every interface)' })
        .default(DEFAULT_COLOR_PORTS_ADDRESS),
    })
    .prefault({}),
  kubernetes: z
    .strictObject({
      namespace: KubernetesName.default(DEFAULT_KUBERNETES_NAMESPACE),
      image: ImageReference.default(DEFAULT_KUBERNETES_IMAGE),
      replicas: z.int().min(1).max(100).default(DEFAULT_KUBERNETES_REPLICAS),
      resources: z
        .strictObject({
          requests: ResourceList(DEFAULT_KUBERNETES_RESOURCES.requests),
          limits: ResourceList(DEFAULT_KUBERNETES_RESOURCES.limits),
        })
        .prefault({}),
      /** The host name of the HTTPRoute and the optional Ingress. */
      host: z
        .string()
        .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a host name, e.g. "ml.example.com"')
        .default(DEFAULT_KUBERNETES_HOST),
      /** The Gateway (Gateway API) the HTTPRoute attaches to, in the same namespace. */
      gateway: KubernetesName.default(DEFAULT_KUBERNETES_GATEWAY),
      ingressClassName: KubernetesName.default(DEFAULT_KUBERNETES_INGRESS_CLASS),
      /** Where Argo Rollouts' analysis asks Prometheus. */
      prometheusUrl: z.url().default(DEFAULT_PROMETHEUS_URL),
    })
    .prefault({}),
  /** The weighted live route and `deploy:canary`'s steps and analysis (see spec/canary-spec.ts). */
  canary: CanarySpec,
  /** The local stack's supervisor (restarts of a crashed or hung color or nginx); see docs/architecture.md. */
  supervisor: z
    .strictObject({
      restartDelayMs: z.int().min(10).max(60_000).default(DEFAULT_SUPERVISOR.restartDelayMs),
      maxRestartDelayMs: z.int().min(10).max(600_000).default(DEFAULT_SUPERVISOR.maxRestartDelayMs),
      /** Restarts in a row (none lasting `stableAfterMs`) before a process is marked failed. */
      maxRestarts: z.int().min(0).max(1000).default(DEFAULT_SUPERVISOR.maxRestarts),
      stableAfterMs: z.int().min(0).default(DEFAULT_SUPERVISOR.stableAfterMs),
      probeIntervalMs: z.int().min(50).max(60_000).default(DEFAULT_SUPERVISOR.probeIntervalMs),
      /** A color whose /health fails this long (after it was ready once, or after `startGraceMs`) is killed and restarted. */
      unreadyLimitMs: z.int().min(500).default(DEFAULT_SUPERVISOR.unreadyLimitMs),
      startGraceMs: z.int().min(0).default(DEFAULT_SUPERVISOR.startGraceMs),
    })
    .prefault({}),
  limits: z
    .strictObject({
      bodyLimitBytes: z
        .int()
        .min(1)
        .max(1024 ** 3)
        .default(DEFAULT_BODY_LIMIT_BYTES),
      maxBatchRows: z.int().min(1).default(DEFAULT_MAX_BATCH_ROWS),
    })
    .prefault({}),
});

/**
 * The whole deployment in one validated value: the router (nginx), the preview route, both colors
 * and the service limits nginx must match. Every field has the original design's default.
 */
export const DeploymentSpec = DeploymentSpecShape.superRefine((spec, ctx) => {
  const { perColor, mustPass } = spec.replicas;
  if (mustPass !== 'all' && mustPass > perColor) {
    ctx.addIssue({
      code: 'custom',
      path: ['replicas', 'mustPass'],
      message: `${mustPass} replicas can never pass the gates: each color runs ${perColor} (replicas.perColor); use "all" or at most ${perColor}`,
    });
  }
  // Every listener and container must be unique, or the stack can not start.
  const owners: { path: (string | number)[]; port: number; container: string }[] = [
    { path: ['router'], ...spec.router },
    ...Color.options.map((color) => ({ path: ['colors', color], ...spec.colors[color] })),
  ];
  for (const [index, owner] of owners.entries()) {
    for (const earlier of owners.slice(0, index)) {
      for (const field of ['port', 'container'] as const) {
        if (owner[field] === earlier[field]) {
          ctx.addIssue({
            code: 'custom',
            path: [...owner.path, field],
            message: `${field} ${owner[field]} is already used by ${[...earlier.path, field].join('.')}; the router and each color need their own`,
          });
        }
      }
    }
  }
});
export type DeploymentSpec = z.infer<typeof DeploymentSpec>;

/** The spec with every field at its default. */
export const DEFAULT_DEPLOYMENT_SPEC: DeploymentSpec = deepFreeze(DeploymentSpec.parse({}));

/** Freezes a parsed spec so nothing can change it after validation. */
export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

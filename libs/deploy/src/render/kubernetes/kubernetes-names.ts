import type { Color } from '@mlbg/contract';

/**
 * The names the manifests and the Kubernetes backend share: the backend finds what the renderer
 * wrote by these, so they live in one place.
 */

/** Where `deploy:generate` writes the manifests (`kubectl apply -k deploy/kubernetes`). */
export const KUBERNETES_DIR = 'deploy/kubernetes';
export const ARGO_ROLLOUTS_DIR = `${KUBERNETES_DIR}/argo-rollouts`;
export const ARGO_ROLLOUTS_CANARY_DIR = `${KUBERNETES_DIR}/argo-rollouts-canary`;

/** The `app` label of every pod of the service, and the prefix of its objects' names. */
export const APP_NAME = 'ml-model-service';
/** The container in each pod (what release patches). */
export const CONTAINER_NAME = 'model-service';
/** The named container port every Service targets. */
export const HTTP_PORT_NAME = 'http';
/** The port the Services listen on inside the cluster. */
export const SERVICE_PORT = 80;

/** Selects the live color: a switch patches its `color` selector. */
export const LIVE_SERVICE = 'ml-live';
/** Selects the idle color: smoke tests and the preflight gates reach it through here. */
export const PREVIEW_SERVICE = 'ml-preview';
/**
 * Selects no pod, so it has no endpoints: where the HTTPRoute and the Ingress send the colors'
 * internal paths (/admin, /metrics), which the gateway then answers with an error instead.
 */
export const BLOCKED_SERVICE = 'ml-internal-blocked';
/** Headless, selects every pod of both colors: what the ServiceMonitor scrapes. */
export const METRICS_SERVICE = `${APP_NAME}-metrics`;

/** The HTTPRoute whose backend weights a canary moves, and whose mirror filter shadow traffic turns on and off. */
export const HTTP_ROUTE = APP_NAME;
/** The shadow relay's Deployment and Service: the RequestMirror filter's target, forwarding to the preview Service. */
export const SHADOW_RELAY_SERVICE = 'ml-shadow-relay';
/** The relay's container port (the Service listens on SERVICE_PORT). */
export const SHADOW_RELAY_PORT = 8090;
/** The relay Deployment's container. */
export const RELAY_CONTAINER = 'relay';
/** The paths the route has rules of their own for, so shadow traffic mirrors only them: /predict and V2 inference. */
export const MIRRORED_PATHS = ['/predict', '/v2/models/'] as const;

/** The Lease that keeps two deploy commands from changing the cluster at once. */
export const LOCK_LEASE = 'ml-deploy-lock';
/** The ConfigMap that holds the history (`history.jsonl`, the same lines as the local file). */
export const HISTORY_CONFIGMAP = 'ml-deploy-history';
export const HISTORY_KEY = 'history.jsonl';
/** Who may run the deploy commands: the ServiceAccount, Role and RoleBinding of rbac.yaml. */
export const DEPLOYER_NAME = 'ml-deployer';

/** The Deployment (and PodDisruptionBudget) of one color. */
export function deploymentName(color: Color): string {
  return `${APP_NAME}-${color}`;
}

/**
 * The `version` label of a color's pods, from its model's folder (`models/v1.1.0/model.onnx` ->
 * `v1.1.0`, the repository's layout). A label for people and dashboards only: the version a color
 * serves is what its model says (/health), and the commands check that.
 */
export function versionLabel(modelPath: string): string {
  const folder = modelPath.split('/').slice(-2, -1)[0] ?? '';
  const label = folder
    .replace(/[^A-Za-z0-9_.-]/g, '-')
    .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '')
    .slice(0, 63);
  return label === '' ? 'unknown' : label;
}

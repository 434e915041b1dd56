import { Color, SERVICE_ENV_DEFAULTS, SHADOW_HEADER, colorServiceEnv, otherColor } from '@mlbg/contract';
import { stringify } from 'yaml';
import type { DeploymentSpec } from '../../spec/deployment-spec';
import { internalPaths } from '../../spec/proxy-spec';
import { INITIAL_LIVE_COLOR, RELAY_STATUS_PATH } from '../../spec/sockets';
import { CONTAINER_HOST, IMAGE_APP_DIR, SHADOW_RELAY_MAIN } from '../compose/compose';
import { type GeneratedFile, GENERATE_COMMAND, headerLines } from '../generated-file';
import {
  APP_NAME,
  BLOCKED_SERVICE,
  CONTAINER_NAME,
  DEPLOYER_NAME,
  HISTORY_CONFIGMAP,
  HTTP_PORT_NAME,
  HTTP_ROUTE,
  KUBERNETES_DIR,
  LIVE_SERVICE,
  LOCK_LEASE,
  METRICS_SERVICE,
  PREVIEW_SERVICE,
  SERVICE_PORT,
  MIRRORED_PATHS,
  RELAY_CONTAINER,
  SHADOW_RELAY_PORT,
  SHADOW_RELAY_SERVICE,
  deploymentName,
  versionLabel,
} from './kubernetes-names';
import { DEFAULT_SCRAPE_INTERVAL_MS, alertRules, grafanaDashboard, inClusterService } from './monitoring';
// Types only (erased at build): the compiler refuses a field these objects do not have.
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { INamespace } from 'kubernetes-models/v1/Namespace';
import type { IPodTemplateSpec } from 'kubernetes-models/v1/PodTemplateSpec';
import type { IService } from 'kubernetes-models/v1/Service';
import type { IServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import type { IIngress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { IRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import type { IRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import type { IHTTPRoute } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute';
import type { IPrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import type { IServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';

/** The service's own drain time (its SHUTDOWN_TIMEOUT_MS), set explicitly so the grace period below stays longer. */
export const SHUTDOWN_TIMEOUT_MS = SERVICE_ENV_DEFAULTS.SHUTDOWN_TIMEOUT_MS;
/** preStop waits this long first, so endpoints and proxies stop sending before the service drains. */
const PRE_STOP_SECONDS = 5;
/** preStop + the service's drain + a margin: the kubelet never SIGKILLs a draining color. */
export const TERMINATION_GRACE_SECONDS = PRE_STOP_SECONDS + SHUTDOWN_TIMEOUT_MS / 1000 + 10;
/** A release that makes no progress for this long is reported by the Deployment (ProgressDeadlineExceeded). */
export const PROGRESS_DEADLINE_SECONDS = 180;
/** The image's user (node, uid 1000 in the official node image). */
const RUN_AS = 1000;
export const DASHBOARD_FILE = 'grafana-dashboard.json';
const BASE_DIR = 'base';
/** The namespace of the example overlay (another team's copy of the same deployment). */
export const EXAMPLE_OVERLAY_NAMESPACE = 'ml-team-a';
export const DASHBOARD_CONFIGMAP = `${APP_NAME}-dashboard`;
/** The Role and RoleBinding in Prometheus' namespace that let ml-deployer query it, and their folder. */
export const PROMETHEUS_ACCESS_NAME = `${DEPLOYER_NAME}-prometheus`;
export const PROMETHEUS_ACCESS_DIR = 'prometheus-access';

type Labels = Record<string, string>;

/** The labels of a color's pods. `color` is what the Services select; `version` is for people. */
export function colorLabels(spec: DeploymentSpec, color: Color): Labels {
  return { app: APP_NAME, color, version: versionLabel(spec.colors[color].model) };
}

const metadata = (spec: DeploymentSpec, name: string, labels: Labels = { app: APP_NAME }) => ({
  name,
  namespace: spec.kubernetes.namespace,
  labels,
});

/**
 * The pod of one model version: probes on /health (ready only while the model answers) and
 * /health/live, non-root on a read-only root filesystem, resources from the spec.
 * Used by the Deployments and by the Argo Rollouts variant's Rollout.
 */
export function podTemplate(spec: DeploymentSpec, options: { labels: Labels; color: Color; model: string }): IPodTemplateSpec {
  const port = spec.colors[options.color].port;
  const probe = (path: string, extra: object) => ({ httpGet: { path, port: HTTP_PORT_NAME }, timeoutSeconds: 2, ...extra });
  return {
    metadata: { labels: options.labels },
    spec: {
      automountServiceAccountToken: false,
      terminationGracePeriodSeconds: TERMINATION_GRACE_SECONDS,
      securityContext: { runAsNonRoot: true, runAsUser: RUN_AS, runAsGroup: RUN_AS, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [
        {
          name: CONTAINER_NAME,
          image: spec.kubernetes.image,
          imagePullPolicy: 'IfNotPresent',
          ports: [{ name: HTTP_PORT_NAME, containerPort: port, protocol: 'TCP' }],
          env: Object.entries(
            colorServiceEnv({
              color: options.color,
              host: CONTAINER_HOST,
              port,
              modelPath: `${IMAGE_APP_DIR}/${options.model}`,
              bodyLimitBytes: spec.limits.bodyLimitBytes,
              maxBatchRows: spec.limits.maxBatchRows,
              shutdownTimeoutMs: SHUTDOWN_TIMEOUT_MS,
            }),
          ).map(([name, value]) => ({ name, value })),
          // The model loads and a warm-up inference passes within 60 s, or the pod is restarted.
          startupProbe: probe('/health', { periodSeconds: 2, failureThreshold: 30 }),
          readinessProbe: probe('/health', { periodSeconds: 5, failureThreshold: 2 }),
          livenessProbe: probe('/health/live', { periodSeconds: 10, failureThreshold: 3 }),
          lifecycle: { preStop: { exec: { command: ['sleep', String(PRE_STOP_SECONDS)] } } },
          resources: {
            requests: { ...spec.kubernetes.resources.requests },
            limits: { ...spec.kubernetes.resources.limits },
          },
          securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
          volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
        },
      ],
      volumes: [{ name: 'tmp', emptyDir: { sizeLimit: '64Mi' } }],
    },
  };
}

function deployment(spec: DeploymentSpec, color: Color): IDeployment {
  const labels = colorLabels(spec, color);
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: metadata(spec, deploymentName(color), labels),
    spec: {
      replicas: spec.kubernetes.replicas,
      revisionHistoryLimit: 5,
      progressDeadlineSeconds: PROGRESS_DEADLINE_SECONDS,
      // `version` is left out of the selector: a release changes it, a selector can not change.
      selector: { matchLabels: { app: APP_NAME, color } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: podTemplate(spec, { labels, color, model: spec.colors[color].model }),
    },
  };
}

/** A ClusterIP Service on port 80 to the pods' named `http` port; without a selector it has no endpoints. */
export function service(
  spec: DeploymentSpec,
  name: string,
  selector: Labels | undefined,
  extra: { clusterIP?: 'None'; labels?: Labels } = {},
): IService {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: metadata(spec, name, extra.labels),
    spec: {
      ...(extra.clusterIP ? { clusterIP: extra.clusterIP } : {}),
      ...(selector ? { selector } : {}),
      ports: [{ name: HTTP_PORT_NAME, port: SERVICE_PORT, targetPort: HTTP_PORT_NAME, protocol: 'TCP' }],
    },
  };
}

/**
 * The colors' internal paths as the HTTPRoute and the Ingress match them (element-wise prefixes,
 * no trailing slash), on the live route and under the preview prefix.
 */
function internalPrefixes(spec: DeploymentSpec): string[] {
  const paths = internalPaths(spec.proxy).map((path) => path.replace(/\/$/, ''));
  return [...paths, ...paths.map((path) => `${spec.preview.pathPrefix.replace(/\/$/, '')}${path}`)];
}

export const METRICS_SERVICE_LABELS: Labels = { app: APP_NAME, 'app.kubernetes.io/component': 'metrics' };

export function metricsService(spec: DeploymentSpec): IService {
  // Headless and selecting both colors: every pod is scraped once, whichever Service selects it now.
  return service(spec, METRICS_SERVICE, { app: APP_NAME }, { clusterIP: 'None', labels: METRICS_SERVICE_LABELS });
}

export function serviceMonitor(spec: DeploymentSpec, podTargetLabels: readonly string[]): IServiceMonitor {
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'ServiceMonitor',
    metadata: metadata(spec, APP_NAME),
    spec: {
      selector: { matchLabels: METRICS_SERVICE_LABELS },
      podTargetLabels: [...podTargetLabels],
      endpoints: [{ port: HTTP_PORT_NAME, path: '/metrics', interval: `${DEFAULT_SCRAPE_INTERVAL_MS / 1000}s` }],
    },
  };
}

function podDisruptionBudget(spec: DeploymentSpec, color: Color): IPodDisruptionBudget {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: metadata(spec, deploymentName(color), { app: APP_NAME, color }),
    spec: { maxUnavailable: 1, selector: { matchLabels: { app: APP_NAME, color } } },
  };
}

/**
 * Gateway API route: `/preview/` to the idle color (prefix stripped, as nginx does); everything
 * else to the live Service, with a weight on the preview Service for a canary (0 = none). /predict
 * and V2's /v2/models/ have rules of their own, with the same backends, so shadow traffic can
 * mirror just them (backends/kubernetes/http-route.ts). No live rule lets a client mark its request
 * as a shadow copy.
 * The colors' internal paths (longer prefixes, so they win) go to a Service with no endpoints.
 */
export function httpRoute(spec: DeploymentSpec): IHTTPRoute {
  const backend = (name: string, weight?: number) => ({ name, port: SERVICE_PORT, ...(weight === undefined ? {} : { weight }) });
  const internal = internalPrefixes(spec);
  const live = (type: 'Exact' | 'PathPrefix', value: string) => ({
    matches: [{ path: { type, value } }],
    // A client can not mark its own request as a shadow copy (nginx clears the header too).
    filters: [{ type: 'RequestHeaderModifier' as const, requestHeaderModifier: { remove: [SHADOW_HEADER] } }],
    backendRefs: [backend(LIVE_SERVICE, 100), backend(PREVIEW_SERVICE, 0)],
  });
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: metadata(spec, HTTP_ROUTE),
    spec: {
      parentRefs: [{ name: spec.kubernetes.gateway }],
      hostnames: [spec.kubernetes.host],
      rules: [
        {
          matches: [{ path: { type: 'PathPrefix', value: spec.preview.pathPrefix } }],
          filters: [{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/' } } }],
          backendRefs: [backend(PREVIEW_SERVICE)],
        },
        live('Exact', MIRRORED_PATHS[0]),
        live('PathPrefix', MIRRORED_PATHS[1]),
        live('PathPrefix', '/'),
        ...(internal.length === 0
          ? []
          : [
              {
                matches: internal.map((value) => ({ path: { type: 'PathPrefix' as const, value } })),
                backendRefs: [backend(BLOCKED_SERVICE)],
              },
            ]),
      ],
    },
  };
}

/** The relay's labels: not the service's `app`, so neither a color's Services nor the metrics Service select it. */
export const SHADOW_RELAY_LABELS: Labels = { app: SHADOW_RELAY_SERVICE };
export { SHADOW_RELAY_MAIN };

/**
 * The shadow relay (`deploy:shadow on` scales it to one pod and adds the route's mirror): the local
 * stack's relay from the service image, listening on a port, forwarding a share of the copies to
 * ml-preview. Rendered with no pod: shadow traffic is off until asked for.
 */
function shadowRelay(spec: DeploymentSpec): [IDeployment, IService] {
  const port = { name: HTTP_PORT_NAME, containerPort: SHADOW_RELAY_PORT, protocol: 'TCP' as const };
  return [
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: metadata(spec, SHADOW_RELAY_SERVICE, SHADOW_RELAY_LABELS),
      spec: {
        replicas: 0,
        revisionHistoryLimit: 3,
        selector: { matchLabels: SHADOW_RELAY_LABELS },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
        template: {
          metadata: { labels: SHADOW_RELAY_LABELS },
          spec: {
            automountServiceAccountToken: false,
            securityContext: { runAsNonRoot: true, runAsUser: RUN_AS, runAsGroup: RUN_AS, seccompProfile: { type: 'RuntimeDefault' } },
            containers: [
              {
                name: RELAY_CONTAINER,
                image: spec.kubernetes.image,
                imagePullPolicy: 'IfNotPresent',
                command: ['node', SHADOW_RELAY_MAIN],
                ports: [port],
                env: [
                  { name: 'RELAY_PORT', value: String(SHADOW_RELAY_PORT) },
                  { name: 'RELAY_TARGET_URL', value: `http://${PREVIEW_SERVICE}:${SERVICE_PORT}` },
                  { name: 'RELAY_PERCENT', value: String(spec.shadow.percent) },
                  { name: 'RELAY_QUEUE_SIZE', value: String(spec.shadow.queueSize) },
                ],
                readinessProbe: { httpGet: { path: RELAY_STATUS_PATH, port: HTTP_PORT_NAME }, periodSeconds: 5, timeoutSeconds: 2 },
                resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
                securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
              },
            ],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: metadata(spec, SHADOW_RELAY_SERVICE, SHADOW_RELAY_LABELS),
      spec: {
        selector: SHADOW_RELAY_LABELS,
        ports: [{ name: HTTP_PORT_NAME, port: SERVICE_PORT, targetPort: HTTP_PORT_NAME, protocol: 'TCP' }],
      },
    },
  ];
}

function ingress(spec: DeploymentSpec): IIngress {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: metadata(spec, APP_NAME),
    spec: {
      ingressClassName: spec.kubernetes.ingressClassName,
      rules: [
        {
          host: spec.kubernetes.host,
          http: {
            paths: [
              { path: '/', pathType: 'Prefix', backend: { service: { name: LIVE_SERVICE, port: { name: HTTP_PORT_NAME } } } },
              // The colors' internal paths: longer prefixes win, and this Service has no endpoints.
              ...internalPrefixes(spec).map((path) => ({
                path,
                pathType: 'Prefix' as const,
                backend: { service: { name: BLOCKED_SERVICE, port: { name: HTTP_PORT_NAME } } },
              })),
            ],
          },
        },
      ],
    },
  };
}

export function prometheusRule(spec: DeploymentSpec): IPrometheusRule {
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: metadata(spec, APP_NAME),
    spec: {
      groups: [
        {
          name: APP_NAME,
          rules: alertRules().map((rule) => ({ ...rule, labels: { ...rule.labels }, annotations: { ...rule.annotations } })),
        },
      ],
    },
  };
}

/** Pod Security admission: no pod that is not "restricted" is admitted (ours are), and any other is warned about and audited. */
const POD_SECURITY_LABELS = Object.fromEntries(
  ['enforce', 'warn', 'audit'].map((mode) => [`pod-security.kubernetes.io/${mode}`, 'restricted']),
);

export function namespace(spec: DeploymentSpec): INamespace {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name: spec.kubernetes.namespace, labels: { ...POD_SECURITY_LABELS } } };
}

/**
 * What the deploy commands (`--backend=kubernetes`) need, and nothing more: read and patch the two
 * Services and the two Deployments, list pods and endpoints (is a switch in effect?), reach the
 * colors through the API server's service proxy and each pod through the pod proxy, move the
 * HTTPRoute's weights and mirror, scale the shadow relay and read it, hold the Lease and write the
 * history ConfigMap.
 */
function rbac(spec: DeploymentSpec): [IServiceAccount, IRole, IRoleBinding] {
  const subject = { kind: 'ServiceAccount', name: DEPLOYER_NAME, namespace: spec.kubernetes.namespace };
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: metadata(spec, DEPLOYER_NAME) },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: metadata(spec, DEPLOYER_NAME),
      rules: [
        { apiGroups: [''], resources: ['services'], resourceNames: [LIVE_SERVICE, PREVIEW_SERVICE], verbs: ['get', 'patch'] },
        {
          apiGroups: [''],
          resources: ['services/proxy'],
          resourceNames: [`${LIVE_SERVICE}:${HTTP_PORT_NAME}`, `${PREVIEW_SERVICE}:${HTTP_PORT_NAME}`],
          verbs: ['get', 'create'],
        },
        { apiGroups: ['apps'], resources: ['deployments'], resourceNames: Color.options.map(deploymentName), verbs: ['get', 'patch'] },
        { apiGroups: [''], resources: ['pods'], verbs: ['list'] },
        // The canary's weights and shadow traffic's mirror: read and patched with a resourceVersion precondition.
        { apiGroups: ['gateway.networking.k8s.io'], resources: ['httproutes'], resourceNames: [HTTP_ROUTE], verbs: ['get', 'patch'] },
        // Each pod's prediction records (deploy:diff, the judge): pod names change, so this can not be limited to names.
        { apiGroups: [''], resources: ['pods/proxy'], verbs: ['get'] },
        // Shadow traffic: the relay scaled to one pod and back to none, its counters read.
        { apiGroups: ['apps'], resources: ['deployments'], resourceNames: [SHADOW_RELAY_SERVICE], verbs: ['get', 'patch'] },
        { apiGroups: [''], resources: ['services/proxy'], resourceNames: [`${SHADOW_RELAY_SERVICE}:${HTTP_PORT_NAME}`], verbs: ['get'] },
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list'] },
        // `create` can not be limited to a name (the object does not exist yet); the rest can.
        { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
        { apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: [LOCK_LEASE], verbs: ['get', 'update'] },
        { apiGroups: [''], resources: ['configmaps'], verbs: ['create'] },
        { apiGroups: [''], resources: ['configmaps'], resourceNames: [HISTORY_CONFIGMAP], verbs: ['get', 'update'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: metadata(spec, DEPLOYER_NAME),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: DEPLOYER_NAME },
      subjects: [subject],
    },
  ];
}

/**
 * Where Prometheus runs in the cluster (the spec's prometheusUrl names a Service), the deployer may
 * ask it through the API server's service proxy: a Role in Prometheus' namespace for that one
 * Service port, bound to ml-deployer. Applied apart (`kubectl apply -k deploy/kubernetes/prometheus-access`):
 * it is in another namespace, which the install's kustomization would rewrite.
 */
function prometheusAccess(spec: DeploymentSpec): [IRole, IRoleBinding] | undefined {
  const target = inClusterService(spec.kubernetes.prometheusUrl);
  if (!target) return undefined;
  const meta = { name: PROMETHEUS_ACCESS_NAME, namespace: target.namespace, labels: { app: APP_NAME } };
  return [
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: meta,
      rules: [{ apiGroups: [''], resources: ['services/proxy'], resourceNames: [`${target.service}:${target.port}`], verbs: ['get'] }],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: meta,
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: PROMETHEUS_ACCESS_NAME },
      subjects: [{ kind: 'ServiceAccount', name: DEPLOYER_NAME, namespace: spec.kubernetes.namespace }],
    },
  ];
}

/** One or more objects as a YAML file with the "generated, do not edit" header. */
export function yamlFile(path: string, ...objects: object[]): GeneratedFile {
  const header = headerLines(GENERATE_COMMAND)
    .map((line) => `# ${line}`)
    .join('\n');
  // YAML 1.1 quoting: Kubernetes' YAML reader would take an unquoted "yes" or "1" for a bool or a number.
  const body = objects.map((object) => stringify(object, { version: '1.1', lineWidth: 0, aliasDuplicateObjects: false })).join('---\n');
  return { path, content: `${header}\n${body}` };
}

const kustomization = (fields: object) => ({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', ...fields });

/**
 * The manifests of `deploy/kubernetes/`: per color a Deployment and a PodDisruptionBudget, the
 * live, preview and metrics Services, the HTTPRoute, the shadow relay (no pod until shadow traffic
 * is turned on), the ServiceMonitor, the PrometheusRule, the Grafana dashboard, the deployer's
 * RBAC, a kustomization over all of them (the whole install is `kubectl apply -k deploy/kubernetes`),
 * the deployer's access to an in-cluster Prometheus (applied apart), an Ingress component and an
 * example overlay for namespace and image. The Argo Rollouts variants are `renderArgoRolloutsFiles`.
 * Pure and deterministic.
 */
export function renderKubernetesFiles(spec: DeploymentSpec): GeneratedFile[] {
  const base = (file: string) => `${KUBERNETES_DIR}/${BASE_DIR}/${file}`;
  const at = (file: string) => `${KUBERNETES_DIR}/${file}`;
  const live = INITIAL_LIVE_COLOR;
  const access = prometheusAccess(spec);
  const objects: GeneratedFile[] = [
    yamlFile(base('namespace.yaml'), namespace(spec)),
    ...Color.options.map((color) => yamlFile(base(`deployment-${color}.yaml`), deployment(spec, color))),
    ...Color.options.map((color) => yamlFile(base(`pdb-${color}.yaml`), podDisruptionBudget(spec, color))),
    yamlFile(base('service-live.yaml'), service(spec, LIVE_SERVICE, { app: APP_NAME, color: live })),
    yamlFile(base('service-preview.yaml'), service(spec, PREVIEW_SERVICE, { app: APP_NAME, color: otherColor(live) })),
    yamlFile(base('service-metrics.yaml'), metricsService(spec)),
    yamlFile(base('service-internal-blocked.yaml'), service(spec, BLOCKED_SERVICE, undefined)),
    yamlFile(base('httproute.yaml'), httpRoute(spec)),
    yamlFile(base('shadow-relay.yaml'), ...shadowRelay(spec)),
    yamlFile(base('servicemonitor.yaml'), serviceMonitor(spec, ['color'])),
    yamlFile(base('prometheusrule.yaml'), prometheusRule(spec)),
    yamlFile(base('rbac.yaml'), ...rbac(spec)),
  ];
  const baseKustomization = kustomization({
    namespace: spec.kubernetes.namespace,
    resources: objects.map((file) => file.path.split('/').pop()),
    configMapGenerator: [
      { name: DASHBOARD_CONFIGMAP, files: [DASHBOARD_FILE], options: { disableNameSuffixHash: true, labels: { grafana_dashboard: '1' } } },
    ],
  });
  return [
    // An overlay may not live under the folder it builds on (kustomize: "cycle detected"), so the objects are in base/.
    yamlFile(at('kustomization.yaml'), kustomization({ resources: [BASE_DIR] })),
    yamlFile(base('kustomization.yaml'), baseKustomization),
    ...objects,
    { path: base(DASHBOARD_FILE), content: `${JSON.stringify(grafanaDashboard(), null, 2)}\n` },
    yamlFile(at('components/ingress/kustomization.yaml'), {
      apiVersion: 'kustomize.config.k8s.io/v1alpha1',
      kind: 'Component',
      resources: ['ingress.yaml'],
    }),
    yamlFile(at('components/ingress/ingress.yaml'), ingress(spec)),
    ...(access
      ? [
          yamlFile(at(`${PROMETHEUS_ACCESS_DIR}/kustomization.yaml`), kustomization({ resources: ['rbac.yaml'] })),
          yamlFile(at(`${PROMETHEUS_ACCESS_DIR}/rbac.yaml`), ...access),
        ]
      : []),
    yamlFile(
      at('overlays/example/kustomization.yaml'),
      kustomization({
        resources: [`../../${BASE_DIR}`],
        namespace: EXAMPLE_OVERLAY_NAMESPACE,
        images: [{ name: imageName(spec.kubernetes.image), newName: 'ghcr.io/acme/ml-deployment/model-service', newTag: 'v2026.12.01' }],
        components: ['../../components/ingress'],
      }),
    ),
  ];
}

/** An image reference without its tag: what a kustomization's `images:` entry matches. */
function imageName(image: string): string {
  return image.replace(/:[^:/]+$/, '');
}

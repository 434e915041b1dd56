import { existsSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { type RequestOptions, request as httpsRequest } from 'node:https';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type * as K8s from '@kubernetes/client-node';
import type { ServiceEnvName } from '@mlbg/contract';
import type { HttpAnswer, HttpCall } from '../../effects/deps';
import { DeployError } from '../../errors';
import { CONTAINER_NAME, HTTP_PORT_NAME } from '../../render/kubernetes/kubernetes-names';
import type { HttpRouteRule } from './http-route';
import {
  type ChangeRecord,
  type ConfigMapView,
  type DeploymentChange,
  type DeploymentView,
  FIELD_MANAGER,
  type HttpRouteView,
  type KubeApi,
  type LeaseSpec,
  type LeaseView,
  type ServiceView,
} from './kube-api';

const PROXY_TIMEOUT_MS = 10_000;
/** The service's variable a release changes (see `colorServiceEnv` for the others). */
const MODEL_PATH_VARIABLE = 'MODEL_PATH' satisfies ServiceEnvName;

export interface KubeTarget {
  /** A context of the kubeconfig; undefined = its current context. */
  readonly context?: string;
  readonly namespace: string;
  /** The CLI's environment: where the kubeconfig is looked for (KUBECONFIG, HOME, in-cluster). */
  readonly env: Readonly<Record<string, string | undefined>>;
}

/**
 * Connects to the cluster as kubectl does: the files in KUBECONFIG, else ~/.kube/config, else the
 * pod's ServiceAccount when running inside the cluster; `--context` picks a context of it.
 * @throws DeployError KUBECONFIG_NOT_FOUND
 */
export async function connectKubernetes(target: KubeTarget): Promise<KubeApi> {
  const homeConfig = join(target.env['HOME'] ?? homedir(), '.kube', 'config');
  const inCluster = target.env['KUBERNETES_SERVICE_HOST'] !== undefined;
  if (!target.env['KUBECONFIG'] && !existsSync(homeConfig) && !inCluster) {
    throw new DeployError(
      'KUBECONFIG_NOT_FOUND',
      `KUBECONFIG is not set, ${homeConfig} does not exist, and this is not a pod in a cluster.`,
    );
  }
  // @kubernetes/client-node is an ES module: loaded when a cluster is used (Node 20.19+ can require it).
  const k8s = await import('@kubernetes/client-node');
  const config = new k8s.KubeConfig();
  try {
    config.loadFromDefault();
  } catch (error) {
    throw new DeployError('KUBECONFIG_NOT_FOUND', `The kubeconfig can not be read: ${(error as Error).message}`);
  }
  if (target.context !== undefined) {
    if (!config.getContextObject(target.context)) {
      throw new DeployError(
        'KUBECONFIG_NOT_FOUND',
        `There is no context "${target.context}" in the kubeconfig; it has ${
          config
            .getContexts()
            .map((context) => context.name)
            .join(', ') || 'none'
        }.`,
      );
    }
    config.setCurrentContext(target.context);
  }
  const cluster = config.getCurrentCluster();
  if (!cluster) throw new DeployError('KUBECONFIG_NOT_FOUND', `The context "${config.getCurrentContext()}" names no cluster.`);
  return clientNodeApi(k8s, config, cluster.server, target.namespace);
}

function clientNodeApi(k8s: typeof K8s, config: K8s.KubeConfig, server: string, namespace: string): KubeApi {
  const core = config.makeApiClient(k8s.CoreV1Api);
  const apps = config.makeApiClient(k8s.AppsV1Api);
  const coordination = config.makeApiClient(k8s.CoordinationV1Api);
  const discovery = config.makeApiClient(k8s.DiscoveryV1Api);
  const custom = config.makeApiClient(k8s.CustomObjectsApi);
  const gateway = { group: 'gateway.networking.k8s.io', version: 'v1', plural: 'httproutes', namespace };
  const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
  const strategicPatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch);
  const base = server.replace(/\/+$/, '');
  const proxyUrl = (service: string) => `${base}/api/v1/namespaces/${namespace}/services/${service}:${HTTP_PORT_NAME}/proxy`;

  /** Runs one API call; its failure becomes the catalogue's error, saying which request it was. */
  async function call<T>(what: string, action: () => Promise<T>): Promise<T> {
    try {
      return await action();
    } catch (error) {
      throw apiError(k8s, what, namespace, error);
    }
  }
  const orUndefined = async <T>(action: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await action();
    } catch (error) {
      if (error instanceof DeployError && error.code === 'KUBE_NOT_FOUND') return undefined;
      throw error;
    }
  };

  return {
    namespace,
    where: `context ${config.getCurrentContext()}, namespace ${namespace} (${base})`,
    proxyUrl,
    readService: (name) => call(`get service ${name}`, async () => serviceView(await core.readNamespacedService({ name, namespace }))),
    patchServiceSelector: (name, selector, resourceVersion) =>
      call(`patch service ${name}`, async () =>
        // A resourceVersion in a patch is a precondition: the API server refuses it (409) if the Service changed since.
        serviceView(
          await core.patchNamespacedService({ name, namespace, body: { metadata: { resourceVersion }, spec: { selector } } }, mergePatch),
        ),
      ),
    readDeployment: (name) =>
      call(`get deployment ${name}`, async () => deploymentView(await apps.readNamespacedDeployment({ name, namespace }))),
    patchDeployment: (name, change) =>
      call(`patch deployment ${name}`, async () =>
        deploymentView(await apps.patchNamespacedDeployment({ name, namespace, body: deploymentPatch(change) }, strategicPatch)),
      ),
    listPods: (labelSelector) =>
      call(`list pods ${labelSelector}`, async () =>
        (await core.listNamespacedPod({ namespace, labelSelector })).items.map((pod) => ({
          name: pod.metadata?.name ?? '',
          ready:
            pod.metadata?.deletionTimestamp === undefined &&
            (pod.status?.conditions ?? []).some((condition) => condition.type === 'Ready' && condition.status === 'True'),
          port:
            pod.spec?.containers.find((container) => container.name === CONTAINER_NAME)?.ports?.find((port) => port.name === HTTP_PORT_NAME)
              ?.containerPort ?? null,
        })),
      ),
    listEndpoints: (service) =>
      call(`list endpointslices of ${service}`, async () =>
        (await discovery.listNamespacedEndpointSlice({ namespace, labelSelector: `kubernetes.io/service-name=${service}` })).items.flatMap(
          (slice) =>
            (slice.endpoints ?? []).map((endpoint) => ({
              pod: endpoint.targetRef?.kind === 'Pod' ? endpoint.targetRef.name : undefined,
              ready: endpoint.conditions?.ready !== false,
            })),
        ),
      ),
    readLease: (name) =>
      orUndefined(() => call(`get lease ${name}`, async () => leaseView(await coordination.readNamespacedLease({ name, namespace })))),
    createLease: (name, lease) =>
      call(`create lease ${name}`, async () =>
        leaseView(await coordination.createNamespacedLease({ namespace, body: leaseBody(k8s, name, lease) })),
      ),
    replaceLease: (name, lease, resourceVersion) =>
      call(`update lease ${name}`, async () =>
        leaseView(await coordination.replaceNamespacedLease({ name, namespace, body: leaseBody(k8s, name, lease, resourceVersion) })),
      ),
    readConfigMap: (name) =>
      orUndefined(() => call(`get configmap ${name}`, async () => configMapView(await core.readNamespacedConfigMap({ name, namespace })))),
    createConfigMap: (name, data) =>
      call(`create configmap ${name}`, async () =>
        configMapView(
          await core.createNamespacedConfigMap({
            namespace,
            body: { metadata: { name, labels: { app: 'ml-model-service' } }, data: { ...data } },
          }),
        ),
      ),
    replaceConfigMap: (name, data, resourceVersion) =>
      call(`update configmap ${name}`, async () =>
        configMapView(
          await core.replaceNamespacedConfigMap({
            name,
            namespace,
            body: { metadata: { name, resourceVersion, labels: { app: 'ml-model-service' } }, data: { ...data } },
          }),
        ),
      ),
    proxy: (service, httpCall) =>
      proxyRequest(
        config,
        `${proxyUrl(service)}${httpCall.path}`,
        httpCall,
        `${httpCall.method === 'GET' ? 'get' : 'create'} services/proxy ${service}:${HTTP_PORT_NAME}`,
        namespace,
      ),
    podProxy: (pod, port, httpCall) =>
      proxyRequest(
        config,
        `${base}/api/v1/namespaces/${namespace}/pods/${pod}:${port}/proxy${httpCall.path}`,
        httpCall,
        `${httpCall.method === 'GET' ? 'get' : 'create'} pods/proxy ${pod}:${port}`,
        namespace,
      ),
    serviceProxy: (target, httpCall) =>
      proxyRequest(
        config,
        `${base}/api/v1/namespaces/${target.namespace}/services/${target.service}:${target.port}/proxy${httpCall.path}`,
        httpCall,
        `${httpCall.method === 'GET' ? 'get' : 'create'} services/proxy ${target.service}:${target.port}`,
        target.namespace,
      ),
    readHttpRoute: (name) =>
      orUndefined(() =>
        call(`get httproute ${name}`, async () => httpRouteView(await custom.getNamespacedCustomObject({ ...gateway, name }))),
      ),
    patchHttpRouteRules: (name, rules, resourceVersion) =>
      call(`patch httproute ${name}`, async () =>
        // A resourceVersion in a merge patch is a precondition (409 when the route changed since); `rules` is replaced whole.
        httpRouteView(
          await custom.patchNamespacedCustomObject(
            { ...gateway, name, body: { metadata: { resourceVersion }, spec: { rules } }, fieldManager: FIELD_MANAGER },
            mergePatch,
          ),
        ),
      ),
  };
}

function httpRouteView(body: unknown): HttpRouteView {
  const route = body as {
    metadata?: {
      name?: string;
      resourceVersion?: string;
      generation?: number;
      managedFields?: { manager?: string; operation?: string; time?: Date | string; subresource?: string }[];
    };
    spec?: { rules?: HttpRouteRule[] };
  };
  return {
    name: route.metadata?.name ?? '',
    resourceVersion: route.metadata?.resourceVersion ?? '',
    generation: route.metadata?.generation ?? 0,
    rules: route.spec?.rules ?? [],
    lastChange: lastSpecChange(route.metadata?.managedFields ?? []),
  };
}

/** The latest entry of `managedFields` that is not a status write (a gateway controller updates the status all the time). */
export function lastSpecChange(
  entries: readonly { manager?: string; operation?: string; time?: Date | string; subresource?: string }[],
): ChangeRecord | null {
  const records = entries
    .filter((entry) => entry.subresource !== 'status')
    .map((entry) => ({
      manager: entry.manager ?? '(unknown)',
      operation: entry.operation ?? '(unknown)',
      time: entry.time === undefined ? null : new Date(entry.time).toISOString(),
    }));
  return records.reduce<ChangeRecord | null>(
    (latest, record) => (latest === null || (record.time ?? '') >= (latest.time ?? '') ? record : latest),
    null,
  );
}

function serviceView(service: K8s.V1Service): ServiceView {
  return {
    name: service.metadata?.name ?? '',
    selector: service.spec?.selector ?? {},
    resourceVersion: service.metadata?.resourceVersion ?? '',
  };
}

function deploymentView(deployment: K8s.V1Deployment): DeploymentView {
  const containers = deployment.spec?.template.spec?.containers ?? [];
  const container = containers.find((candidate) => candidate.name === CONTAINER_NAME) ?? containers[0];
  const status = deployment.status;
  return {
    name: deployment.metadata?.name ?? '',
    labels: deployment.metadata?.labels ?? {},
    generation: deployment.metadata?.generation ?? 0,
    observedGeneration: status?.observedGeneration ?? 0,
    desired: deployment.spec?.replicas ?? 1,
    current: status?.replicas ?? 0,
    updated: status?.updatedReplicas ?? 0,
    ready: status?.readyReplicas ?? 0,
    available: status?.availableReplicas ?? 0,
    image: container?.image ?? '',
    modelPath: container?.env?.find((variable) => variable.name === MODEL_PATH_VARIABLE)?.value ?? '',
    env: Object.fromEntries(
      (container?.env ?? []).flatMap((variable) => (variable.value === undefined ? [] : [[variable.name, variable.value] as const])),
    ),
    containerPort: container?.ports?.find((port) => port.name === HTTP_PORT_NAME)?.containerPort ?? null,
    conditions: (status?.conditions ?? []).map((condition) => ({
      type: condition.type,
      status: condition.status,
      ...(condition.reason ? { reason: condition.reason } : {}),
      ...(condition.message ? { message: condition.message } : {}),
    })),
  };
}

/** Containers and env merge by name (strategic merge patch), so only these fields change. */
function deploymentPatch(change: DeploymentChange): object {
  const labels = change.versionLabel ? { labels: { version: change.versionLabel } } : {};
  const env = [
    ...(change.modelPath ? [{ name: MODEL_PATH_VARIABLE, value: change.modelPath }] : []),
    ...Object.entries(change.env ?? {}).map(([name, value]) => ({ name, value })),
  ];
  const container = {
    ...(change.image ? { image: change.image } : {}),
    ...(env.length > 0 ? { env } : {}),
  };
  // An empty containers list is left out: a strategic merge patch must not be asked to merge nothing into the list.
  const podSpec =
    Object.keys(container).length > 0 ? { spec: { containers: [{ name: change.container ?? CONTAINER_NAME, ...container }] } } : {};
  return {
    metadata: labels,
    spec: {
      ...(change.replicas === undefined ? {} : { replicas: change.replicas }),
      template: { metadata: labels, ...podSpec },
    },
  };
}

function leaseView(lease: K8s.V1Lease): LeaseView {
  const spec = lease.spec ?? {};
  return {
    resourceVersion: lease.metadata?.resourceVersion ?? '',
    durationSeconds: spec.leaseDurationSeconds ?? 0,
    ...(spec.holderIdentity ? { holder: spec.holderIdentity } : {}),
    ...(spec.acquireTime ? { acquireTime: new Date(spec.acquireTime) } : {}),
    ...(spec.renewTime ? { renewTime: new Date(spec.renewTime) } : {}),
  };
}

function leaseBody(k8s: typeof K8s, name: string, lease: LeaseSpec, resourceVersion?: string): K8s.V1Lease {
  // MicroTime: the API server wants six digits of fractional seconds, which V1MicroTime writes.
  const micro = (time: Date | undefined) => (time ? new k8s.V1MicroTime(time.getTime()) : undefined);
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name, labels: { app: 'ml-model-service' }, ...(resourceVersion ? { resourceVersion } : {}) },
    spec: {
      leaseDurationSeconds: lease.durationSeconds,
      ...(lease.holder ? { holderIdentity: lease.holder } : {}),
      ...(lease.acquireTime ? { acquireTime: micro(lease.acquireTime) } : {}),
      ...(lease.renewTime ? { renewTime: micro(lease.renewTime) } : {}),
    },
  };
}

function configMapView(configMap: K8s.V1ConfigMap): ConfigMapView {
  return { data: configMap.data ?? {}, resourceVersion: configMap.metadata?.resourceVersion ?? '' };
}

/** The Status message of a failed API call (its body is JSON), else what was said. */
function statusMessage(body: unknown): string {
  const text = typeof body === 'string' ? body : (JSON.stringify(body) ?? '');
  try {
    const status = (typeof body === 'string' ? JSON.parse(body) : body) as { message?: string };
    if (status?.message) return status.message;
  } catch {
    // not JSON
  }
  return text.slice(0, 300);
}

function apiError(k8s: typeof K8s, what: string, namespace: string, error: unknown): DeployError {
  if (error instanceof DeployError) return error;
  const where = `\`${what}\` in namespace ${namespace}`;
  if (error instanceof k8s.ApiException) {
    const message = statusMessage(error.body);
    if (error.code === 401 || error.code === 403) return new DeployError('KUBE_FORBIDDEN', `${where}: ${error.code} ${message}`);
    if (error.code === 404) return new DeployError('KUBE_NOT_FOUND', `${where}: ${message}`);
    if (error.code === 409) return new DeployError('KUBE_CONFLICT', `${where}: ${message}`);
    return new DeployError('KUBE_API_FAILED', `${where}: HTTP ${error.code}: ${message}`);
  }
  return new DeployError('KUBE_API_FAILED', `${where}: ${(error as Error).message}`);
}

/**
 * A request through the API server's service proxy, authenticated as the kubeconfig says. The
 * generated client returns only the body; the gates also need the status and the X-Color header.
 */
async function proxyRequest(config: K8s.KubeConfig, url: string, call: HttpCall, what: string, namespace: string): Promise<HttpAnswer> {
  const target = new URL(url);
  const options: RequestOptions = {
    method: call.method,
    hostname: target.hostname,
    port: target.port,
    path: `${target.pathname}${target.search}`,
    headers: { ...(call.body === undefined ? {} : { 'content-type': 'application/json' }), ...call.headers },
  };
  await config.applyToHTTPSOptions(options);
  const send = target.protocol === 'http:' ? httpRequest : httpsRequest;
  const answer = await new Promise<HttpAnswer>((resolve, reject) => {
    const req = send(options, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers as Record<string, string>, body }));
    });
    req.setTimeout(call.timeoutMs ?? PROXY_TIMEOUT_MS, () =>
      req.destroy(new Error(`no answer within ${call.timeoutMs ?? PROXY_TIMEOUT_MS} ms`)),
    );
    req.on('error', (error) => reject(new DeployError('KUBE_API_FAILED', `\`${what}\` in namespace ${namespace}: ${error.message}`)));
    req.end(call.body);
  });
  // The API server's own refusal (a Status), not the service's answer.
  if ((answer.status === 401 || answer.status === 403) && answer.body.includes('"kind":"Status"')) {
    throw new DeployError('KUBE_FORBIDDEN', `\`${what}\` in namespace ${namespace}: ${answer.status} ${statusMessage(answer.body)}`);
  }
  return answer;
}

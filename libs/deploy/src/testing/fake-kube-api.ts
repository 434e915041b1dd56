import { once } from 'node:events';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Color, type PredictionRecord } from '@mlbg/contract';
import { renderKubernetesFiles } from '../render/kubernetes/kubernetes';
import {
  APP_NAME,
  CONTAINER_NAME,
  HTTP_PORT_NAME,
  HTTP_ROUTE,
  RELAY_CONTAINER,
  SHADOW_RELAY_SERVICE,
  deploymentName,
  versionLabel,
} from '../render/kubernetes/kubernetes-names';
import { DEFAULT_DEPLOYMENT_SPEC } from '../spec/deployment-spec';
import { RELAY_STATUS_PATH } from '../spec/sockets';
import { yamlObjects } from './kubernetes-models';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON bodies, read field by field as the tests need
type Json = any;

/**
 * A fake Kubernetes API server on a loopback port that speaks the real API's JSON for what the
 * Kubernetes backend uses: Services (merge patch with a resourceVersion precondition), Deployments
 * (strategic merge patch of the container, replicas and environment, a status that follows), pods
 * and EndpointSlices derived from them, Leases and ConfigMaps (create 409 AlreadyExists, replace
 * 409 Conflict on a stale resourceVersion), the HTTPRoute as rendered (merge patch with a
 * resourceVersion precondition, a generation that moves with its spec, managedFields naming each
 * writer's field manager), the service proxy to pods that answer like the model service (and to
 * the shadow relay), the pod proxy to each pod's prediction records, `Status` bodies for 401, 403,
 * 404 and 409. Tests add refusals and races with `forbid` and `before`, and edit the route as
 * another tool would with `editRoute`.
 */
export const FAKE_TOKEN = 'fake-deployer-token';
export const FAKE_NAMESPACE = 'ml-bluegreen';

interface FakeDeployment {
  generation: number;
  replicas: number;
  image: string;
  modelPath: string;
  labels: Record<string, string>;
  /** The template its ready pods run (what the proxy answers with). */
  ready: { image: string; modelPath: string; generation: number };
  /** Its new pods never become ready (a bad image or model). */
  neverReady: boolean;
  /** Its pods answer /health 503. */
  unhealthy: boolean;
  /** The container's environment (the relay's percent and queue size). */
  env: Record<string, string>;
}

interface FakeRoute {
  resourceVersion: string;
  generation: number;
  spec: Json;
  managedFields: { manager: string; operation: string; time: string; subresource?: string }[];
}

interface StoredObject {
  resourceVersion: string;
  body: Record<string, Json>;
}

/** May be async: the request is answered once it is done (a slow API server). */
type Hook = (request: { method: string; path: string; body: Json }) => void | Promise<void>;

export class FakeKubeApi {
  private server!: Server;
  private version = 100;
  readonly services = new Map<string, { selector: Record<string, string>; resourceVersion: string }>();
  readonly deployments = new Map<string, FakeDeployment>();
  readonly leases = new Map<string, StoredObject>();
  readonly configMaps = new Map<string, StoredObject>();
  /** The HTTPRoute as `deploy/kubernetes` renders it; undefined = a cluster without one. */
  httpRoute: FakeRoute | undefined;
  /** Each pod's prediction records (GET .../pods/<pod>:<port>/proxy/admin/predictions), by pod name. */
  readonly records = new Map<string, PredictionRecord[]>();
  /** Every request: `METHOD /path` and its answer's status. */
  readonly requests: { method: string; path: string; status: number }[] = [];
  private readonly refusals: { method: string; path: RegExp }[] = [];
  private readonly hooks: { method: string; path: RegExp; hook: Hook }[] = [];

  constructor() {
    this.services.set('ml-live', { selector: { app: APP_NAME, color: 'blue' }, resourceVersion: this.next() });
    this.services.set('ml-preview', { selector: { app: APP_NAME, color: 'green' }, resourceVersion: this.next() });
    for (const [color, model] of [
      ['blue', '/app/models/v1.0.0/model.onnx'],
      ['green', '/app/models/v1.1.0/model.onnx'],
    ] as const) {
      this.deployments.set(deploymentName(color), {
        generation: 1,
        replicas: 2,
        image: 'ml-model-service:local',
        modelPath: model,
        labels: { app: APP_NAME, color, version: versionLabel(model) },
        ready: { image: 'ml-model-service:local', modelPath: model, generation: 1 },
        neverReady: false,
        unhealthy: false,
        env: { MODEL_PATH: model },
      });
    }
    this.deployments.set(SHADOW_RELAY_SERVICE, {
      generation: 1,
      replicas: 0,
      image: 'ml-model-service:local',
      modelPath: '',
      labels: { app: SHADOW_RELAY_SERVICE },
      ready: { image: 'ml-model-service:local', modelPath: '', generation: 1 },
      neverReady: false,
      unhealthy: false,
      env: { RELAY_PERCENT: '10', RELAY_QUEUE_SIZE: '1000' },
    });
    const rendered = renderKubernetesFiles(DEFAULT_DEPLOYMENT_SPEC)
      .flatMap((file) => (file.path.endsWith('httproute.yaml') ? yamlObjects(file.content) : []))
      .find((object) => object.kind === 'HTTPRoute') as Json;
    this.httpRoute = {
      resourceVersion: this.next(),
      generation: 1,
      spec: rendered.spec,
      managedFields: [{ manager: 'kubectl-client-side-apply', operation: 'Update', time: new Date(0).toISOString() }],
    };
  }

  /** Changes the route's spec as another tool would (a new generation, its field manager recorded). */
  editRoute(manager: string, edit: (spec: Json) => void): void {
    if (!this.httpRoute) throw new Error('there is no HTTPRoute');
    edit(this.httpRoute.spec);
    Object.assign(this.httpRoute, { resourceVersion: this.next(), generation: this.httpRoute.generation + 1 });
    this.httpRoute.managedFields.push({ manager, operation: 'Update', time: new Date().toISOString() });
  }

  /** A gateway controller writing the route's status: a new resourceVersion, the same generation. */
  touchRouteStatus(): void {
    if (!this.httpRoute) throw new Error('there is no HTTPRoute');
    this.httpRoute.resourceVersion = this.next();
    this.httpRoute.managedFields.push({
      manager: 'envoy-gateway',
      operation: 'Update',
      time: new Date().toISOString(),
      subresource: 'status',
    });
  }

  /** The weights of ml-live and ml-preview in the route's rule for `/`. */
  routeWeights(): { live: number; preview: number } | undefined {
    const rule = this.httpRoute?.spec.rules.find((candidate: Json) => candidate.matches?.[0]?.path?.value === '/');
    if (!rule) return undefined;
    const of = (name: string) => rule.backendRefs.find((ref: Json) => ref.name === name)?.weight ?? 1;
    return { live: of('ml-live'), preview: of('ml-preview') };
  }

  /** The share of live traffic each color gets now, as the gateway would send it (selectors and weights). */
  liveShares(): Record<Color, number> {
    const weights = this.routeWeights() ?? { live: 100, preview: 0 };
    const shares: Record<Color, number> = { blue: 0, green: 0 };
    const total = weights.live + weights.preview;
    for (const [service, weight] of [
      ['ml-live', weights.live],
      ['ml-preview', weights.preview],
    ] as const) {
      const color = Color.options.find((candidate) => candidate === this.services.get(service)?.selector['color']);
      if (color) shares[color] += weight / total;
    }
    return shares;
  }

  /** The names of the ready pods of a color, as the pod list gives them. */
  podNames(color: Color): string[] {
    return this.pods(`app=${APP_NAME},color=${color}`).map((pod) => pod.metadata.name);
  }

  async start(): Promise<string> {
    this.server = createServer((request, response) => void this.handle(request, response));
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  /** Answers 403 Forbidden to `method` on paths matching `path`. */
  forbid(method: string, path: RegExp): void {
    this.refusals.push({ method, path });
  }

  /** Runs `hook` once, just before the first `method` request on a matching path is handled. */
  before(method: string, path: RegExp, hook: Hook): void {
    this.hooks.push({ method, path, hook });
  }

  next(): string {
    return String(++this.version);
  }

  deployment(color: Color): FakeDeployment {
    return this.deployments.get(deploymentName(color)) as FakeDeployment;
  }

  /** The requests that changed something (everything but GET). */
  writes(): string[] {
    return this.requests
      .filter((request) => request.method !== 'GET')
      .map((request) => `${request.method} ${request.path} ${request.status}`);
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    let text = '';
    for await (const chunk of request) text += chunk;
    const url = new URL(request.url ?? '/', 'http://fake');
    const method = request.method ?? 'GET';
    const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      this.requests.push({ method, path: url.pathname, status });
      response.writeHead(status, { 'content-type': 'application/json', ...headers });
      response.end(typeof body === 'string' ? body : JSON.stringify(body));
    };
    if (request.headers.authorization !== `Bearer ${FAKE_TOKEN}`) return answer(401, status(401, 'Unauthorized', 'Unauthorized'));
    if (this.refusals.some((refusal) => refusal.method === method && refusal.path.test(url.pathname))) {
      return answer(
        403,
        status(
          403,
          'Forbidden',
          `${url.pathname} is forbidden: User "system:serviceaccount:ci:someone" cannot ${method.toLowerCase()} it in the namespace "${FAKE_NAMESPACE}"`,
        ),
      );
    }
    let body: Json;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      return answer(400, status(400, 'BadRequest', 'the body is not JSON'));
    }
    const hook = this.hooks.findIndex((candidate) => candidate.method === method && candidate.path.test(url.pathname));
    if (hook !== -1) await this.hooks.splice(hook, 1)[0]?.hook({ method, path: url.pathname, body });
    const [, group, namespace, resource, name, ...rest] =
      /^\/(?:api\/v1|apis\/([^/]+\/[^/]+))\/namespaces\/([^/]+)\/([^/]+)(?:\/([^/]+))?(?:\/(.*))?$/.exec(url.pathname) ?? [];
    if (namespace !== FAKE_NAMESPACE) return answer(404, status(404, 'NotFound', `namespaces "${namespace}" not found`));
    const subpath = rest.join('/');
    const route = `${method} ${group ?? 'core'} ${resource}${name ? ' one' : ''}${subpath ? ` ${subpath.split('/')[0]}` : ''}`;
    const [result, statusCode, headers] = this.route(route, name ?? '', subpath, body, url, method) ?? [
      status(404, 'NotFound', `the server could not find the requested resource (${method} ${url.pathname})`),
      404,
    ];
    return answer(statusCode, result, headers);
  }

  private route(
    route: string,
    name: string,
    subpath: string,
    body: Json,
    url: URL,
    method: string,
  ): [unknown, number, Record<string, string>?] | undefined {
    const notFound = (kind: string): [unknown, number] => [status(404, 'NotFound', `${kind} "${name}" not found`), 404];
    const conflict = (kind: string): [unknown, number] => [
      status(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${kind} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
      ),
      409,
    ];
    if (name.includes(':') && route.startsWith(`${method} core services one proxy`))
      return this.proxy(name, subpath.replace(/^proxy\//, ''), body, method);
    if (name.includes(':') && route.startsWith(`${method} core pods one proxy`))
      return this.podProxy(name, subpath.replace(/^proxy\//, ''), url);
    switch (route) {
      case 'GET core services one': {
        const service = this.services.get(name.split(':')[0] ?? '');
        return service ? [serviceJson(name, service), 200] : notFound('services');
      }
      case 'PATCH core services one': {
        const service = this.services.get(name);
        if (!service) return notFound('services');
        const precondition = body?.metadata?.resourceVersion;
        if (precondition !== undefined && precondition !== service.resourceVersion) return conflict('services');
        Object.assign(service, { selector: { ...service.selector, ...(body?.spec?.selector ?? {}) }, resourceVersion: this.next() });
        return [serviceJson(name, service), 200];
      }
      case 'GET apps/v1 deployments one': {
        const deployment = this.deployments.get(name);
        return deployment ? [this.deploymentJson(name, deployment), 200] : notFound('deployments.apps');
      }
      case 'PATCH apps/v1 deployments one': {
        const deployment = this.deployments.get(name);
        if (!deployment) return notFound('deployments.apps');
        const container = body?.spec?.template?.spec?.containers?.find(
          (candidate: { name: string }) => candidate.name === (name === SHADOW_RELAY_SERVICE ? RELAY_CONTAINER : CONTAINER_NAME),
        );
        const image = container?.image ?? deployment.image;
        const env = { ...deployment.env };
        for (const variable of (container?.env ?? []) as { name: string; value: string }[]) env[variable.name] = variable.value;
        const modelPath = env['MODEL_PATH'] ?? deployment.modelPath;
        const replicas = body?.spec?.replicas ?? deployment.replicas;
        if (image !== deployment.image || JSON.stringify(env) !== JSON.stringify(deployment.env) || replicas !== deployment.replicas)
          deployment.generation += 1;
        Object.assign(deployment, { image, modelPath, env, replicas, labels: { ...deployment.labels, ...(body?.metadata?.labels ?? {}) } });
        return [this.deploymentJson(name, deployment), 200];
      }
      case 'GET core pods':
        return [{ kind: 'PodList', apiVersion: 'v1', metadata: {}, items: this.pods(url.searchParams.get('labelSelector') ?? '') }, 200];
      case 'GET discovery.k8s.io/v1 endpointslices': {
        const service = this.services.get((url.searchParams.get('labelSelector') ?? '').replace('kubernetes.io/service-name=', ''));
        const pods = service
          ? this.pods(
              Object.entries(service.selector)
                .map(([key, value]) => `${key}=${value}`)
                .join(','),
            )
          : [];
        const endpoints = pods.map((pod) => ({
          addresses: ['10.0.0.1'],
          conditions: { ready: pod.status.conditions[0].status === 'True' },
          targetRef: { kind: 'Pod', name: pod.metadata.name, namespace: FAKE_NAMESPACE },
        }));
        return [
          {
            kind: 'EndpointSliceList',
            apiVersion: 'discovery.k8s.io/v1',
            metadata: {},
            items: service ? [{ metadata: { name: 'slice' }, addressType: 'IPv4', endpoints }] : [],
          },
          200,
        ];
      }
      case 'GET coordination.k8s.io/v1 leases one':
      case 'GET core configmaps one': {
        const store = route.includes('leases') ? this.leases : this.configMaps;
        const found = store.get(name);
        return found ? [withVersion(found), 200] : notFound(route.includes('leases') ? 'leases.coordination.k8s.io' : 'configmaps');
      }
      case 'POST coordination.k8s.io/v1 leases':
      case 'POST core configmaps': {
        const store = route.includes('leases') ? this.leases : this.configMaps;
        const newName = body?.metadata?.name as string;
        if (store.has(newName))
          return [
            status(
              409,
              'AlreadyExists',
              `${route.includes('leases') ? 'leases.coordination.k8s.io' : 'configmaps'} "${newName}" already exists`,
            ),
            409,
          ];
        const created = { resourceVersion: this.next(), body };
        store.set(newName, created);
        return [withVersion(created), 201];
      }
      case 'PUT coordination.k8s.io/v1 leases one':
      case 'PUT core configmaps one': {
        const store = route.includes('leases') ? this.leases : this.configMaps;
        const found = store.get(name);
        if (!found) return notFound(route.includes('leases') ? 'leases.coordination.k8s.io' : 'configmaps');
        if (body?.metadata?.resourceVersion !== found.resourceVersion)
          return conflict(route.includes('leases') ? 'leases.coordination.k8s.io' : 'configmaps');
        Object.assign(found, { resourceVersion: this.next(), body });
        return [withVersion(found), 200];
      }
      case 'GET gateway.networking.k8s.io/v1 httproutes one':
        return this.httpRoute && name === HTTP_ROUTE ? [this.routeJson(), 200] : notFound('httproutes.gateway.networking.k8s.io');
      case 'PATCH gateway.networking.k8s.io/v1 httproutes one': {
        if (!this.httpRoute || name !== HTTP_ROUTE) return notFound('httproutes.gateway.networking.k8s.io');
        const precondition = body?.metadata?.resourceVersion;
        if (precondition !== undefined && precondition !== this.httpRoute.resourceVersion)
          return conflict('httproutes.gateway.networking.k8s.io');
        // A merge patch replaces a list whole: the rules are what was sent.
        const spec = { ...this.httpRoute.spec, ...(body?.spec ?? {}) };
        const changed = JSON.stringify(spec) !== JSON.stringify(this.httpRoute.spec);
        Object.assign(this.httpRoute, { spec, resourceVersion: this.next(), generation: this.httpRoute.generation + (changed ? 1 : 0) });
        this.httpRoute.managedFields.push({
          manager: url.searchParams.get('fieldManager') ?? 'unknown',
          operation: 'Update',
          time: new Date().toISOString(),
        });
        return [this.routeJson(), 200];
      }
      default:
        return undefined;
    }
  }

  private routeJson() {
    const route = this.httpRoute as FakeRoute;
    return {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: {
        name: HTTP_ROUTE,
        namespace: FAKE_NAMESPACE,
        resourceVersion: route.resourceVersion,
        generation: route.generation,
        managedFields: route.managedFields,
      },
      spec: route.spec,
    };
  }

  /** The status a Deployment controller would report; a never-ready rollout keeps its old pods serving. */
  private deploymentJson(name: string, deployment: FakeDeployment) {
    const changed = deployment.image !== deployment.ready.image || deployment.modelPath !== deployment.ready.modelPath;
    if (changed && !deployment.neverReady)
      deployment.ready = { image: deployment.image, modelPath: deployment.modelPath, generation: deployment.generation };
    const stuck = changed && deployment.neverReady;
    const { replicas } = deployment;
    return {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        name,
        namespace: FAKE_NAMESPACE,
        generation: deployment.generation,
        labels: deployment.labels,
        resourceVersion: this.next(),
      },
      spec: {
        replicas,
        selector: { matchLabels: { app: APP_NAME, color: deployment.labels['color'] } },
        template: {
          metadata: { labels: deployment.labels },
          spec: {
            containers: [
              {
                name: name === SHADOW_RELAY_SERVICE ? RELAY_CONTAINER : CONTAINER_NAME,
                image: deployment.image,
                ports: [{ name: HTTP_PORT_NAME, containerPort: 8081 }],
                env: Object.entries(deployment.env).map(([variable, value]) => ({ name: variable, value })),
              },
            ],
          },
        },
      },
      status: {
        observedGeneration: deployment.generation,
        replicas: stuck ? replicas + 1 : replicas,
        updatedReplicas: stuck ? 1 : replicas,
        readyReplicas: replicas,
        availableReplicas: replicas,
        conditions: [{ type: 'Progressing', status: 'True', reason: stuck ? 'ReplicaSetUpdated' : 'NewReplicaSetAvailable' }],
      },
    };
  }

  /** The ready pods of the Deployments matching a label selector (`a=b,c=d`). */
  private pods(selector: string) {
    const wanted = Object.fromEntries(
      selector
        .split(',')
        .filter(Boolean)
        .map((pair) => pair.split('=')),
    );
    return [...this.deployments.entries()]
      .filter(([, deployment]) => Object.entries(wanted).every(([key, value]) => deployment.labels[key] === value))
      .flatMap(([name, deployment]) =>
        Array.from({ length: deployment.replicas }, (_, index) => ({
          metadata: { name: `${name}-${deployment.ready.generation}abc-${index}`, namespace: FAKE_NAMESPACE, labels: deployment.labels },
          spec: { containers: [{ name: CONTAINER_NAME, ports: [{ name: HTTP_PORT_NAME, containerPort: 8081 }] }] },
          status: { conditions: [{ type: 'Ready', status: 'True' }] },
        })),
      );
  }

  /** The pod proxy: a pod's own prediction records (`?after=SEQ&limit=N`), as the model service answers them. */
  private podProxy(nameAndPort: string, subpath: string, url: URL): [unknown, number, Record<string, string>] {
    const [pod, port] = nameAndPort.split(':');
    const color = Color.options.find((candidate) => this.podNames(candidate).includes(pod ?? ''));
    if (!color || port !== '8081') return [status(404, 'NotFound', `pods "${pod}" not found`), 404, {}];
    if (`/${subpath}` !== '/admin/predictions') return [{ detail: 'Not Found' }, 404, {}];
    const records = this.records.get(pod as string) ?? [];
    const after = Number(url.searchParams.get('after') ?? 0);
    const limit = Number(url.searchParams.get('limit') ?? 1000);
    const deployment = this.deployment(color);
    return [
      {
        color,
        version: versionLabel(deployment.ready.modelPath),
        capacity: 1000,
        recorded: records.length,
        records: records.filter((record) => record.seq > after).slice(0, limit),
      },
      200,
      {},
    ];
  }

  /** The service proxy: the pods of the color the Service selects answer like the model service. */
  private proxy(nameAndPort: string, subpath: string, body: Json, method: string): [unknown, number, Record<string, string>] {
    if (nameAndPort.split(':')[0] === SHADOW_RELAY_SERVICE) {
      const relay = this.deployments.get(SHADOW_RELAY_SERVICE) as FakeDeployment;
      if (relay.replicas === 0) return [status(503, 'ServiceUnavailable', `no endpoints available for service "${nameAndPort}"`), 503, {}];
      if (`/${subpath}` !== RELAY_STATUS_PATH) return [{ error: 'no such relay route' }, 404, {}];
      const percent = Number(relay.env['RELAY_PERCENT']);
      return [
        {
          received: 40,
          sampledOut: 0,
          dropped: 0,
          forwarded: 40,
          failed: 0,
          lastError: null,
          percent,
          queueSize: 1000,
          queued: 0,
          inFlight: 0,
          targetSockets: ['http://ml-preview:80'],
          capture: null,
        },
        200,
        {},
      ];
    }
    const service = this.services.get(nameAndPort.split(':')[0] ?? '');
    const color = Color.options.find((candidate) => candidate === service?.selector['color']);
    if (!service || !color) return [status(503, 'ServiceUnavailable', `no endpoints available for service "${nameAndPort}"`), 503, {}];
    const deployment = this.deployment(color);
    const version = versionLabel(deployment.ready.modelPath);
    const headers = { 'x-color': color, 'x-model-version': version };
    if (`/${subpath}` === '/health' && method === 'GET') {
      const health = {
        status: deployment.unhealthy ? 'unavailable' : 'ok',
        version,
        color,
        feature_count: 1,
        model_sha256: 'a'.repeat(64),
        uptime_seconds: 12,
      };
      return [health, deployment.unhealthy ? 503 : 200, headers];
    }
    if (`/${subpath}` === '/predict' && method === 'POST') {
      const rows = (body?.features ?? []) as number[][];
      return [{ predictions: rows.map((row) => (row[0] ?? 0) * 2), model_version: version }, 200, headers];
    }
    return [{ detail: 'Not Found' }, 404, headers];
  }
}

function status(code: number, reason: string, message: string) {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

function serviceJson(name: string, service: { selector: Record<string, string>; resourceVersion: string }) {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: FAKE_NAMESPACE, resourceVersion: service.resourceVersion },
    spec: { selector: service.selector, ports: [{ name: HTTP_PORT_NAME, port: 80, targetPort: HTTP_PORT_NAME }] },
  };
}

function withVersion(object: StoredObject) {
  return { ...object.body, metadata: { ...object.body['metadata'], namespace: FAKE_NAMESPACE, resourceVersion: object.resourceVersion } };
}

/** A kubeconfig for the fake server: context `fake` (the deployer's token) and `stranger` (a wrong token). */
export function fakeKubeconfig(server: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    // client-node speaks plain HTTP only with TLS verification off (the fake server has no certificate).
    clusters: [{ name: 'fake', cluster: { server, 'insecure-skip-tls-verify': true } }],
    users: [
      { name: 'deployer', user: { token: FAKE_TOKEN } },
      { name: 'stranger', user: { token: 'wrong' } },
    ],
    contexts: [
      { name: 'fake', context: { cluster: 'fake', user: 'deployer', namespace: FAKE_NAMESPACE } },
      { name: 'stranger', context: { cluster: 'fake', user: 'stranger' } },
    ],
    'current-context': 'fake',
  });
}

import { Color, otherColor } from '@mlbg/contract';
import { healthView, judgeHealth, noAnswer } from '../../effects/service-client';
import { DeployError } from '../../errors';
import { IMAGE_APP_DIR } from '../../render/compose/compose';
import {
  APP_NAME,
  HTTP_ROUTE,
  LIVE_SERVICE,
  PREVIEW_SERVICE,
  deploymentName,
  versionLabel,
} from '../../render/kubernetes/kubernetes-names';
import { DEFAULT_SCRAPE_INTERVAL_MS } from '../../render/kubernetes/monitoring';
import { type Routes, type Weights, allTo, describeWeights, soleTarget } from '../../routing/routes';
import { DEFAULT_PREVIEW_PATH_PREFIX } from '../../spec/deployment-spec';
import type { Backend, BackendRuntime, BackendStatus, ColorStatus, ReleaseRequest, ReleaseResult, ShadowStatus } from '../backend';
import { type ServiceWeights, readWeights, withWeights } from './http-route';
import type { DeploymentChange, HttpRouteView, KubeApi, ServiceView } from './kube-api';
import { colorAccess } from './kubernetes-colors';
import { shadowControl } from './kubernetes-shadow';
import type { PrometheusClient } from './prometheus';
import { prometheusCharts } from './prometheus-charts';
import { prometheusMeter, prometheusServedBetween } from './prometheus-meter';
import { waitForRollout } from './rollout';
import { patchRouteRules, routeChanged } from './route-patch';

/** A release waits this long for the idle Deployment's rollout (pods pull the image, load the model). */
const DEFAULT_ROLLOUT_TIMEOUT_MS = 300_000;
/** After a selector patch, the Service's endpoints follow within this long (the EndpointSlice controller). */
const ENDPOINTS_TIMEOUT_MS = 30_000;
/** After a rollout, the preview Service answers as the released color within this long. */
const PREVIEW_TIMEOUT_MS = 30_000;
const POLL_MS = 1_000;
const ENDPOINTS_POLL_MS = 250;

/** Which Service selects which color, as last read or written (with the resourceVersion for the next patch). */
interface Selection {
  readonly live: ServiceView;
  readonly preview: ServiceView;
}

/** What the Kubernetes backend reads besides the API server. */
export interface KubernetesOptions {
  /** Where the colors' counters are (the canary's analysis, the dashboard's charts); without it a canary is refused. */
  readonly prometheus?: PrometheusClient;
  /** How often Prometheus scrapes the pods (the ServiceMonitor's interval). */
  readonly scrapeIntervalMs?: number;
  /** The HTTPRoute's preview prefix (the spec's preview.pathPrefix): probes to the canary are sent there. */
  readonly previewPathPrefix?: string;
}

const colorOf = (service: ServiceView): Color | undefined => Color.options.find((color) => service.selector['color'] === color);

/** Without an HTTPRoute (a cluster without the Gateway API) the Services alone route: all live traffic to ml-live. */
const ALL_LIVE: ServiceWeights = { live: 100, preview: 0 };

/** The live route in percents per color, from the Services' weights in the route (Gateway API weights are relative). */
function liveWeights(live: Color, weights: ServiceWeights): Weights {
  const liveShare = Math.round((100 * weights.live) / (weights.live + weights.preview));
  return { [live]: liveShare, [otherColor(live)]: 100 - liveShare } as Weights;
}

/**
 * The Kubernetes deployment as a {@link Backend}: the live route is the ml-live Service's color
 * selector plus the HTTPRoute's weights of ml-live and ml-preview (a canary moves the weights, a
 * switch patches the selectors); the preview route is ml-preview's selector. Every patch carries
 * the resourceVersion read as its precondition; the route is also checked against the generation
 * this command last saw, so a change made meanwhile by anyone else is refused and named, never
 * overwritten. Each color is reached through the API server's service proxy to whichever Service
 * selects it, and each of its pods through the pod proxy; a release patches the idle Deployment
 * and waits for its rollout. No version is recorded here: the preflight expects what
 * --expect-version says, else what the color answers.
 */
export function kubernetesBackend(api: KubeApi, runtime: BackendRuntime, options: KubernetesOptions = {}): Backend {
  let known: Selection | undefined;
  /** The route's generation when this command last read or wrote it: a different one is someone else's change. */
  let routeSeen: number | undefined;

  async function readSelection(): Promise<Selection> {
    const [live, preview] = [await api.readService(LIVE_SERVICE), await api.readService(PREVIEW_SERVICE)];
    known = { live, preview };
    return known;
  }

  async function readRoute(): Promise<HttpRouteView | undefined> {
    const route = await api.readHttpRoute(HTTP_ROUTE);
    routeSeen ??= route?.generation;
    return route;
  }

  function weightsOf(route: HttpRouteView | undefined): ServiceWeights {
    if (!route) return ALL_LIVE;
    const weights = readWeights(route.rules);
    if (typeof weights === 'string')
      throw new DeployError('KUBE_CONFLICT', `HTTPRoute ${api.namespace}/${HTTP_ROUTE}: ${weights}.`, {
        hint: `Put it back with \`kubectl apply -k deploy/kubernetes\` (it is rendered with ${LIVE_SERVICE} 100 and ${PREVIEW_SERVICE} 0), then run the command again.`,
      });
    return weights;
  }

  async function routesNow(): Promise<Routes> {
    const selection = await readSelection();
    const live = colorOf(selection.live);
    const preview = colorOf(selection.preview);
    if (!live || !preview || live === preview) {
      throw new DeployError(
        'KUBE_CONFLICT',
        `Service ${LIVE_SERVICE} selects color=${selection.live.selector['color'] ?? '(none)'} and ${PREVIEW_SERVICE} color=${selection.preview.selector['color'] ?? '(none)'}; each must select one color, and not the same one.`,
        {
          hint: `Put them back with \`kubectl patch service ${LIVE_SERVICE} -n ${api.namespace} -p '{"spec":{"selector":{"color":"blue"}}}'\` (and ${PREVIEW_SERVICE} to green), or \`kubectl apply -k deploy/kubernetes\`.`,
        },
      );
    }
    return { live: liveWeights(live, weightsOf(await readRoute())), preview: allTo(preview) };
  }

  /** The Service that reaches `color` now (live or preview). */
  async function serviceFor(color: Color): Promise<string> {
    const selection = await readSelection();
    if (colorOf(selection.preview) === color) return PREVIEW_SERVICE;
    if (colorOf(selection.live) === color) return LIVE_SERVICE;
    throw new Error(`neither ${LIVE_SERVICE} nor ${PREVIEW_SERVICE} selects ${color}`);
  }

  /** Waits until the Service's ready endpoints are all pods of `color` (and there is one). */
  async function waitForEndpoints(service: string, color: Color): Promise<void> {
    const started = runtime.clock.now();
    for (;;) {
      const pods = new Set((await api.listPods(`app=${APP_NAME},color=${color}`)).map((pod) => pod.name));
      const ready = (await api.listEndpoints(service)).filter((endpoint) => endpoint.ready);
      const others = ready.filter((endpoint) => !endpoint.pod || !pods.has(endpoint.pod));
      if (ready.length > 0 && others.length === 0) return;
      if (runtime.clock.now() - started >= ENDPOINTS_TIMEOUT_MS) {
        throw new DeployError(
          'KUBE_API_FAILED',
          `Service ${service} selects ${color}, but after ${ENDPOINTS_TIMEOUT_MS / 1000} s its ready endpoints are ${ready.length === 0 ? 'none' : ready.map((endpoint) => endpoint.pod ?? '?').join(', ')}.`,
          {
            hint: `Check the ${color} pods: \`kubectl get pods -n ${api.namespace} -l app=${APP_NAME},color=${color}\` and \`kubectl get endpointslices -n ${api.namespace} -l kubernetes.io/service-name=${service}\`.`,
          },
        );
      }
      await runtime.clock.sleep(ENDPOINTS_POLL_MS);
    }
  }

  /** The switch and the canary report only the detail of a failed move: keep what to do with it. */
  const withHint = (error: unknown): never => {
    throw error instanceof DeployError ? new DeployError(error.code, `${error.detail} What to do: ${error.hint}`) : error;
  };

  async function patchSelector(role: 'live' | 'preview', color: Color): Promise<void> {
    const selection = known ?? (await readSelection());
    const service = selection[role];
    if (colorOf(service) === color) return;
    const patched = await api.patchServiceSelector(service.name, { ...service.selector, color }, service.resourceVersion).catch(withHint);
    known = { ...selection, [role]: patched };
    if (role === 'live') await waitForEndpoints(service.name, color);
  }

  /** Sets the route's weights, refusing (and naming who) when its spec changed since this command saw it. */
  async function patchWeights(wanted: ServiceWeights): Promise<void> {
    const route = await api.readHttpRoute(HTTP_ROUTE);
    if (!route) {
      if (wanted.preview === 0) return;
      throw new DeployError(
        'CANARY_NOT_SUPPORTED',
        `There is no HTTPRoute ${api.namespace}/${HTTP_ROUTE} to split live traffic with (the Services alone send all of it to one color).`,
        {
          hint: 'Install the Gateway API CRDs and a Gateway implementation, then `kubectl apply -k deploy/kubernetes` (docs/kubernetes.md).',
        },
      );
    }
    if (routeSeen !== undefined && route.generation !== routeSeen) throw routeChanged(api, route, routeSeen);
    const patched = await patchRouteRules(api, route, (current) => {
      const now = weightsOf(current);
      return now.live === wanted.live && now.preview === wanted.preview ? undefined : withWeights(current.rules, wanted);
    });
    if (patched) routeSeen = patched.generation;
  }

  const shadow = shadowControl(api, runtime);
  return {
    kind: 'kubernetes',
    routerUrl: api.proxyUrl(LIVE_SERVICE),
    up: () => Promise.reject(notHere('up', 'kubectl apply -k deploy/kubernetes')),
    down: () => Promise.reject(notHere('down', 'kubectl delete -k deploy/kubernetes')),
    release: (request) => release(api, runtime, request, routesNow),
    status: () => status(api, readSelection, routesNow, shadow.status),
    readRoutes: routesNow,
    async setRoutes(routes) {
      const preview = soleTarget(routes.preview);
      if (!preview) {
        throw new DeployError(
          'CANARY_NOT_SUPPORTED',
          `On Kubernetes the preview route is the ${PREVIEW_SERVICE} Service, one color; asked for preview ${describeWeights(routes.preview)}.`,
        );
      }
      const live = otherColor(preview);
      const wanted: ServiceWeights = { live: routes.live[live], preview: routes.live[preview] };
      // A route someone else changed is refused before anything moves.
      const route = await api.readHttpRoute(HTTP_ROUTE);
      if (route && routeSeen !== undefined && route.generation !== routeSeen) withHint(routeChanged(api, route, routeSeen));
      // ml-live first: while both Services select the new live color all live traffic is on it, whatever the weights;
      // then the weights; then ml-preview. A canary's promotion and a switch both go through no mixed state.
      await patchSelector('live', live);
      await patchWeights(wanted).catch(withHint);
      await patchSelector('preview', preview);
    },
    routerHealth: (route = 'live') => api.proxy(route === 'live' ? LIVE_SERVICE : PREVIEW_SERVICE, { method: 'GET', path: '/health' }),
    colors: colorAccess(api, serviceFor),
    canary: {
      slots: 100,
      previewPathPrefix: options.previewPathPrefix ?? DEFAULT_PREVIEW_PATH_PREFIX,
      // Probes: to the canary through ml-preview, to the stable color through ml-live (the API server's service proxy).
      request: (call) => {
        const prefix = options.previewPathPrefix ?? DEFAULT_PREVIEW_PATH_PREFIX;
        return call.path.startsWith(prefix)
          ? api.proxy(PREVIEW_SERVICE, { ...call, path: `/${call.path.slice(prefix.length)}` })
          : api.proxy(LIVE_SERVICE, call);
      },
      meter: (colors) => {
        if (!options.prometheus) throw noPrometheus();
        return prometheusMeter(options.prometheus, runtime.clock, options.scrapeIntervalMs ?? DEFAULT_SCRAPE_INTERVAL_MS, colors);
      },
      servedBetween: (window) => {
        if (!options.prometheus) throw noPrometheus();
        return prometheusServedBetween(options.prometheus, window);
      },
    },
    shadow,
    ...(options.prometheus ? { charts: prometheusCharts(options.prometheus, options.scrapeIntervalMs ?? DEFAULT_SCRAPE_INTERVAL_MS) } : {}),
  };
}

/** PROMETHEUS_FAILED: what each color served is read from Prometheus here, and none is configured. */
function noPrometheus(): DeployError {
  return new DeployError('PROMETHEUS_FAILED', 'No Prometheus is configured to read what each color served.', {
    hint: 'Set kubernetes.prometheusUrl in deploy/deployment.json (or BLUEGREEN_PROMETHEUS_URL) to a Prometheus that scrapes the colors (the ServiceMonitor of deploy/kubernetes).',
  });
}

function notHere(command: 'up' | 'down', instead: string): DeployError {
  return new DeployError('USAGE', `deploy:${command} does not manage a cluster; run \`${instead}\` instead.`);
}

/** A model path as the image sees it: repository paths live under the image's /app. */
function modelInImage(model: string): string {
  return model.startsWith('/') ? model : `${IMAGE_APP_DIR}/${model.replace(/^\.\//, '')}`;
}

/**
 * `deploy:release --backend=kubernetes`: sets the idle color's image and/or model (MODEL_PATH)
 * and its `version` label, waits for the rollout, then for the preview Service to answer as that
 * color. When the rollout does not finish, the Deployment is put back as it was.
 */
async function release(
  api: KubeApi,
  runtime: BackendRuntime,
  request: ReleaseRequest,
  routesNow: () => Promise<Routes>,
): Promise<ReleaseResult> {
  if (!request.model && !request.image)
    throw new DeployError(
      'USAGE',
      'A Kubernetes release needs --model=<path of an .onnx file in the image> and/or --image=<image reference>.',
    );
  const begin = runtime.clock.now();
  const routes = await routesNow();
  const live = soleTarget(routes.live) ?? 'blue';
  const idle = otherColor(live);
  if (request.color === live)
    throw new DeployError('LIVE_COLOR_RELEASE', `${live} is live (Service ${LIVE_SERVICE} selects it); the idle color is ${idle}.`);
  const color = request.color ?? idle;
  const name = deploymentName(color);
  const before = await api.readDeployment(name);
  const change: DeploymentChange = {
    ...(request.image ? { image: request.image } : {}),
    ...(request.model ? { modelPath: modelInImage(request.model), versionLabel: versionLabel(request.model) } : {}),
  };
  const timeoutMs = request.timeoutMs ?? DEFAULT_ROLLOUT_TIMEOUT_MS;
  runtime.progress(
    `Releasing ${[request.image ? `image ${request.image}` : '', request.model ? `model ${change.modelPath}` : ''].filter(Boolean).join(' and ')} to ${color} (idle; ${live} stays live): patching deployment ${name}...`,
  );
  await api.patchDeployment(name, change);
  try {
    await waitForRollout(api, runtime, name, timeoutMs);
  } catch (error) {
    runtime.progress(`${name} did not roll out; putting it back on ${before.image} ${before.modelPath}...`);
    const restored = await api
      .patchDeployment(name, {
        image: before.image,
        modelPath: before.modelPath,
        versionLabel: before.labels['version'] ?? versionLabel(before.modelPath),
      })
      .then(() => waitForRollout(api, runtime, name, timeoutMs))
      .then(
        () => `${name} runs ${before.image} with ${before.modelPath} again.`,
        (again: Error) =>
          `Putting ${name} back failed too: ${again.message} Run \`kubectl rollout undo deployment/${name} -n ${api.namespace}\`.`,
      );
    throw new DeployError('RELEASE_FAILED', `${(error as Error).message}\n${restored}`, {
      hint: `See why: \`kubectl describe deployment ${name} -n ${api.namespace}\` and \`kubectl logs -n ${api.namespace} -l app=${APP_NAME},color=${color}\`. Live traffic was not affected.`,
    });
  }
  const health = await waitForPreview(api, runtime, color);
  const liveHealth = judgeHealth(
    await api.proxy(LIVE_SERVICE, { method: 'GET', path: '/health' }).catch(() => ({ status: 0, headers: {}, body: '' })),
  );
  const after = await api.readDeployment(name);
  const notes: string[] = [];
  if (liveHealth.health && liveHealth.health.feature_count !== health.feature_count) {
    notes.push(
      `Its input signature differs from live ${live}'s: ${health.feature_count} feature(s) per row instead of ${liveHealth.health.feature_count}, so deploy:switch will refuse to send live traffic to it.`,
    );
  }
  if (request.model && versionLabel(request.model) !== health.version) {
    notes.push(
      `Its pods are labelled version=${versionLabel(request.model)} (from the model's folder), but the model says it is ${health.version}.`,
    );
  }
  return {
    color,
    model: after.modelPath,
    image: after.image,
    previousModel: before.modelPath,
    previous: { model: before.modelPath, image: before.image },
    pid: null,
    version: health.version,
    featureCount: health.feature_count,
    modelSha256: health.model_sha256,
    previewUrl: `${api.proxyUrl(PREVIEW_SERVICE)}/`,
    live: { color: live, version: liveHealth.health?.version ?? null, featureCount: liveHealth.health?.feature_count ?? null },
    notes,
    durationMs: runtime.clock.now() - begin,
  };
}

/** After a rollout: the preview Service answers 200 "ok" as `color` (its endpoints may lag the rollout a moment). */
async function waitForPreview(api: KubeApi, runtime: BackendRuntime, color: Color) {
  const started = runtime.clock.now();
  let last = 'no answer yet';
  for (;;) {
    const check = await api.proxy(PREVIEW_SERVICE, { method: 'GET', path: '/health' }).then(judgeHealth, noAnswer);
    if (check.kind === 'ok' && check.health.color === color) return check.health;
    last = check.kind === 'ok' ? `answered as ${check.health.color}` : check.problem;
    if (runtime.clock.now() - started >= PREVIEW_TIMEOUT_MS) {
      throw new DeployError('PREVIEW_UNREACHABLE', `${api.proxyUrl(PREVIEW_SERVICE)}/health: ${last} (expected 200 "ok" from ${color}).`, {
        hint: `Check that ${PREVIEW_SERVICE} selects ${color}: \`npx nx run deploy:status --backend=kubernetes\`.`,
      });
    }
    await runtime.clock.sleep(POLL_MS);
  }
}

/** `deploy:status --backend=kubernetes`: both Deployments, what each Service selects, what each answers. Changes nothing. */
async function status(
  api: KubeApi,
  readSelection: () => Promise<Selection>,
  routesNow: () => Promise<Routes>,
  shadow: () => Promise<ShadowStatus>,
): Promise<BackendStatus> {
  const notes: string[] = [];
  const attempt = async <T>(action: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await action();
    } catch (error) {
      notes.push((error as Error).message);
      return undefined;
    }
  };
  const selection = await attempt(readSelection);
  const live = selection ? (colorOf(selection.live) ?? null) : null;
  const preview = selection ? (colorOf(selection.preview) ?? null) : null;
  const ask = (service: string, path: string) => api.proxy(service, { method: 'GET', path }).then(judgeHealth, noAnswer).then(healthView);
  const serving = await ask(LIVE_SERVICE, '/health');
  const previewServing = await ask(PREVIEW_SERVICE, '/health');
  const colorStatus = async (color: Color): Promise<ColorStatus> => {
    const deployment = await attempt(() => api.readDeployment(deploymentName(color)));
    const role = color === live ? ('live' as const) : color === preview ? ('preview' as const) : null;
    const health =
      role === 'live' ? serving : role === 'preview' ? previewServing : healthView(noAnswer(new Error(`no Service selects ${color}`)));
    return {
      color,
      role,
      process: !deployment ? 'unknown' : deployment.ready > 0 ? 'running' : 'dead',
      pid: null,
      container: deploymentName(color),
      port: deployment?.containerPort ?? null,
      url: role ? api.proxyUrl(role === 'live' ? LIVE_SERVICE : PREVIEW_SERVICE) : null,
      model: deployment?.modelPath ?? null,
      ...(deployment
        ? {
            replicas: { ready: deployment.ready, desired: deployment.desired },
            image: deployment.image,
            versionLabel: deployment.labels['version'] ?? null,
          }
        : {}),
      health,
    };
  };
  const [blue, green] = [await colorStatus('blue'), await colorStatus('green')];
  const shadowStatus = await attempt(shadow);
  const allReady = [blue, green].every((item) => item.replicas && item.replicas.ready === item.replicas.desired);
  const anyReady = [blue, green].some((item) => item.replicas && item.replicas.ready > 0);
  return {
    backend: 'kubernetes',
    where: api.where,
    stack: allReady ? 'running' : anyReady ? 'partly running' : 'stopped',
    healthy: allReady && blue.health.ok && green.health.ok && live !== null && serving.ok && serving.color === live,
    routes: live && preview ? ((await attempt(routesNow)) ?? null) : null,
    live,
    preview,
    router: {
      url: api.proxyUrl(LIVE_SERVICE),
      previewUrl: api.proxyUrl(PREVIEW_SERVICE),
      port: 80,
      requestedPort: 80,
      process: live ? 'running' : 'unknown',
      pid: null,
      container: LIVE_SERVICE,
      serving,
      previewServing,
    },
    colors: { blue, green },
    notes,
    ...(shadowStatus ? { shadow: shadowStatus } : {}),
  };
}

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { isMirrored, mirrorIsOn, withMirror } from '../../backends/kubernetes/http-route';
import { WORKSPACE_ROOT } from '../../testing/stack-harness';
import { DEFAULT_DEPLOYMENT_SPEC, DeploymentSpec } from '../../spec/deployment-spec';
import { type KubernetesObject, validateObject, yamlObjects } from '../../testing/kubernetes-models';
import { IMAGE_CLI, renderArgoRolloutsFiles } from './argo-rollouts';
import { SHADOW_RELAY_MAIN, SHUTDOWN_TIMEOUT_MS, renderKubernetesFiles } from './kubernetes';
import { BLOCKED_SERVICE, LIVE_SERVICE, PREVIEW_SERVICE, SHADOW_RELAY_SERVICE, versionLabel } from './kubernetes-names';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON bodies, read field by field as the tests need
type Json = any;

const files = [...renderKubernetesFiles(DEFAULT_DEPLOYMENT_SPEC), ...renderArgoRolloutsFiles(DEFAULT_DEPLOYMENT_SPEC)];
const manifests = files.filter((file) => file.path.endsWith('.yaml') && !file.path.endsWith('kustomization.yaml'));
const objects = manifests.flatMap((file) => yamlObjects(file.content));
const base = renderKubernetesFiles(DEFAULT_DEPLOYMENT_SPEC)
  .filter(
    (file) => file.path.startsWith('deploy/kubernetes/base/') && file.path.endsWith('.yaml') && !file.path.endsWith('kustomization.yaml'),
  )
  .flatMap((file) => yamlObjects(file.content));
const find = (kind: string, name: string, from = base) => {
  const found = from.find((object) => object.kind === kind && object.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name}`);
  return found as KubernetesObject & { spec: Json };
};

/**
 * The Services a path goes to: the longest matching prefix wins (Gateway API's precedence for an
 * HTTPRoute, and how an Ingress's Prefix paths are matched), element by element (`/admin` matches
 * `/admin` and `/admin/x`, not `/administrator`); backends of weight 0 get nothing.
 */
function servicesFor(path: string, rules: { prefix: string; services: string[] }[]): string[] {
  let best: { length: number; services: string[] } | undefined;
  for (const { prefix, services } of rules) {
    const trimmed = prefix.replace(/\/$/, '');
    const matches = trimmed === '' || path === trimmed || path.startsWith(`${trimmed}/`);
    if (matches && (best === undefined || trimmed.length > best.length)) best = { length: trimmed.length, services };
  }
  return best?.services ?? [];
}
const httpRouteRules = (route: Json) =>
  route.spec.rules.flatMap((rule: Json) =>
    rule.matches.map((match: Json) => ({
      prefix: match.path.value,
      services: (rule.backendRefs ?? []).filter((ref: Json) => ref.weight !== 0).map((ref: Json) => ref.name),
    })),
  );
const ingressRules = (ingress: Json) =>
  ingress.spec.rules[0].http.paths.map((path: Json) => ({ prefix: path.path, services: [path.backend.service.name] }));
const ingressOf = (rendered: ReturnType<typeof renderKubernetesFiles>) =>
  rendered.filter((file) => file.path.includes('/components/ingress/')).flatMap((file) => yamlObjects(file.content));

const INTERNAL_PATHS = ['/admin/predictions', '/admin', '/metrics', '/preview/admin/predictions', '/preview/admin', '/preview/metrics'];

describe('what the Kubernetes manifests expose to the world', () => {
  const route = find('HTTPRoute', 'ml-model-service');
  const ingress = find('Ingress', 'ml-model-service', ingressOf(renderKubernetesFiles(DEFAULT_DEPLOYMENT_SPEC)));

  it.each(INTERNAL_PATHS)('%s: the HTTPRoute and the Ingress send it only to a Service with no endpoints', (path) => {
    expect(servicesFor(path, httpRouteRules(route))).toEqual([BLOCKED_SERVICE]);
    expect(servicesFor(path, ingressRules(ingress))).toEqual([BLOCKED_SERVICE]);
  });

  it('the public paths still reach the live color (and /preview/ the idle one)', () => {
    for (const path of ['/predict', '/health', '/v2/models/model/infer', '/trpc/predict', '/docs', '/administrator', '/metricsx']) {
      expect({ path, services: servicesFor(path, httpRouteRules(route)) }).toEqual({ path, services: [LIVE_SERVICE] });
      expect({ path, services: servicesFor(path, ingressRules(ingress)) }).toEqual({ path, services: [LIVE_SERVICE] });
    }
    expect(servicesFor('/preview/health', httpRouteRules(route))).toEqual([PREVIEW_SERVICE]);
  });

  it('the Service they go to selects no pod, so it has no endpoints (the gateway answers 503 or 500, never a color)', () => {
    const blocked = find('Service', BLOCKED_SERVICE);
    expect(blocked.spec.selector).toBeUndefined();
    expect(find('Service', BLOCKED_SERVICE, ingressOf(renderKubernetesFiles(DEFAULT_DEPLOYMENT_SPEC)).concat(base))).toBeDefined();
  });

  it("follows the spec's internal paths, and serves them when the spec makes them public", () => {
    const extra = renderKubernetesFiles(DeploymentSpec.parse({ proxy: { internalRoutes: { paths: ['/metrics', '/debug/'] } } }));
    const extraRoute = find(
      'HTTPRoute',
      'ml-model-service',
      extra.filter((file) => file.path.endsWith('.yaml')).flatMap((file) => yamlObjects(file.content)),
    );
    for (const path of ['/debug/heap', '/preview/debug/heap', '/admin/predictions'])
      expect({ path, services: servicesFor(path, httpRouteRules(extraRoute)) }).toEqual({ path, services: [BLOCKED_SERVICE] });

    const open = renderKubernetesFiles(DeploymentSpec.parse({ proxy: { internalRoutes: { public: true } } }))
      .filter((file) => file.path.endsWith('.yaml'))
      .flatMap((file) => yamlObjects(file.content));
    expect(servicesFor('/metrics', httpRouteRules(find('HTTPRoute', 'ml-model-service', open)))).toEqual([LIVE_SERVICE]);
  });

  it('the namespace enforces the Pod Security "restricted" profile (the pods comply), in every variant', () => {
    const namespaces = objects.filter((object) => object.kind === 'Namespace');
    expect(namespaces.length).toBe(3);
    for (const namespace of namespaces)
      expect(namespace.metadata.labels).toMatchObject({
        'pod-security.kubernetes.io/enforce': 'restricted',
        'pod-security.kubernetes.io/warn': 'restricted',
        'pod-security.kubernetes.io/audit': 'restricted',
      });
    // What "restricted" asks of every pod these manifests make.
    const pods = objects
      .filter((object) => ['Deployment', 'Rollout'].includes(object.kind))
      .map((object) => (object as Json).spec.template.spec)
      .concat(
        objects
          .filter((object) => object.kind === 'AnalysisTemplate')
          .flatMap((object) => (object as Json).spec.metrics.filter((metric: Json) => metric.provider.job))
          .map((metric: Json) => metric.provider.job.spec.template.spec),
      );
    expect(pods.length).toBe(8);
    for (const pod of pods) {
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
      for (const container of pod.containers)
        expect(container.securityContext).toMatchObject({ allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    }
  });

  it("the colors' pods keep their log of predictions (deploy:diff and the canary judge read it through the API server's pod proxy); the routes never serve it", () => {
    const colors = objects
      .filter((object) => object.kind === 'Deployment' || object.kind === 'Rollout')
      .map((object) => (object as Json).spec.template.spec.containers[0])
      .filter((container) => (container.env as { name: string }[]).some((entry) => entry.name === 'MODEL_PATH'));
    expect(colors.length).toBe(4);
    for (const container of colors) expect(container.env).not.toContainEqual({ name: 'PREDICTION_LOG_SIZE', value: '0' });
  });
});

describe('the Kubernetes manifests', () => {
  it.each(objects.map((object) => [`${object.kind} ${object.metadata.name}`, object] as const))(
    '%s is valid against its official schema',
    (_name, object) => {
      expect(() => validateObject(object)).not.toThrow();
    },
  );

  it('validation does fail for a wrong object (a string replica count, an unknown kind)', () => {
    const deployment = structuredClone(find('Deployment', 'ml-model-service-blue'));
    deployment.spec.replicas = '2';
    expect(() => validateObject(deployment)).toThrow(/ml-model-service-blue: .*replicas must be integer/);
    expect(() => validateObject({ apiVersion: 'v1', kind: 'Servic', metadata: { name: 'x' } })).toThrow(/no schema model/);
  });

  it('every file starts with the "generated, do not edit" header and every object has the namespace (Prometheus\' access: its own)', () => {
    for (const file of manifests) expect(file.content).toMatch(/^# Generated by `nx run deploy:generate`/);
    const access = manifests.filter((file) => file.path.includes('/prometheus-access/')).flatMap((file) => yamlObjects(file.content));
    const inAccess = (object: KubernetesObject) =>
      access.some((other) => other.kind === object.kind && other.metadata.name === object.metadata.name);
    for (const object of objects.filter((candidate) => candidate.kind !== 'Namespace' && !inAccess(candidate)))
      expect(object.metadata.namespace).toBe('ml-bluegreen');
    expect(access.map((object) => `${object.kind} ${object.metadata.namespace}`)).toEqual(['Role monitoring', 'RoleBinding monitoring']);
  });

  it('ml-live selects the live color (blue on a fresh install) and ml-preview the other', () => {
    expect(find('Service', LIVE_SERVICE).spec.selector).toEqual({ app: 'ml-model-service', color: 'blue' });
    expect(find('Service', PREVIEW_SERVICE).spec.selector).toEqual({ app: 'ml-model-service', color: 'green' });
  });

  it('each color: its model and version, probes, non-root read-only pod, grace longer than the drain', () => {
    for (const [color, model, version] of [
      ['blue', '/app/models/v1.0.0/model.onnx', 'v1.0.0'],
      ['green', '/app/models/v1.1.0/model.onnx', 'v1.1.0'],
    ] as const) {
      const deployment = find('Deployment', `ml-model-service-${color}`);
      expect(deployment.metadata.labels).toEqual({ app: 'ml-model-service', color, version });
      expect(deployment.spec.selector.matchLabels).toEqual({ app: 'ml-model-service', color });
      const pod = deployment.spec.template.spec;
      const [container] = pod.containers;
      expect(container.env).toEqual(
        expect.arrayContaining([
          { name: 'MODEL_PATH', value: model },
          { name: 'COLOR', value: color },
          { name: 'SHUTDOWN_TIMEOUT_MS', value: String(SHUTDOWN_TIMEOUT_MS) },
        ]),
      );
      expect(container.readinessProbe.httpGet.path).toBe('/health');
      expect(container.livenessProbe.httpGet.path).toBe('/health/live');
      expect(container.startupProbe).toBeDefined();
      expect(container.securityContext).toEqual({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
      });
      expect(pod.securityContext.runAsNonRoot).toBe(true);
      expect(container.lifecycle.preStop.exec.command[0]).toBe('sleep');
      expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(
        SHUTDOWN_TIMEOUT_MS + Number(container.lifecycle.preStop.exec.command[1]) * 1000,
      );
      expect(container.resources).toEqual({ requests: { cpu: '250m', memory: '200Mi' }, limits: { cpu: '1', memory: '512Mi' } });
    }
  });

  it('follows the spec: namespace, image, replicas, resources, host', () => {
    const spec = DeploymentSpec.parse({
      kubernetes: {
        namespace: 'team-b',
        image: 'registry.example/ml:abc',
        replicas: 3,
        resources: { limits: { memory: '512Mi' } },
        host: 'ml.team-b.example',
      },
    });
    const rendered = renderKubernetesFiles(spec)
      .filter((file) => file.path.endsWith('.yaml'))
      .flatMap((file) => yamlObjects(file.content));
    const deployment = find('Deployment', 'ml-model-service-green', rendered);
    expect(deployment.metadata.namespace).toBe('team-b');
    expect(deployment.spec.replicas).toBe(3);
    expect(deployment.spec.template.spec.containers[0].image).toBe('registry.example/ml:abc');
    expect(deployment.spec.template.spec.containers[0].resources.limits).toEqual({ cpu: '1', memory: '512Mi' });
    expect(find('HTTPRoute', 'ml-model-service', rendered).spec.hostnames).toEqual(['ml.team-b.example']);
    expect(find('RoleBinding', 'ml-deployer', rendered)['subjects']).toEqual([
      { kind: 'ServiceAccount', name: 'ml-deployer', namespace: 'team-b' },
    ]);
  });

  it('the HTTPRoute sends / to ml-live (weight 100, ml-preview 0) and /preview/ to ml-preview with the prefix stripped', () => {
    const [preview, ...rest] = find('HTTPRoute', 'ml-model-service').spec.rules;
    const live = rest.filter((rule: Json) => rule.backendRefs[0].name !== BLOCKED_SERVICE);
    for (const rule of live)
      expect(rule.backendRefs).toEqual([
        { name: LIVE_SERVICE, port: 80, weight: 100 },
        { name: PREVIEW_SERVICE, port: 80, weight: 0 },
      ]);
    expect(live.at(-1).matches[0].path).toEqual({ type: 'PathPrefix', value: '/' });
    expect(preview.matches[0].path).toEqual({ type: 'PathPrefix', value: '/preview/' });
    expect(preview.filters[0].urlRewrite.path).toEqual({ type: 'ReplacePrefixMatch', replacePrefixMatch: '/' });
  });

  it("the HTTPRoute has rules of their own for /predict and V2 (what shadow traffic mirrors), and no live rule passes a client's shadow header", () => {
    const [, ...rest] = find('HTTPRoute', 'ml-model-service').spec.rules;
    // (The colors' internal paths have a rule of their own, to ml-internal-blocked: see above.)
    const live = rest.filter((rule: Json) => rule.backendRefs[0].name !== BLOCKED_SERVICE);
    expect(live.map((rule: Json) => rule.matches[0].path)).toEqual([
      { type: 'Exact', value: '/predict' },
      { type: 'PathPrefix', value: '/v2/models/' },
      { type: 'PathPrefix', value: '/' },
    ]);
    for (const rule of live)
      expect(rule.filters).toEqual([{ type: 'RequestHeaderModifier', requestHeaderModifier: { remove: ['x-mlbg-shadow'] } }]);
    expect(mirrorIsOn(live)).toBe(false);
    expect(withMirror(live, true).filter(isMirrored).length).toBe(2);
  });

  it('the shadow relay: no pod until shadow is on, the service image running the built relay, forwarding to ml-preview, selected by nothing of the service', () => {
    const relay = find('Deployment', SHADOW_RELAY_SERVICE);
    expect(relay.spec.replicas).toBe(0);
    expect(relay.spec.template.metadata.labels).toEqual({ app: SHADOW_RELAY_SERVICE });
    const [container] = relay.spec.template.spec.containers;
    expect(container.image).toBe(DEFAULT_DEPLOYMENT_SPEC.kubernetes.image);
    expect(container.command).toEqual(['node', SHADOW_RELAY_MAIN]);
    expect(container.env).toEqual(
      expect.arrayContaining([
        { name: 'RELAY_TARGET_URL', value: 'http://ml-preview:80' },
        { name: 'RELAY_PERCENT', value: String(DEFAULT_DEPLOYMENT_SPEC.shadow.percent) },
      ]),
    );
    expect(container.readinessProbe.httpGet.path).toBe('/_relay/status');
    expect(find('Service', SHADOW_RELAY_SERVICE).spec.selector).toEqual({ app: SHADOW_RELAY_SERVICE });
    // The image's paths are the build of these sources (the Dockerfile's deploy:build).
    for (const file of [SHADOW_RELAY_MAIN, IMAGE_CLI])
      expect(
        existsSync(join(WORKSPACE_ROOT, file.replace('/app/dist/node_modules/@mlbg/deploy/', 'libs/deploy/').replace(/\.js$/, '.ts'))),
      ).toBe(true);
  });

  it("Prometheus' access: a Role for its one Service port in its namespace, bound to ml-deployer; none for a URL outside the cluster", () => {
    const access = files
      .filter((file) => file.path.startsWith('deploy/kubernetes/prometheus-access/') && !file.path.endsWith('kustomization.yaml'))
      .flatMap((file) => yamlObjects(file.content));
    expect(find('Role', 'ml-deployer-prometheus', access)['rules']).toEqual([
      { apiGroups: [''], resources: ['services/proxy'], resourceNames: ['prometheus-operated:9090'], verbs: ['get'] },
    ]);
    expect(find('RoleBinding', 'ml-deployer-prometheus', access)['subjects']).toEqual([
      { kind: 'ServiceAccount', name: 'ml-deployer', namespace: 'ml-bluegreen' },
    ]);
    const outside = renderKubernetesFiles(DeploymentSpec.parse({ kubernetes: { prometheusUrl: 'http://prometheus.example.com:9090' } }));
    expect(outside.filter((file) => file.path.includes('prometheus-access'))).toEqual([]);
  });

  it('the Role allows exactly what the commands do, on the objects they touch', () => {
    const rules = find('Role', 'ml-deployer')['rules'] as { resources: string[]; verbs: string[]; resourceNames?: string[] }[];
    const allowed = rules.flatMap((rule) =>
      rule.resources.flatMap((resource) =>
        rule.verbs.map((verb) => `${verb} ${resource}${rule.resourceNames ? ` ${rule.resourceNames.join(',')}` : ''}`),
      ),
    );
    expect(allowed.sort()).toEqual([
      'create configmaps',
      'create leases',
      'create services/proxy ml-live:http,ml-preview:http',
      'get configmaps ml-deploy-history',
      'get deployments ml-model-service-blue,ml-model-service-green',
      'get deployments ml-shadow-relay',
      'get httproutes ml-model-service',
      'get leases ml-deploy-lock',
      'get pods/proxy',
      'get services ml-live,ml-preview',
      'get services/proxy ml-live:http,ml-preview:http',
      'get services/proxy ml-shadow-relay:http',
      'list endpointslices',
      'list pods',
      'patch deployments ml-model-service-blue,ml-model-service-green',
      'patch deployments ml-shadow-relay',
      'patch httproutes ml-model-service',
      'patch services ml-live,ml-preview',
      'update configmaps ml-deploy-history',
      'update leases ml-deploy-lock',
    ]);
  });

  it('the Argo Rollouts variant: blueGreen on the same Services, manual promotion after the analysis', () => {
    const argo = renderArgoRolloutsFiles(DEFAULT_DEPLOYMENT_SPEC).flatMap((file) =>
      file.path.endsWith('kustomization.yaml') ? [] : yamlObjects(file.content),
    );
    const blueGreen = find('Rollout', 'ml-model-service', argo).spec.strategy.blueGreen;
    expect(blueGreen).toMatchObject({
      activeService: LIVE_SERVICE,
      previewService: PREVIEW_SERVICE,
      autoPromotionEnabled: false,
      scaleDownDelaySeconds: expect.any(Number),
    });
    expect(blueGreen.prePromotionAnalysis.templates).toEqual([
      { templateName: 'ml-model-service-preview' },
      { templateName: 'ml-model-service-judge' },
    ]);
    const metrics = find('AnalysisTemplate', 'ml-model-service-preview', argo).spec.metrics;
    expect(metrics.map((metric: { name: string }) => metric.name)).toEqual([
      'smoke-requests',
      'preview-success-rate',
      'preview-p99-latency',
    ]);
    for (const metric of metrics.slice(1))
      expect(metric.provider.prometheus.query).toContain('rollouts_pod_template_hash="{{args.preview-hash}}"');
  });

  it("the judge's Job: deploy judge from the service image, the preview (canary) against the active (stable) Service, the spec's limits mounted", () => {
    for (const dir of ['deploy/kubernetes/argo-rollouts/', 'deploy/kubernetes/argo-rollouts-canary/']) {
      const argo = files
        .filter((file) => file.path.startsWith(dir) && !file.path.endsWith('kustomization.yaml'))
        .flatMap((file) => yamlObjects(file.content));
      const template = find('AnalysisTemplate', 'ml-model-service-judge', argo).spec;
      expect(template.metrics).toHaveLength(1);
      expect(template.metrics[0].failureLimit).toBe(0);
      const job = template.metrics[0].provider.job.spec;
      expect(job.backoffLimit).toBe(0);
      const [container] = job.template.spec.containers;
      expect(container.command).toEqual([
        'node',
        '/app/dist/node_modules/@mlbg/deploy/src/cli/main.js',
        'judge',
        '--canary-url=http://ml-preview:80',
        '--stable-url=http://ml-live:80',
        '--replay=/app/models/replay/one-feature.jsonl',
      ]);
      expect(container.env).toEqual([{ name: 'BLUEGREEN_SPEC', value: '/etc/mlbg/deployment.json' }]);
      const configMap = find('ConfigMap', 'ml-model-service-deploy-spec', argo) as Json;
      expect(DeploymentSpec.parse(JSON.parse(configMap.data['deployment.json']))).toEqual(DEFAULT_DEPLOYMENT_SPEC);
      expect(job.template.spec.volumes).toContainEqual({ name: 'spec', configMap: { name: 'ml-model-service-deploy-spec' } });
    }
  });

  it("the Argo Rollouts canary variant: the spec's steps, each held for its interval and then judged; the Gateway API plugin moves the route's weights", () => {
    const argo = files
      .filter((file) => file.path.startsWith('deploy/kubernetes/argo-rollouts-canary/') && !file.path.endsWith('kustomization.yaml'))
      .flatMap((file) => yamlObjects(file.content));
    const canary = find('Rollout', 'ml-model-service', argo).spec.strategy.canary;
    expect(canary).toMatchObject({
      canaryService: PREVIEW_SERVICE,
      stableService: LIVE_SERVICE,
      trafficRouting: { plugins: { 'argoproj-labs/gatewayAPI': { httpRoute: 'ml-model-service', namespace: 'ml-bluegreen' } } },
    });
    const judged = { analysis: { templates: [{ templateName: 'ml-model-service-judge' }] } };
    expect(canary.steps).toEqual([5, 25, 50].flatMap((setWeight) => [{ setWeight }, { pause: { duration: '30s' } }, judged]));
    expect(find('HTTPRoute', 'ml-model-service', argo).spec).toEqual(find('HTTPRoute', 'ml-model-service').spec);
  });

  it('the dashboard is Grafana JSON with a Prometheus query in every panel', () => {
    const dashboard = JSON.parse(files.find((file) => file.path.endsWith('grafana-dashboard.json'))?.content ?? '');
    expect(dashboard.panels.length).toBeGreaterThanOrEqual(5);
    for (const panel of dashboard.panels) expect(panel.targets[0].expr).toMatch(/job="ml-model-service-metrics"/);
  });

  it('the kustomizations name files that exist', () => {
    for (const file of files.filter((candidate) => candidate.path.endsWith('kustomization.yaml'))) {
      const dir = file.path.slice(0, file.path.lastIndexOf('/'));
      const kustomization = parse(file.content) as { resources?: string[] };
      for (const resource of kustomization.resources ?? []) {
        if (resource.startsWith('..') || !resource.includes('.')) continue;
        expect(files.map((candidate) => candidate.path)).toContain(`${dir}/${resource}`);
      }
    }
  });

  it("labels a version from the model's folder, and something valid for Json path", () => {
    expect(versionLabel('models/v1.1.0/model.onnx')).toBe('v1.1.0');
    expect(versionLabel('model.onnx')).toBe('unknown');
    expect(versionLabel('models/my model!/m.onnx')).toBe('my-model');
  });
});

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';
import { DEFAULT_DEPLOYMENT_SPEC } from '../../spec/deployment-spec';
import { type KubernetesObject, validateObject, yamlObjects } from '../../testing/kubernetes-models';
import { describeWithBinary, findBinary, run } from '../../testing/real-tools';
import { renderArgoRolloutsFiles } from './argo-rollouts';
import { EXAMPLE_OVERLAY_NAMESPACE, prometheusRule, renderKubernetesFiles } from './kubernetes';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON bodies, read field by field as the tests need
type Json = any;

const KUBECTL = findBinary('kubectl');
const PROMTOOL = findBinary('promtool');
const spec = DEFAULT_DEPLOYMENT_SPEC;

/** Writes the rendered files (paths relative to the workspace root) into a fresh folder. */
function writeRendered(): string {
  const root = mkdtempSync(join(tmpdir(), 'mlbg-k8s-'));
  for (const file of [...renderKubernetesFiles(spec), ...renderArgoRolloutsFiles(spec)]) {
    mkdirSync(dirname(join(root, file.path)), { recursive: true });
    writeFileSync(join(root, file.path), file.content);
  }
  return root;
}

describeWithBinary(KUBECTL, 'kubectl')('real `kubectl kustomize` (no cluster needed)', () => {
  let root: string;
  beforeAll(() => (root = writeRendered()));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  function build(dir: string): KubernetesObject[] {
    const result = run(KUBECTL as string, ['kustomize', join(root, dir)]);
    expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
    return yamlObjects(result.stdout);
  }
  const kinds = (objects: KubernetesObject[]) => objects.map((object) => `${object.kind}/${object.metadata.name}`).sort();

  it('builds deploy/kubernetes: the whole install, every object valid against its schema', () => {
    const objects = build('deploy/kubernetes');
    expect(kinds(objects)).toEqual([
      'ConfigMap/ml-model-service-dashboard',
      'Deployment/ml-model-service-blue',
      'Deployment/ml-model-service-green',
      'Deployment/ml-shadow-relay',
      'HTTPRoute/ml-model-service',
      'Namespace/ml-bluegreen',
      'PodDisruptionBudget/ml-model-service-blue',
      'PodDisruptionBudget/ml-model-service-green',
      'PrometheusRule/ml-model-service',
      'Role/ml-deployer',
      'RoleBinding/ml-deployer',
      'Service/ml-internal-blocked',
      'Service/ml-live',
      'Service/ml-model-service-metrics',
      'Service/ml-preview',
      'Service/ml-shadow-relay',
      'ServiceAccount/ml-deployer',
      'ServiceMonitor/ml-model-service',
    ]);
    for (const object of objects) validateObject(object);
    const dashboard = objects.find((object) => object.kind === 'ConfigMap') as KubernetesObject & { data: Record<string, string> };
    expect(dashboard.metadata.labels).toEqual({ grafana_dashboard: '1' });
    expect(JSON.parse(dashboard.data['grafana-dashboard.json'] ?? '')).toMatchObject({ uid: 'ml-model-service' });
  });

  it('builds the example overlay: another namespace everywhere, the registry image, the Ingress', () => {
    const objects = build('deploy/kubernetes/overlays/example');
    for (const object of objects) validateObject(object);
    expect(objects.filter((object) => object.kind !== 'Namespace').map((object) => object.metadata.namespace)).toEqual(
      objects.slice(1).map(() => EXAMPLE_OVERLAY_NAMESPACE),
    );
    expect(objects.find((object) => object.kind === 'Namespace')?.metadata.name).toBe(EXAMPLE_OVERLAY_NAMESPACE);
    const images = objects
      .filter((object) => object.kind === 'Deployment')
      .map((object) => (object as Json).spec.template.spec.containers[0].image);
    // The two colors and the shadow relay: all the service image.
    expect(images).toEqual([
      'ghcr.io/acme/ml-deployment/model-service:v2026.12.01',
      'ghcr.io/acme/ml-deployment/model-service:v2026.12.01',
      'ghcr.io/acme/ml-deployment/model-service:v2026.12.01',
    ]);
    expect(objects.find((object) => object.kind === 'RoleBinding')).toMatchObject({ subjects: [{ namespace: EXAMPLE_OVERLAY_NAMESPACE }] });
    expect(kinds(objects)).toContain('Ingress/ml-model-service');
  });

  it('builds the Argo Rollouts variant', () => {
    const objects = build('deploy/kubernetes/argo-rollouts');
    for (const object of objects) validateObject(object);
    expect(kinds(objects)).toEqual([
      'AnalysisTemplate/ml-model-service-judge',
      'AnalysisTemplate/ml-model-service-preview',
      'ConfigMap/ml-model-service-deploy-spec',
      'Namespace/ml-bluegreen',
      'Rollout/ml-model-service',
      'Service/ml-live',
      'Service/ml-model-service-metrics',
      'Service/ml-preview',
      'ServiceMonitor/ml-model-service',
    ]);
  });

  it('builds the Argo Rollouts canary variant', () => {
    const objects = build('deploy/kubernetes/argo-rollouts-canary');
    for (const object of objects) validateObject(object);
    expect(kinds(objects)).toEqual([
      'AnalysisTemplate/ml-model-service-judge',
      'ConfigMap/ml-model-service-deploy-spec',
      'HTTPRoute/ml-model-service',
      'Namespace/ml-bluegreen',
      'Rollout/ml-model-service',
      'Service/ml-live',
      'Service/ml-model-service-metrics',
      'Service/ml-preview',
      'ServiceMonitor/ml-model-service',
    ]);
  });

  it("builds Prometheus' access, in Prometheus' namespace", () => {
    const objects = build('deploy/kubernetes/prometheus-access');
    for (const object of objects) validateObject(object);
    expect(objects.map((object) => `${object.kind}/${object.metadata.name} ${object.metadata.namespace}`)).toEqual([
      'Role/ml-deployer-prometheus monitoring',
      'RoleBinding/ml-deployer-prometheus monitoring',
    ]);
  });

  it('fails on a broken kustomization, so a pass means something', () => {
    writeFileSync(join(root, 'deploy/kubernetes/base/kustomization.yaml'), 'resources:\n  - missing.yaml\n');
    const result = run(KUBECTL as string, ['kustomize', join(root, 'deploy/kubernetes')]);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('missing.yaml');
  });
});

describeWithBinary(PROMTOOL, 'promtool')('real `promtool check rules`', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'mlbg-promtool-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("passes the PrometheusRule's alert rules", () => {
    const file = join(dir, 'rules.yaml');
    writeFileSync(file, stringify({ groups: prometheusRule(spec).spec?.groups }));
    const result = run(PROMTOOL as string, ['check', 'rules', file]);
    expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
    expect(result.stdout).toContain('SUCCESS: 5 rules found');
  });

  it('fails on a rule with broken PromQL', () => {
    const file = join(dir, 'broken.yaml');
    writeFileSync(file, stringify({ groups: [{ name: 'x', rules: [{ alert: 'Broken', expr: 'sum(rate(http_requests_total[5m]) > ' }] }] }));
    expect(run(PROMTOOL as string, ['check', 'rules', file]).status).not.toBe(0);
  });
});

import { execFile, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { accessSync, constants, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { loadDeploymentSpec } from '@mlbg/deploy';
import { loadWorkflow, stepsOf, type ParsedWorkflow } from './testing/workflows';
import { WORKSPACE_ROOT } from './testing/workspace';

const SCRIPTS = [
  'tools/ci/kubernetes/switch-under-load.sh',
  'tools/ci/kubernetes/canary-and-shadow.sh',
  'tools/ci/kubernetes/argo-promotion.sh',
];

describe('kubernetes.yml', () => {
  let workflow: ParsedWorkflow;
  beforeAll(async () => {
    workflow = await loadWorkflow('kubernetes.yml');
  });
  const runs = () => stepsOf(workflow, 'kubernetes').map((step) => step.run ?? step.uses ?? '');
  const indexOf = (pattern: RegExp) => runs().findIndex((run) => pattern.test(run));

  it('runs on pushes to main and develop and on pull requests, reading only the code', () => {
    expect(workflow.events.push?.branches).toEqual(['main', 'develop']);
    expect(Object.keys(workflow.events)).toEqual(expect.arrayContaining(['push', 'pull_request']));
    expect(workflow.raw.permissions).toEqual({ contents: 'read' });
  });

  it('builds the image, loads it into kind, installs Envoy Gateway, Prometheus and the manifests, then switches under load, releases, runs canaries and shadow traffic, and promotes (and judges) the Argo variant, in that order', () => {
    const order = [
      /^npm ci$/,
      /docker build -t "\$IMAGE" \.$/,
      /^helm\/kind-action@/,
      /kind load docker-image "\$IMAGE" --name ml/,
      /envoyproxy\/gateway\/releases\/download\/\$ENVOY_GATEWAY_VERSION\/install\.yaml[\s\S]*prometheus-operator.*bundle\.yaml/,
      /kubectl apply -k deploy\/kubernetes\n[\s\S]*tools\/ci\/kubernetes\/gateway\.yaml[\s\S]*kubectl apply -k deploy\/kubernetes\/prometheus-access/,
      /create token ml-deployer[\s\S]*set-context deployer/,
      /tools\/ci\/kubernetes\/switch-under-load\.sh deployer "\$NAMESPACE" "\$IMAGE"/,
      /deploy:release --backend=kubernetes --context=deployer/,
      /tools\/ci\/kubernetes\/canary-and-shadow\.sh deployer "\$NAMESPACE" "\$IMAGE"/,
      /argo-rollouts\/releases\/download\/\$ARGO_ROLLOUTS_VERSION\/install\.yaml/,
      /^tools\/ci\/kubernetes\/argo-promotion\.sh ml-argo "\$IMAGE"/,
      /^ANALYSIS=judge tools\/ci\/kubernetes\/argo-promotion\.sh ml-argo-judge "\$IMAGE"/,
    ].map(indexOf);
    expect(order.every((index) => index > -1)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  it('uses the image and the namespace the manifests are rendered with (deploy/deployment.json)', () => {
    const spec = loadDeploymentSpec(join(WORKSPACE_ROOT, 'deploy/deployment.json'));
    expect(workflow.raw.env).toMatchObject({
      IMAGE: spec.kubernetes.image,
      NAMESPACE: spec.kubernetes.namespace,
      ONNXRUNTIME_NODE_INSTALL: 'skip',
    });
  });

  it("the Gateway the rendered HTTPRoute attaches to, and the Prometheus the spec's URL names, are the ones the job installs", () => {
    const spec = loadDeploymentSpec(join(WORKSPACE_ROOT, 'deploy/deployment.json'));
    const gateway = readFileSync(join(WORKSPACE_ROOT, 'tools/ci/kubernetes/gateway.yaml'), 'utf8');
    expect(gateway).toContain(`kind: Gateway\nmetadata:\n  name: ${spec.kubernetes.gateway}\n  namespace: ${spec.kubernetes.namespace}\n`);
    expect(gateway).toContain('controllerName: gateway.envoyproxy.io/gatewayclass-controller');
    const prometheus = readFileSync(join(WORKSPACE_ROOT, 'tools/ci/kubernetes/prometheus.yaml'), 'utf8');
    // The operator names the governing Service of every Prometheus `prometheus-operated`, in its namespace.
    expect(spec.kubernetes.prometheusUrl).toBe('http://prometheus-operated.monitoring.svc:9090');
    expect(prometheus).toContain('kind: Prometheus\nmetadata:\n  name: ci\n  namespace: monitoring\n');
    expect(prometheus).toContain('serviceMonitorSelector: {}');
  });

  it('promotes the Argo variant only when its controller could be installed, and shows the cluster after a failure', () => {
    const steps = stepsOf(workflow, 'kubernetes');
    const install = steps.find((step) => step.name?.startsWith('Install the Argo Rollouts controller'));
    const promote = steps.find((step) => step.run?.includes('argo-promotion.sh'));
    const judged = steps.find((step) => step.run?.startsWith('ANALYSIS=judge'));
    expect(judged?.if?.expr).toContain("steps.argo.outcome == 'success'");
    const rawInstall = workflow.raw.jobs['kubernetes'].steps?.find((step) => step.name === install?.name) as
      Record<string, unknown> | undefined;
    expect(rawInstall?.['continue-on-error']).toBe(true);
    expect(promote?.if?.expr).toContain("steps.argo.outcome == 'success'");
    expect(steps.at(-1)?.if?.expr).toBe('failure()');
  });

  it.each(SCRIPTS)('%s exists, is executable and is valid bash', (script) => {
    accessSync(join(WORKSPACE_ROOT, script), constants.X_OK);
    expect(spawnSync('bash', ['-n', join(WORKSPACE_ROOT, script)], { encoding: 'utf8' })).toMatchObject({ status: 0, stderr: '' });
  });
});

describe('tools/ci/kubernetes/load.js, the in-cluster load', () => {
  it('counts every response by status and version, and fails when any is not 200', async () => {
    let served = 0;
    const server = createServer((_request, response) => {
      served += 1;
      // The first answers from v1.0.0, then v1.1.0 (a switch), with one 500 in between.
      const version = served <= 20 ? 'v1.0.0' : 'v1.1.0';
      response.writeHead(served === 25 ? 500 : 200, { 'x-model-version': version, 'content-type': 'application/json' });
      response.end('{}');
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/predict`;
    try {
      const result = await new Promise<{ code: number; stdout: string }>((resolve) => {
        // As the job runs it: node -e "<script>" <url> <seconds> <workers>.
        execFile(
          process.execPath,
          ['-e', readFileSync(join(WORKSPACE_ROOT, 'tools/ci/kubernetes/load.js'), 'utf8'), url, '1', '2'],
          (error, stdout) => resolve({ code: error ? Number(error.code) : 0, stdout }),
        );
      });
      const summary = JSON.parse(result.stdout);
      expect(result.code).toBe(1);
      expect(summary.sent).toBe(served);
      expect(summary.answered).toBe(served);
      expect(summary.failed).toBe(1);
      expect(summary.statuses).toEqual({ 200: served - 1, 500: 1 });
      expect(summary.versionOrder).toEqual(['v1.0.0', 'v1.1.0']);
      expect(summary.lastVersion).toBe('v1.1.0');
    } finally {
      server.close();
    }
  });
});

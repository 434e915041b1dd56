import { execFile, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { accessSync, constants, readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
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
  'tools/ci/kubernetes/internal-routes.sh',
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
      /port-forward[\s\S]*tools\/ci\/kubernetes\/internal-routes\.sh "http:\/\/127\.0\.0\.1:\$\{?\w+\}?" "\$HOST"/,
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

  it("puts a real Gateway (Envoy Gateway, a pinned release) where the HTTPRoute attaches: the spec's gateway name, namespace and host", () => {
    const spec = loadDeploymentSpec(join(WORKSPACE_ROOT, 'deploy/deployment.json'));
    expect(workflow.raw.env).toMatchObject({ GATEWAY: spec.kubernetes.gateway, HOST: spec.kubernetes.host });
    expect(workflow.raw.env?.['ENVOY_GATEWAY_VERSION']).toMatch(/^v\d+\.\d+\.\d+$/);
    const objects = parseAllDocuments(readFileSync(join(WORKSPACE_ROOT, 'tools/ci/kubernetes/gateway.yaml'), 'utf8')).map((doc) =>
      doc.toJS(),
    );
    const gateway = objects.find((object) => object.kind === 'Gateway');
    const gatewayClass = objects.find((object) => object.kind === 'GatewayClass');
    expect(gateway.metadata).toEqual({ name: spec.kubernetes.gateway, namespace: spec.kubernetes.namespace });
    expect(gateway.spec.gatewayClassName).toBe(gatewayClass.metadata.name);
    expect(gatewayClass.spec.controllerName).toBe('gateway.envoyproxy.io/gatewayclass-controller');
    expect(gateway.spec.listeners).toEqual([{ name: 'http', protocol: 'HTTP', port: 80, allowedRoutes: { namespaces: { from: 'Same' } } }]);
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

describe('tools/ci/kubernetes/internal-routes.sh, what the gateway exposes', () => {
  /** The internal routes as written; a gateway that matches raw paths blocks only these. */
  const CANONICAL_INTERNAL = /^(\/preview)?\/(admin|metrics)(\/|$)/;
  /**
   * A stand-in for the gateway: 200 for the public paths. `open`: the internal routes answer 200 too
   * (the manifests of 545c9de); `raw`: only their canonical forms are blocked and every other form
   * answers 200 (a gateway matching raw paths in front of a color that decodes them).
   */
  async function gateway(exposed: 'none' | 'open' | 'raw') {
    const seen: { path: string; host: string }[] = [];
    const server = createServer((request, response) => {
      const path = request.url ?? '';
      seen.push({ path, host: request.headers.host ?? '' });
      const publicPath = path === '/health' || path === '/preview/health';
      const reachable = publicPath || exposed === 'open' || (exposed === 'raw' && !CANONICAL_INTERNAL.test(path));
      response.writeHead(request.headers.host !== 'ml.example.com' ? 404 : reachable ? 200 : 503).end();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return { server, seen, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
  }
  const check = (url: string) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(join(WORKSPACE_ROOT, 'tools/ci/kubernetes/internal-routes.sh'), [url, 'ml.example.com'], (error, stdout, stderr) =>
        resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
      );
    });

  it('passes when /admin, /metrics and their /preview/ forms answer anything but 200, and the public routes 200', async () => {
    const { server, seen, url } = await gateway('none');
    try {
      const result = await check(url);
      expect(result).toMatchObject({ code: 0, stderr: '' });
      expect(seen.map((request) => request.path)).toEqual(
        expect.arrayContaining([
          '/health',
          '/preview/health',
          '/admin/predictions',
          '/metrics',
          '/preview/admin/predictions',
          '/preview/metrics',
          '/%61dmin/predictions',
          '/%6detrics',
          '/preview/%61dmin/predictions',
          '/x/../metrics',
        ]),
      );
      expect(new Set(seen.map((request) => request.host))).toEqual(new Set(['ml.example.com']));
    } finally {
      server.close();
    }
  });

  it('fails, naming each path, when the internal routes answer 200 (as the manifests of 545c9de did)', async () => {
    const { server, url } = await gateway('open');
    try {
      const result = await check(url);
      expect(result.code).toBe(1);
      for (const path of ['/admin/predictions', '/metrics', '/preview/admin/predictions', '/preview/metrics'])
        expect(result.stderr).toContain(`FAILED: ${path} answered 200`);
    } finally {
      server.close();
    }
  });

  it('fails when only the encoded or non-canonical forms answer 200', async () => {
    const { server, url } = await gateway('raw');
    try {
      const result = await check(url);
      expect(result.code).toBe(1);
      for (const path of ['/%61dmin/predictions', '/%6detrics', '/preview/%6detrics', '//metrics', '/x/../admin/predictions'])
        expect(result.stderr).toContain(`FAILED: ${path} answered 200`);
      expect(result.stderr).not.toContain('FAILED: /metrics ');
    } finally {
      server.close();
    }
  });
});

describe('tools/ci/kubernetes/restricted-pod.sh, the one-off pods in namespaces that enforce "restricted"', () => {
  it('gives each pod what the Pod Security "restricted" profile asks, merged into its container by name', () => {
    const json = spawnSync('bash', ['-c', '. tools/ci/kubernetes/restricted-pod.sh && restricted_pod ml-load'], {
      cwd: WORKSPACE_ROOT,
      encoding: 'utf8',
    }).stdout;
    const override = JSON.parse(json);
    expect(override.spec.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(override.spec.containers).toEqual([
      { name: 'ml-load', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } },
    ]);
  });

  it.each(['tools/ci/kubernetes/switch-under-load.sh', 'tools/ci/kubernetes/argo-promotion.sh'])(
    '%s makes every one-off pod with it (kubectl run ... --override-type=strategic)',
    (script) => {
      const text = readFileSync(join(WORKSPACE_ROOT, script), 'utf8');
      const runs = text.match(/kubectl -n "\$namespace" run [\s\S]*?--command/g) ?? [];
      expect(runs.length).toBeGreaterThan(0);
      for (const command of runs) expect(command).toMatch(/--override-type=strategic --overrides="\$\(restricted_pod /);
      expect(text).toContain('. tools/ci/kubernetes/restricted-pod.sh');
    },
  );
});

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_DEPLOYMENT_SPEC, DeploymentSpec } from './deployment-spec';
import { loadDeploymentSpec, parseDeploymentSpec } from './load';
import { applyOverrides } from './overrides';
import { DeploymentSpecError } from './spec-error';

function errorOf(action: () => unknown): DeploymentSpecError {
  try {
    action();
  } catch (error) {
    if (error instanceof DeploymentSpecError) return error;
    throw error;
  }
  throw new Error('expected a DeploymentSpecError, but nothing was thrown');
}

const withSpec = (patch: (spec: DeploymentSpec) => void): string => {
  const spec = structuredClone(DEFAULT_DEPLOYMENT_SPEC);
  patch(spec);
  return JSON.stringify(spec);
};

describe('DeploymentSpec', () => {
  it("defaults to the original design's values", () => {
    expect(DeploymentSpec.parse({})).toEqual({
      network: 'ml-network',
      router: { port: 80, container: 'ml-nginx', image: 'nginx:1.30-alpine' },
      preview: { pathPrefix: '/preview/' },
      proxy: {
        upstreamKeepalive: true,
        internalRoutes: { paths: ['/metrics'], public: false, allow: [] },
        timeouts: { connectSeconds: 2, sendSeconds: 30, readSeconds: 30 },
        retry: { tries: 2, withinSeconds: 10 },
      },
      gates: { preflight: ['health-streak', 'predict', 'signature'] },
      predictionDiff: { absoluteTolerance: 0.001, relativeTolerance: 0.001, minAgreement: 0.99, minPairs: 50 },
      shadow: { mirror: true, percent: 100, queueSize: 1000 },
      compose: { colorPortsAddress: '127.0.0.1' },
      colors: {
        blue: { port: 8081, model: 'models/v1.0.0/model.onnx', container: 'ml-service-blue' },
        green: { port: 8082, model: 'models/v1.1.0/model.onnx', container: 'ml-service-green' },
      },
      replicas: { perColor: 2, mustPass: 'all' },
      kubernetes: {
        namespace: 'ml-bluegreen',
        image: 'ml-model-service:local',
        replicas: 2,
        resources: { requests: { cpu: '250m', memory: '200Mi' }, limits: { cpu: '1', memory: '512Mi' } },
        host: 'ml.example.com',
        gateway: 'ml-gateway',
        ingressClassName: 'nginx',
        prometheusUrl: 'http://prometheus-operated.monitoring.svc:9090',
      },
      supervisor: {
        restartDelayMs: 200,
        maxRestartDelayMs: 5_000,
        maxRestarts: 5,
        stableAfterMs: 10_000,
        probeIntervalMs: 500,
        unreadyLimitMs: 10_000,
        startGraceMs: 60_000,
      },
      limits: { bodyLimitBytes: 1_048_576, maxBatchRows: 10_000 },
      canary: {
        slots: 20,
        steps: [5, 25, 50, 100],
        intervalSeconds: 30,
        analysis: {
          minRequests: 100,
          maxErrorRate: 0.01,
          maxErrorRateAboveStable: 0.005,
          maxP99Ms: 500,
          failureLimit: 2,
          maxInconclusive: 10,
          falseAlarmRate: 0.01,
          maxMedianRatio: 1.5,
          medianFloorMs: 5,
          onInconclusive: 'rollback',
          outputs: { enabled: true, minOutputs: 400, maxPsi: 0.1, maxLabelShift: 0.05, maxProbabilityShift: 0.05 },
        },
        lowTraffic: 'wait',
        probes: { ratePerSecond: 20 },
      },
    });
  });

  it('refuses canary steps that a slot can not make, that fall, or that do not end at 100', () => {
    const problems = (canary: unknown) =>
      DeploymentSpec.safeParse({ canary }).error?.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    expect(problems({ steps: [5, 12, 100] })).toEqual(["canary.steps: every step must be a multiple of one slot's share (100 / slots)"]);
    expect(problems({ steps: [50, 25, 100] })).toEqual(['canary.steps: must rise step by step']);
    expect(problems({ steps: [5, 50] })).toEqual(['canary.steps: must end at 100 (the promotion)']);
    expect(problems({ slots: 8 })).toEqual([
      'canary.slots: must divide 100 (2, 4, 5, 10, 20, 25, 50 or 100), so every slot carries a whole percent',
    ]);
    expect(problems({ lowTraffic: 'probe' })).toEqual([
      'canary.probes.samples: lowTraffic "probe" needs probes.samples (a JSON file of /predict bodies)',
    ]);
    expect(problems({ sticky: { canaryValues: ['tester'] } })).toEqual([
      'canary.sticky: canaryValues need a header or a cookie to read them from',
    ]);
  });

  it('refuses replicas that can not run or can never pass the gates, naming what to use', () => {
    const problems = (replicas: unknown) =>
      DeploymentSpec.safeParse({ replicas }).error?.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    expect(problems({ perColor: 0 })).toEqual(['replicas.perColor: must be at least 1 (one process per color)']);
    expect(problems({ perColor: 1.5 })).toEqual(['replicas.perColor: must be a whole number of processes per color']);
    expect(problems({ perColor: 2, mustPass: 3 })).toEqual([
      'replicas.mustPass: 3 replicas can never pass the gates: each color runs 2 (replicas.perColor); use "all" or at most 2',
    ]);
    expect(problems({ mustPass: 'most' })).toEqual(['replicas.mustPass: must be "all" or a whole number of replicas (at least 1)']);
    expect(DeploymentSpec.parse({ replicas: { perColor: 4, mustPass: 3 } }).replicas).toEqual({ perColor: 4, mustPass: 3 });
    expect(problems({ perColor: 1 })).toBeUndefined();
  });

  it('refuses a Kubernetes namespace that Kubernetes would refuse, and a bad quantity', () => {
    const error = errorOf(() =>
      parseDeploymentSpec(
        withSpec((s) => {
          s.kubernetes.namespace = 'ML_Team';
          s.kubernetes.resources.limits.memory = '320 MB';
        }),
      ),
    );
    expect(error.problems).toEqual([
      expect.stringMatching(/^kubernetes\.namespace: must be a Kubernetes name/),
      expect.stringMatching(/^kubernetes\.resources\.limits\.memory: must be a Kubernetes quantity/),
    ]);
  });

  it('refuses nginx timeouts that are not whole seconds from 1 to 3600, naming the field, what it is for and its default', () => {
    const error = errorOf(() =>
      parseDeploymentSpec(JSON.stringify({ proxy: { timeouts: { readSeconds: 0, connectSeconds: 1.5, sendSeconds: 7200 } } })),
    );
    expect(error.problems).toEqual([
      'proxy.timeouts.connectSeconds: must be a whole number of seconds (how long nginx waits to connect to a color) (default: 2)',
      'proxy.timeouts.sendSeconds: must be at most 3600 seconds (how long nginx waits for a color to take more of a request) (default: 30)',
      'proxy.timeouts.readSeconds: must be at least 1 second (how long nginx waits for a color to answer, before its JSON 504; nginx treats 0 as no time at all, not as no limit) (default: 30)',
    ]);
    expect(errorOf(() => parseDeploymentSpec(JSON.stringify({ proxy: { timeouts: { readSecs: 5 } } }))).problems).toEqual([
      'proxy.timeouts: unknown key "readSecs"; remove it (check the spelling)',
    ]);
    expect(DeploymentSpec.parse({ proxy: { timeouts: { readSeconds: 5 } } }).proxy.timeouts).toEqual({
      connectSeconds: 2,
      sendSeconds: 30,
      readSeconds: 5,
    });
  });

  it('returns a frozen spec', () => {
    const spec = parseDeploymentSpec('{}');
    expect(Object.isFrozen(spec)).toBe(true);
    expect(Object.isFrozen(spec.colors.blue)).toBe(true);
  });

  it('names the file, the field, the default and what to do for a bad port', () => {
    const error = errorOf(() =>
      parseDeploymentSpec(
        withSpec((s) => (s.colors.blue.port = 70_000)),
        'deploy/deployment.json',
      ),
    );
    expect(error.message).toContain('deploy/deployment.json is not a valid deployment spec');
    expect(error.problems).toEqual(['colors.blue.port: Too big: expected number to be <=65535 (default: 8081)']);
    expect(error.message).toContain('delete a field to use its default');
  });

  it('refuses the same port twice, naming both fields', () => {
    const error = errorOf(() => parseDeploymentSpec(withSpec((s) => (s.colors.green.port = 8081))));
    expect(error.problems).toEqual([
      'colors.green.port: port 8081 is already used by colors.blue.port; the router and each color need their own (default: 8082)',
    ]);
  });

  it('refuses the same container name twice', () => {
    const error = errorOf(() => parseDeploymentSpec(withSpec((s) => (s.router.container = 'ml-service-blue'))));
    expect(error.problems[0]).toMatch(/^colors\.blue\.container: container ml-service-blue is already used by router\.container/);
  });

  it('refuses an unknown color key', () => {
    const error = errorOf(() => parseDeploymentSpec(withSpec((s) => ((s.colors as Record<string, unknown>)['red'] = { port: 8083 }))));
    expect(error.problems).toEqual(['colors: unknown key "red"; remove it (check the spelling)']);
  });

  it('refuses a model path outside the repo or not an ONNX file', () => {
    for (const model of ['/abs/model.onnx', 'models/../../etc/model.onnx', 'models/v1/model.pkl']) {
      const error = errorOf(() => parseDeploymentSpec(withSpec((s) => (s.colors.green.model = model))));
      expect(error.problems[0]).toMatch(/^colors\.green\.model: must be a relative path to an \.onnx file/);
    }
  });

  it('reports invalid JSON with the file name', () => {
    const error = errorOf(() => parseDeploymentSpec('{ "router": ', 'my-spec.json'));
    expect(error.message).toMatch(/^my-spec\.json is not a valid deployment spec:\n {2}- not valid JSON: /);
    expect(error.hint).toBe('Fix the JSON syntax in my-spec.json.');
  });

  it('loads a file, and says what to do when it is missing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mlbg-spec-'));
    try {
      const file = join(dir, 'deployment.json');
      writeFileSync(
        file,
        withSpec((s) => (s.router.port = 8080)),
      );
      expect(loadDeploymentSpec(file).router.port).toBe(8080);
      const missing = errorOf(() => loadDeploymentSpec(join(dir, 'nope.json')));
      expect(missing.problems[0]).toMatch(/^can not be read: ENOENT/);
      expect(missing.hint).toMatch(/workspace root/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('applyOverrides', () => {
  it('applies flag and env values (text or numbers) and returns a new frozen spec', () => {
    const spec = applyOverrides(DEFAULT_DEPLOYMENT_SPEC, { routerPort: '8080', greenPort: 9092, blueModel: undefined });
    expect(spec.router.port).toBe(8080);
    expect(spec.colors.green.port).toBe(9092);
    expect(spec.colors.blue).toEqual(DEFAULT_DEPLOYMENT_SPEC.colors.blue);
    expect(Object.isFrozen(spec)).toBe(true);
    expect(DEFAULT_DEPLOYMENT_SPEC.router.port).toBe(80);
  });

  it('refuses a malformed override and changes nothing', () => {
    const error = errorOf(() => applyOverrides(DEFAULT_DEPLOYMENT_SPEC, { routerPort: 'eighty' }));
    expect(error.source).toBe('overrides (flags or environment)');
    expect(error.problems[0]).toMatch(/^routerPort: /);
    expect(DEFAULT_DEPLOYMENT_SPEC.router.port).toBe(80);
  });

  it('refuses an override that makes two listeners share a port', () => {
    const error = errorOf(() => applyOverrides(DEFAULT_DEPLOYMENT_SPEC, { routerPort: 8081 }));
    expect(error.problems).toEqual([
      'colors.blue.port: port 8081 is already used by router.port; the router and each color need their own (default: 8081)',
    ]);
  });

  it('refuses an unknown override', () => {
    const error = errorOf(() => applyOverrides(DEFAULT_DEPLOYMENT_SPEC, { redPort: 1 } as never));
    expect(error.problems).toEqual(['(top level): unknown key "redPort"; remove it (check the spelling)']);
  });
});

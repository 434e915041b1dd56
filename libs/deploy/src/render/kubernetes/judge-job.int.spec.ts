import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts } from '../../effects/real-deps';
import { DEFAULT_DEPLOYMENT_SPEC } from '../../spec/deployment-spec';
import { oneRowModel, writeModel } from '../../testing/fault-models';
import { yamlObjects } from '../../testing/kubernetes-models';
import { WORKSPACE_ROOT } from '../../testing/stack-harness';
import { IMAGE_CLI, renderArgoRolloutsFiles } from './argo-rollouts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON bodies, read field by field as the tests need
type Json = any;

const SERVICE_MAIN = join(WORKSPACE_ROOT, 'dist/apps/model-service/src/main.js');

/**
 * The judge's Job as the rendered AnalysisTemplate runs it, here against real colors (the model
 * service on loopback ports): its exact command and environment, with what only the image and the
 * cluster have mapped to this checkout: the image's built CLI to its source (run with swc), /app
 * to the workspace, the Services' names to the colors' ports, the spec's ConfigMap to a file.
 */
const rendered = renderArgoRolloutsFiles(DEFAULT_DEPLOYMENT_SPEC)
  .filter((file) => file.path === 'deploy/kubernetes/argo-rollouts/judge-template.yaml')
  .flatMap((file) => yamlObjects(file.content));
const template = rendered.find((object) => object.kind === 'AnalysisTemplate') as Json;
const specConfigMap = rendered.find((object) => object.kind === 'ConfigMap') as Json;
const container = template.spec.metrics[0].provider.job.spec.template.spec.containers[0];

function get(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path }, (res) => res.resume().on('end', () => resolve(res.statusCode ?? 0)))
      .on('error', reject)
      .end();
  });
}

describe("the judge's Job from the rendered AnalysisTemplate, run against real colors (the model service on loopback ports)", () => {
  const dir = mkdtempSync(join(tmpdir(), 'mlbg-judge-job-'));
  const ports = { live: 0, preview: 0 };
  const colors: ChildProcess[] = [];

  beforeAll(async () => {
    if (!existsSync(SERVICE_MAIN))
      throw new Error(`${SERVICE_MAIN} is missing: run \`npx nx run model-service:build\` (nx test deploy does it).`);
    [ports.live, ports.preview] = (await freePorts(2)) as [number, number];
    // The spec's ConfigMap, mounted where the Job's BLUEGREEN_SPEC points.
    writeFileSync(join(dir, 'deployment.json'), specConfigMap.data['deployment.json']);
  });

  afterEach(async () => {
    for (const child of colors.splice(0)) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function startColor(port: number, color: 'blue' | 'green', model: string): Promise<void> {
    const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => key !== 'NODE_ENV' && !key.startsWith('JEST')));
    colors.push(
      spawn(process.execPath, [SERVICE_MAIN], {
        env: { ...env, HOST: '127.0.0.1', PORT: String(port), COLOR: color, MODEL_PATH: model, LOG_LEVEL: 'warn' },
        stdio: 'ignore',
      }),
    );
    const until = Date.now() + 30_000;
    while ((await get(port, '/health').catch(() => 0)) !== 200) {
      if (Date.now() > until) throw new Error(`${color} on ${model} did not become healthy`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  /** The container's command, run here: exit status and log. */
  function runJob(): Promise<{ code: number; log: string }> {
    const [node, cli, ...args] = container.command as string[];
    expect([node, cli]).toEqual(['node', IMAGE_CLI]);
    const here = args.map((arg) =>
      arg
        .replace('http://ml-preview:80', `http://127.0.0.1:${ports.preview}`)
        .replace('http://ml-live:80', `http://127.0.0.1:${ports.live}`)
        .replace('=/app/', `=${WORKSPACE_ROOT}/`),
    );
    const env: Record<string, string> = {
      PATH: process.env['PATH'] ?? '',
      HOME: dir,
      SWC_NODE_PROJECT: join(WORKSPACE_ROOT, 'libs/deploy/tsconfig.lib.json'),
    };
    for (const variable of container.env as { name: string; value: string }[])
      env[variable.name] = variable.value.replace('/etc/mlbg/', `${dir}/`);
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        ['-r', join(WORKSPACE_ROOT, 'node_modules/@swc-node/register'), join(WORKSPACE_ROOT, 'libs/deploy/src/cli/main.ts'), ...here],
        // The Job's working folder in the image is /app; here, a folder with no checkout above it.
        { cwd: dir, env, timeout: 120_000 },
        (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, log: `${stdout}${stderr}` }),
      );
    });
  }

  it('passes a canary that is the same model (exit 0), the log saying so check by check', async () => {
    await startColor(ports.live, 'blue', join(WORKSPACE_ROOT, 'models/v1.0.0/model.onnx'));
    await startColor(ports.preview, 'green', join(WORKSPACE_ROOT, 'models/v1.0.0/model.onnx'));
    const { code, log } = await runJob();
    expect({ code, first: log.split('\n').find((line) => line.startsWith('judge: ')) }).toEqual({
      code: 0,
      first: expect.stringMatching(
        /^judge: PASS - canary green \(v1\.0\.0\) at http:\/\/\S+ against stable blue \(v1\.0\.0\) at http:\/\/\S+ on \d+ requests sent to each/,
      ),
    });
    expect(log).toMatch(/^ {2}paired-agreement PASS: (\d+) of \1 pairs within/m);
    expect(log).not.toMatch(/ (FAIL|INCONCLUSIVE)[:;]/);
  }, 120_000);

  it('fails a canary whose answers differ (v1.1.0 against v1.0.0): exit 1, the answers check failed, errors and p99 fine', async () => {
    await startColor(ports.live, 'blue', join(WORKSPACE_ROOT, 'models/v1.0.0/model.onnx'));
    await startColor(ports.preview, 'green', join(WORKSPACE_ROOT, 'models/v1.1.0/model.onnx'));
    const { code, log } = await runJob();
    expect(code).toBe(1);
    expect(log).toMatch(/^judge: FAIL/m);
    expect(log).toMatch(/^ {2}paired-agreement FAIL: \d+ of \d+ pairs within/m);
    expect(log).toMatch(/^ {2}output-distribution FAIL: /m);
    expect(log).toMatch(/^ {2}error-share PASS: /m);
    expect(log).toContain('deploy judge: The judge found the canary worse than the stable color.');
  }, 120_000);

  it('fails a canary that answers 5xx (a model that refuses its multi-row answers): exit 1, the error checks failed', async () => {
    await startColor(ports.live, 'blue', join(WORKSPACE_ROOT, 'models/v1.0.0/model.onnx'));
    await startColor(ports.preview, 'green', writeModel(dir, 'one-row', oneRowModel('v9.0.1')));
    const { code, log } = await runJob();
    expect(code).toBe(1);
    expect(log).toMatch(/^ {2}error-share FAIL: green \d+ of \d+ 5xx/m);
    expect(log).toMatch(/^ {2}error-ceiling FAIL: /m);
  }, 120_000);

  it("is inconclusive (exit 3), never a pass, with fewer requests than the spec's minimum", async () => {
    await startColor(ports.live, 'blue', join(WORKSPACE_ROOT, 'models/v1.0.0/model.onnx'));
    await startColor(ports.preview, 'green', join(WORKSPACE_ROOT, 'models/v1.0.0/model.onnx'));
    // The same Job with a spec that asks more requests of each color than the Job sends.
    const spec = JSON.parse(specConfigMap.data['deployment.json']);
    spec.canary.analysis.minRequests = 1_000;
    spec.canary.analysis.outputs = { ...spec.canary.analysis.outputs, minOutputs: 1_000 };
    spec.predictionDiff = { ...spec.predictionDiff, minPairs: 1_000 };
    writeFileSync(join(dir, 'deployment.json'), JSON.stringify(spec));
    const saved = container.command;
    container.command = [...saved, '--requests=50'];
    try {
      const { code, log } = await runJob();
      expect(code).toBe(3);
      expect(log).toMatch(/^judge: INCONCLUSIVE/m);
      expect(log).toContain('too little data');
    } finally {
      container.command = saved;
      writeFileSync(join(dir, 'deployment.json'), specConfigMap.data['deployment.json']);
    }
  }, 120_000);
});

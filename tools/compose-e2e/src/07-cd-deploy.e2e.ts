import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { composeCanaryDeadlineMs, intervalsToPass, intervalsToRollBack, loadDeploymentSpec } from '@mlbg/deploy/testing';
import { COMPOSE_FILES, compose, docker, dockerOk, exec, WORKSPACE_ROOT } from './support/exec';
import { healthVerdictMs, registry } from './support/engine';
import { serving, waitUntil } from './support/http';
import { startLoad } from './support/load';
import { recordTiming } from './support/timings';

/**
 * What CD runs on the server (.github/workflows/cd.yml): the compose files, nginx.conf and the
 * script copied into a folder with no checkout, images pulled from a registry (here a local one),
 * `scripts/deploy_compose.sh <image>`. Every assertion is on what clients, docker and nginx show.
 */
const LABEL = 'org.mlbg.compose-e2e.test';
/** The script's own default HEALTH_TIMEOUT is 180 s; it must decide before that, plus its smoke test and verification. */
const DEPLOY_TIMEOUT_MS = 180_000 + 60_000;

let server: string;
let images: Record<'release1' | 'release2' | 'release3' | 'brokenModel' | 'neverHealthy' | 'wrongModel', string>;

/**
 * An image made from the one `up --build` built, pushed to the registry and removed here, so the
 * deploy must pull it. `files`: files of the workspace the Dockerfile's lines COPY (by their base name).
 */
async function publish(tag: string, dockerfileLines: string[], files: string[] = []): Promise<string> {
  const ref = `${registry()}/mlbg/model-service:${tag}`;
  const dockerfile = ['FROM ml-model-service:blue', ...dockerfileLines, `LABEL ${LABEL}=${tag}`].join('\n');
  const context = mkdtempSync(join(tmpdir(), 'compose-e2e-image-'));
  writeFileSync(join(context, 'Dockerfile'), dockerfile);
  for (const file of files) cpSync(join(WORKSPACE_ROOT, file), join(context, basename(file)));
  // The classic builder: what docker-compose 1.29 uses too, and what podman's Docker API serves.
  const build = await exec('docker', ['build', '-q', '-t', ref, context], { env: { DOCKER_BUILDKIT: '0' }, timeoutMs: 120_000 });
  rmSync(context, { recursive: true, force: true });
  expect({ tag, status: build.status, stderr: build.status === 0 ? '' : build.stderr }).toEqual({ tag, status: 0, stderr: '' });
  await dockerOk(['push', ref]);
  await dockerOk(['rmi', ref]);
  return ref;
}

/**
 * The checkout's script on the server folder: its deploy CLI runs on this host's node (DEPLOY_CLI
 * auto -> host). The other way, the CLI in a one-off container of the image, needs docker's compose
 * plugin, which this machine's podman setup does not have (docker-compose 1.29 only): not run here.
 */
function deploy(image: string, env: Record<string, string> = {}, timeoutMs = DEPLOY_TIMEOUT_MS) {
  return exec(join(WORKSPACE_ROOT, 'scripts/deploy_compose.sh'), [image], {
    cwd: server,
    env: { DEPLOY_DIR: server, DEPLOY_CLI: 'host', ...env },
    timeoutMs,
  });
}
/** The checkout's deploy CLI, run in the server folder as a person there would. */
function deployCli(args: string[]) {
  return exec('node', ['-r', '@swc-node/register', join(WORKSPACE_ROOT, 'libs/deploy/src/cli/main.ts'), ...args], {
    cwd: server,
    env: { SWC_NODE_PROJECT: join(WORKSPACE_ROOT, 'libs/deploy/tsconfig.lib.json'), NODE_PATH: join(WORKSPACE_ROOT, 'node_modules') },
    timeoutMs: DEPLOY_TIMEOUT_MS,
  });
}
const inServer = (args: string[]) => compose(args, { cwd: server });
const imageOf = (container: string) => dockerOk(['inspect', '--format', '{{.Config.Image}}', container]);

/** What the engine shows about a color's containers, for a failure message: ps, their state, the last log lines. */
async function engineView(container: string): Promise<string> {
  const text = (result: { stdout: string; stderr: string }) => `${result.stdout}${result.stderr}`.trim();
  const ps = await docker(['ps', '-a', '--format', '{{.Names}}  {{.Image}}  {{.Status}}']);
  const state = await docker(['inspect', '--format', '{{json .State}} restarts={{.RestartCount}}', container]);
  const logs = await docker(['logs', '--tail', '20', container]);
  return [
    `docker ps -a:\n${text(ps)}`,
    `docker inspect ${container}:\n${text(state)}`,
    `docker logs --tail 20 ${container}:\n${text(logs)}`,
  ].join('\n');
}

beforeAll(async () => {
  // The folder CD copies to (DEPLOY_PATH's default name); Compose names the project after it.
  server = join(mkdtempSync(join(tmpdir(), 'compose-e2e-cd-')), 'ml-deployment-project');
  mkdirSync(join(server, 'deploy/nginx'), { recursive: true });
  mkdirSync(join(server, 'scripts'));
  // What cd.yml copies to the server.
  for (const file of [
    ...COMPOSE_FILES,
    'deploy/nginx/nginx.conf',
    'deploy/deployment.json',
    'deploy/canary-samples.json',
    'scripts/deploy_compose.sh',
  ])
    cpSync(join(WORKSPACE_ROOT, file), join(server, file));
  const started = Date.now();
  images = {
    release1: await publish('release-1', []),
    release2: await publish('release-2', []),
    release3: await publish('release-3', []),
    // Every shipped model replaced by garbage: the service exits 1 at start ("model file is corrupt").
    brokenModel: await publish('broken-model', [
      'USER root',
      'RUN for model in /app/models/*/model.onnx; do echo not-onnx > "$model"; done',
      'USER node',
    ]),
    // Starts and answers, but its v1.1.0 file is the judge's negated-slope fixture: every answer's sign flipped.
    wrongModel: await publish(
      'wrong-model',
      ['COPY model.onnx /app/models/v1.1.0/model.onnx'],
      ['models/fixtures/negated-slope/model.onnx'],
    ),
    // Serves, but on a port nobody asks: the files' healthcheck (127.0.0.1:<PORT>/health) never passes.
    neverHealthy: await publish('never-healthy', ['CMD ["sh", "-c", "PORT=18080 exec node dist/apps/model-service/src/main.js"]']),
  };
  recordTiming('CD: 6 images built, pushed to the local registry', Date.now() - started);
}, 10 * 60_000);

afterAll(async () => {
  if (!server) return;
  await inServer(['down', '-v']);
  rmSync(join(server, '..'), { recursive: true, force: true });
});

describe('scripts/deploy_compose.sh on a real engine, pulling from a registry', () => {
  it(
    'on a server with no stack yet, starts the whole stack with the image on both colors',
    async () => {
      const result = await deploy(images.release1);
      recordTiming('CD: first deploy (no stack yet)', result.ms);
      expect({ status: result.status, stderr: result.status === 0 ? '' : result.stderr }).toEqual({ status: 0, stderr: '' });
      // The script ends with the deploy CLI's status of what it started.
      expect(result.stdout).toMatch(/Compose deployment \(.*\): running, healthy/);
      expect([await imageOf('ml-service-blue'), await imageOf('ml-service-green')]).toEqual([images.release1, images.release1]);
      expect(await serving(80)).toMatchObject({ status: 200, color: 'blue', version: 'v1.0.0' });
      expect(await serving(80, '/preview/health')).toMatchObject({ status: 200, color: 'green', version: 'v1.1.0' });
    },
    DEPLOY_TIMEOUT_MS,
  );

  it(
    'releases a new image with a new model (DEPLOY_MODEL) to the idle color, smoke-tests it on /preview/, switches; 32 clients lose nothing',
    async () => {
      const load = startLoad(80, 32);
      const result = await deploy(images.release2, { DEPLOY_MODEL: '/app/models/v1.1.0/model.onnx', EXPECT_VERSION: 'v1.1.0' });
      const report = await load.stop();
      recordTiming('CD: deploy to the idle color under load', result.ms, `${report.requests} requests, ${report.failed} failed`);
      expect({ status: result.status, stderr: result.status === 0 ? '' : result.stderr }).toEqual({ status: 0, stderr: '' });
      expect(result.stdout).toContain(`Released /app/models/v1.1.0/model.onnx (image ${images.release2}) to green: it runs v1.1.0`);
      expect(result.stdout).toContain('Switched live traffic blue -> green (v1.0.0 -> v1.1.0).');
      expect(await serving(80)).toMatchObject({ status: 200, color: 'green', version: 'v1.1.0' });
      expect([await imageOf('ml-service-blue'), await imageOf('ml-service-green')]).toEqual([images.release1, images.release2]);
      expect(report.failures).toEqual([]);
      expect(Object.keys(report.byColorVersion).sort()).toEqual(['blue v1.0.0', 'green v1.1.0']);
    },
    DEPLOY_TIMEOUT_MS,
  );

  it(
    'a deploy of a new image keeps the live model version: v1.1.0 live stays v1.1.0 on the new image',
    async () => {
      const result = await deploy(images.release3);
      expect({ status: result.status, stderr: result.status === 0 ? '' : result.stderr }).toEqual({ status: 0, stderr: '' });
      // The idle color (blue) got the new image and the live color's model, not its own default v1.0.0.
      expect(await serving(80)).toMatchObject({ status: 200, color: 'blue', version: 'v1.1.0' });
      expect(await imageOf('ml-service-blue')).toBe(images.release3);
      expect(readFileSync(join(server, '.env'), 'utf8')).toContain('BLUE_MODEL=/app/models/v1.1.0/model.onnx');
      // The server's own `up -d` (after a reboot, by hand) keeps it too: .env holds both.
      expect((await inServer(['config'])).stdout).toMatch(
        /MODEL_PATH: \/app\/models\/v1\.1\.0\/model\.onnx[\s\S]*MODEL_PATH: \/app\/models\/v1\.1\.0\/model\.onnx/,
      );
    },
    DEPLOY_TIMEOUT_MS,
  );

  it(
    'is undone by deploy:rollback --backend=compose (one history for CD and people), under 32 clients',
    async () => {
      const load = startLoad(80, 32);
      const result = await deployCli(['rollback', '--backend=compose', '--json']);
      const report = await load.stop();
      recordTiming('CD: rollback of the last deploy under load', result.ms, `${report.requests} requests, ${report.failed} failed`);
      // The last deploy switched green -> blue (same model, new image): the rollback returns to green.
      expect(JSON.parse(result.stdout)).toMatchObject({
        ok: true,
        result: { kind: 'switched', from: 'blue', to: 'green', toVersion: 'v1.1.0' },
      });
      expect(await serving(80)).toMatchObject({ status: 200, color: 'green', version: 'v1.1.0' });
      expect(report.failures).toEqual([]);
      // Roll forward again so the cases below start from blue live.
      const forward = await deployCli(['switch', '--backend=compose', '--color=blue', '--json']);
      expect(JSON.parse(forward.stdout)).toMatchObject({ ok: true, result: { kind: 'switched', to: 'blue' } });
    },
    DEPLOY_TIMEOUT_MS * 2,
  );

  describe.each([
    ['whose model does not load', 'brokenModel', {}, /ml-service-green (stopped|keeps restarting)/],
    // Its check can never pass (nothing listens where it asks), so any HEALTH_TIMEOUT proves the
    // refusal; 30 s instead of the default 180 s keeps the suite in its time budget.
    ['whose healthcheck never passes', 'neverHealthy', { HEALTH_TIMEOUT: '30' }, /ml-service-green was not healthy after 30 s/],
  ] as const)('an image %s', (_, key, env, message) => {
    it(
      'is refused before it gets live traffic; the idle color goes back to its image; clients lose nothing',
      async () => {
        const idleImage = await imageOf('ml-service-green');
        const load = startLoad(80, 32);
        const result = await deploy(images[key], env);
        const report = await load.stop();
        recordTiming(`CD: refused deploy, image ${key}`, result.ms, `${report.requests} requests, ${report.failed} failed`);
        expect(result.status).toBe(1);
        expect(result.stderr).toMatch(message);
        expect(result.stderr).toContain(
          `DEPLOY FAILED: ${images[key]} is not live (the CLI said why above; live traffic stayed on the color that served it).`,
        );
        expect(await serving(80)).toMatchObject({ status: 200, color: 'blue', version: 'v1.1.0' });
        expect(await imageOf('ml-service-green')).toBe(idleImage);
        // The CLI removes the failed container before recreating green: a crash-looping one that the
        // engine restarts after compose's stop would keep port 8082, and green would stay "created".
        expect(result.stderr).toContain('ml-service-green was recreated as it was before.');
        // The script recreated green on its previous image and returned; it is a rollback target again once healthy.
        await waitUntil('green back on its image answers on /preview/', healthVerdictMs(), async () => {
          const preview = await serving(80, '/preview/health');
          return preview.status === 200 || JSON.stringify(preview);
        }).catch(async (error: Error) => {
          throw new Error(`${error.message}\nThe deploy said:\n${result.stdout}${result.stderr}\n${await engineView('ml-service-green')}`);
        });
        expect(await serving(80, '/preview/health')).toMatchObject({ status: 200, color: 'green', version: 'v1.1.0' });
        expect(report.failures).toEqual([]);
        expect(report.byColorVersion).toEqual({ 'blue v1.1.0': report.requests });
      },
      DEPLOY_TIMEOUT_MS + healthVerdictMs(),
    );
  });
});

describe('scripts/deploy_compose.sh with DEPLOY_STRATEGY=canary (steps 50, 100; 3 s intervals) under 32 keep-alive clients', () => {
  const CANARY = { DEPLOY_STRATEGY: 'canary', CANARY_STEPS: '50,100', CANARY_INTERVAL: '3' };
  // The release as for a switch, then the canary within the tool's own deadlines for the intervals its outcome may take.
  const spec = loadDeploymentSpec(join(WORKSPACE_ROOT, 'deploy/deployment.json'));
  const steps = [50, 100];
  const PROMOTED_MS =
    DEPLOY_TIMEOUT_MS + composeCanaryDeadlineMs(spec, { steps, intervalMs: 3_000, intervals: intervalsToPass(spec, steps) });
  const ROLLED_BACK_MS =
    DEPLOY_TIMEOUT_MS + composeCanaryDeadlineMs(spec, { steps, intervalMs: 3_000, intervals: intervalsToRollBack(spec) });

  it(
    'releases a good image to the idle color, runs its canary, and promotes it; clients lose nothing',
    async () => {
      expect(await serving(80)).toMatchObject({ status: 200, color: 'blue', version: 'v1.1.0' });
      const load = startLoad(80, 32);
      const result = await deploy(images.release2, CANARY, PROMOTED_MS);
      const report = await load.stop();
      recordTiming('CD: canary deploy promoted under load', result.ms, `${report.requests} requests, ${report.failed} failed`);
      expect({ status: result.status, stderr: result.status === 0 ? '' : result.stderr }).toEqual({ status: 0, stderr: '' });
      expect(result.stdout).toContain(`Done: ${images.release2} is live after its canary.`);
      expect(await serving(80)).toMatchObject({ status: 200, color: 'green', version: 'v1.1.0' });
      expect(await imageOf('ml-service-green')).toBe(images.release2);
      expect(report.failures).toEqual([]);
      expect(report.byStatus).toEqual({ '200': report.requests });
    },
    PROMOTED_MS,
  );

  it(
    'rolls back an image whose model answers differently (the judge fails it on the answers), and the job fails with the verdict; clients lose nothing',
    async () => {
      const load = startLoad(80, 32);
      const result = await deploy(images.wrongModel, CANARY, ROLLED_BACK_MS);
      const report = await load.stop();
      recordTiming('CD: canary deploy rolled back under load', result.ms, `${report.requests} requests, ${report.failed} failed`);
      expect(result.status).toBe(1);
      expect(`${result.stdout}${result.stderr}`).toMatch(/ROLLED BACK: the canary blue failed/);
      expect(`${result.stdout}${result.stderr}`).toMatch(/output-distribution FAIL/);
      expect(result.stderr).toContain(`DEPLOY FAILED: ${images.wrongModel} is not live: its canary on blue did not pass`);
      expect(await serving(80)).toMatchObject({ status: 200, color: 'green', version: 'v1.1.0' });
      expect(report.failures).toEqual([]);
      expect(report.byStatus).toEqual({ '200': report.requests });
    },
    ROLLED_BACK_MS,
  );
});

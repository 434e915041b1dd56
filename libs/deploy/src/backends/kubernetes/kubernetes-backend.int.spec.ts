import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseHistory } from '../../history/history';
import { FAKE_NAMESPACE, FakeKubeApi, fakeKubeconfig } from '../../testing/fake-kube-api';
import { WORKSPACE_ROOT } from '../../testing/stack-harness';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON bodies, read field by field as the tests need
type Json = any;

/**
 * The real CLI (`node libs/deploy/src/cli/main.ts ... --backend=kubernetes`, so the real
 * @kubernetes/client-node, which Jest can not load: it is an ES module) against a fake API server
 * on a loopback port. One fake cluster per test.
 */
let api: FakeKubeApi;
let dir: string;
let kubeconfig: string;

beforeEach(async () => {
  api = new FakeKubeApi();
  const server = await api.start();
  dir = mkdtempSync(join(tmpdir(), 'mlbg-kube-'));
  kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, fakeKubeconfig(server));
});

afterEach(async () => {
  await api.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  json: { ok: boolean; result: Json; error?: { code: string; message: string; hint: string } };
}

function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['-r', '@swc-node/register', 'libs/deploy/src/cli/main.ts', ...args, '--backend=kubernetes', '--json'],
      {
        cwd: WORKSPACE_ROOT,
        env: {
          PATH: process.env['PATH'],
          HOME: dir,
          SWC_NODE_PROJECT: 'libs/deploy/tsconfig.lib.json',
          KUBECONFIG: kubeconfig,
          BLUEGREEN_STATE_DIR: join(dir, 'state'),
          ...env,
        },
        timeout: 60_000,
      },
      (error, stdout, stderr) => {
        let json: Run['json'];
        try {
          json = JSON.parse(stdout);
        } catch {
          throw new Error(`not JSON (exit ${error?.code}): ${stdout}\n${stderr}`);
        }
        resolve({ code: error ? Number(error.code) : 0, stdout, stderr, json });
      },
    );
  });
}

// The outcomes (each moving switch also records its intent first, see commands/reconcile.ts).
const history = () =>
  parseHistory(api.configMaps.get('ml-deploy-history')?.body['data']?.['history.jsonl'] ?? '').entries.filter(
    (entry) => entry.command !== 'switch-intent',
  );
const selectors = () => ({
  live: api.services.get('ml-live')?.selector['color'],
  preview: api.services.get('ml-preview')?.selector['color'],
});
const lease = () => api.leases.get('ml-deploy-lock')?.body['spec'];

describe('--backend=kubernetes against a fake API server', () => {
  it('status (fake API server): both Deployments, what each Service selects, what each color answers', async () => {
    const status = await cli(['status']);
    expect(status.code).toBe(0);
    expect(status.json.result).toMatchObject({
      backend: 'kubernetes',
      healthy: true,
      live: 'blue',
      preview: 'green',
      colors: {
        blue: {
          role: 'live',
          replicas: { ready: 2, desired: 2 },
          model: '/app/models/v1.0.0/model.onnx',
          versionLabel: 'v1.0.0',
          health: { ok: true, version: 'v1.0.0' },
        },
        green: { role: 'preview', replicas: { ready: 2, desired: 2 }, health: { ok: true, version: 'v1.1.0' } },
      },
      router: { serving: { color: 'blue', version: 'v1.0.0' } },
    });
    expect(status.json.result.where).toMatch(/^context fake, namespace ml-bluegreen \(http:\/\/127\.0\.0\.1:\d+\)$/);
    expect(api.writes()).toEqual([]);
  }, 60_000);

  it('switch, then rollback (fake API server): the selectors move, the Lease is taken and freed, the history is in the ConfigMap', async () => {
    const switched = await cli(['switch', '--color=green']);
    expect({ code: switched.code, error: switched.json.error }).toEqual({ code: 0, error: undefined });
    expect(switched.json.result).toMatchObject({ kind: 'switched', from: 'blue', to: 'green', fromVersion: 'v1.0.0', toVersion: 'v1.1.0' });
    expect(selectors()).toEqual({ live: 'green', preview: 'blue' });
    // Taken (created) and freed (replaced without a holder) by this command.
    expect(api.writes().filter((write) => write.includes('/leases'))[0]).toMatch(/^POST .*\/leases 201$/);
    expect(lease()).not.toHaveProperty('holderIdentity');
    const rollback = await cli(['rollback']);
    expect(rollback.code).toBe(0);
    expect(selectors()).toEqual({ live: 'blue', preview: 'green' });
    expect(history().map((entry) => [entry.command, entry.backend, 'outcome' in entry ? entry.outcome : null])).toEqual([
      ['switch', 'kubernetes', 'switched'],
      ['rollback', 'kubernetes', 'switched'],
    ]);
    expect(history()[0]?.gates.map((gate) => gate.name)).toEqual(['health-streak', 'predict', 'signature', 'router-serves-target']);
  }, 90_000);

  it('a Lease held by another command (fake API server): refused with LOCKED naming the holder, nothing changed', async () => {
    const now = new Date().toISOString().replace('Z', '000Z');
    api.leases.set('ml-deploy-lock', {
      resourceVersion: api.next(),
      body: {
        metadata: { name: 'ml-deploy-lock' },
        spec: { holderIdentity: 'release --image=x by alice on ci-7 (pid 42)', leaseDurationSeconds: 30, acquireTime: now, renewTime: now },
      },
    });
    const refused = await cli(['switch', '--color=green']);
    expect(refused.code).toBe(1);
    expect(refused.json.error).toMatchObject({
      code: 'LOCKED',
      message: expect.stringContaining('held by `release --image=x by alice on ci-7 (pid 42)`'),
    });
    expect(refused.json.error?.hint).toContain('taken over once it has not changed for 30 s');
    expect(api.writes()).toEqual([]);
    expect(selectors()).toEqual({ live: 'blue', preview: 'green' });
  }, 60_000);

  it('an expired Lease (fake API server): a crashed command never locks forever, the next one takes it over once it stood still for its duration', async () => {
    const long = new Date(Date.now() - 120_000).toISOString().replace('Z', '000Z');
    api.leases.set('ml-deploy-lock', {
      resourceVersion: api.next(),
      body: {
        metadata: { name: 'ml-deploy-lock' },
        spec: { holderIdentity: 'switch by bob (killed)', leaseDurationSeconds: 3, acquireTime: long, renewTime: long },
      },
    });
    const started = Date.now();
    const switched = await cli(['switch', '--color=green']);
    expect(switched.code).toBe(0);
    expect(selectors().live).toBe('green');
    // Watched for its 3 s first: its renewTime is only a hint, this client's clock the judge.
    expect(Date.now() - started).toBeGreaterThanOrEqual(3_000);
    expect(switched.stderr).toContain('held by `switch by bob (killed)`, which looks stopped; watching it for 3 s');
  }, 60_000);

  it('a live holder whose clock runs 2 minutes behind (fake API server): its Lease looks expired but keeps changing, so it is not taken: LOCKED, nothing changed', async () => {
    const renew = () => {
      const late = new Date(Date.now() - 120_000).toISOString().replace('Z', '000Z');
      api.leases.set('ml-deploy-lock', {
        resourceVersion: api.next(),
        body: {
          metadata: { name: 'ml-deploy-lock' },
          spec: { holderIdentity: 'release by erin on ci-3 (pid 9)', leaseDurationSeconds: 30, acquireTime: late, renewTime: late },
        },
      });
    };
    renew();
    const renewing = setInterval(renew, 300);
    try {
      const refused = await cli(['switch', '--color=green']);
      expect(refused.json.error).toMatchObject({ code: 'LOCKED', message: expect.stringContaining('release by erin on ci-3 (pid 9)') });
      expect(api.writes()).toEqual([]);
      expect(selectors()).toEqual({ live: 'blue', preview: 'green' });
    } finally {
      clearInterval(renewing);
    }
  }, 60_000);

  it('renewals refused mid-switch (fake API server): another client took the Lease; the switch stops before its next change', async () => {
    api.before('PATCH', /\/services\/ml-live$/, async () => {
      // Mallory takes the Lease now (this command's renewals get 409), and this answer comes after its next renewal was
      // refused (the holder renews every third of the Lease's duration: the wait is bounded by the lock's own schedule).
      const taken = lease();
      api.leases.set('ml-deploy-lock', {
        resourceVersion: api.next(),
        body: { metadata: { name: 'ml-deploy-lock' }, spec: { ...taken, holderIdentity: 'switch by mallory on laptop (pid 5)' } },
      });
      const renewalRefused = () => api.writes().some((write) => /^PUT .*\/leases\/ml-deploy-lock 409$/.test(write));
      while (!renewalRefused()) await new Promise((resolve) => setTimeout(resolve, 100));
    });
    const switched = await cli(['switch', '--color=green']);
    expect(switched.code).toBe(1);
    expect(JSON.stringify(switched.json)).toContain('lost its Lease');
    // The one change already sent went through; nothing after it (not the preview Service, not a revert).
    expect(api.writes().filter((write) => write.startsWith('PATCH'))).toEqual([expect.stringMatching(/^PATCH .*\/services\/ml-live 200$/)]);
    expect(selectors()).toEqual({ live: 'green', preview: 'green' });
    expect(lease()?.holderIdentity).toBe('switch by mallory on laptop (pid 5)');
  }, 90_000);

  it('a Lease race lost by resourceVersion (fake API server): 409 on the take-over, read again, LOCKED naming the winner', async () => {
    api.leases.set('ml-deploy-lock', {
      resourceVersion: api.next(),
      body: { metadata: { name: 'ml-deploy-lock' }, spec: { leaseDurationSeconds: 30 } },
    });
    api.before('PUT', /\/leases\/ml-deploy-lock$/, () => {
      const now = new Date().toISOString().replace('Z', '000Z');
      api.leases.set('ml-deploy-lock', {
        resourceVersion: api.next(),
        body: {
          metadata: { name: 'ml-deploy-lock' },
          spec: { holderIdentity: 'switch by carol on laptop (pid 7)', leaseDurationSeconds: 30, acquireTime: now, renewTime: now },
        },
      });
    });
    const refused = await cli(['switch', '--color=green']);
    expect(refused.json.error).toMatchObject({ code: 'LOCKED', message: expect.stringContaining('switch by carol on laptop (pid 7)') });
    expect(api.writes()).toEqual([expect.stringMatching(/^PUT .*\/leases\/ml-deploy-lock 409$/)]);
    expect(selectors()).toEqual({ live: 'blue', preview: 'green' });
  }, 60_000);

  it('a Service changed under us (fake API server): the selector patch is refused by its resourceVersion, nothing overwritten', async () => {
    api.before('PATCH', /\/services\/ml-live$/, () => {
      const live = api.services.get('ml-live');
      if (live) Object.assign(live, { selector: { ...live.selector, track: 'changed-by-kubectl' }, resourceVersion: api.next() });
    });
    const switched = await cli(['switch', '--color=green']);
    expect(switched.code).toBe(1);
    expect(switched.json.result).toMatchObject({ kind: 'reverted', reason: expect.stringContaining('the object has been modified') });
    expect(switched.json.result.reason).toContain('What to do: Someone else changed it just now');
    // One refused patch, and no other: the revert had nothing to undo.
    expect(api.writes().filter((write) => write.startsWith('PATCH'))).toEqual([expect.stringMatching(/^PATCH .*\/services\/ml-live 409$/)]);
    expect(api.services.get('ml-live')?.selector).toEqual({ app: 'ml-model-service', color: 'blue', track: 'changed-by-kubectl' });
    expect(history()[0]).toMatchObject({ command: 'switch', outcome: 'reverted' });
  }, 60_000);

  it('403 on the selector patch (fake API server): not switched, the message says which permission', async () => {
    api.forbid('PATCH', /\/services\/ml-live$/);
    const switched = await cli(['switch', '--color=green']);
    expect(switched.code).toBe(1);
    expect(switched.json.result.reason).toContain('`patch service ml-live` in namespace ml-bluegreen: 403');
    expect(switched.json.result.reason).toContain('deploy/kubernetes/base/rbac.yaml');
    expect(selectors()).toEqual({ live: 'blue', preview: 'green' });
  }, 60_000);

  it('403 on the Lease (fake API server): KUBE_FORBIDDEN naming the request, nothing changed', async () => {
    api.forbid('GET', /\/leases\//);
    const refused = await cli(['switch', '--color=green']);
    expect(refused.json.error).toMatchObject({
      code: 'KUBE_FORBIDDEN',
      message: expect.stringContaining('`get lease ml-deploy-lock` in namespace ml-bluegreen: 403'),
    });
    expect(refused.json.error?.hint).toContain('kubectl auth can-i');
    expect(api.writes()).toEqual([]);
  }, 60_000);

  it('404: a namespace without the manifests (fake API server): KUBE_NOT_FOUND saying what to install', async () => {
    const missing = await cli(['status', '--namespace=team-b']);
    expect(missing.code).toBe(1);
    expect(missing.json.result.notes.join('\n')).toContain('`get service ml-live` in namespace team-b');
    const switched = await cli(['switch', '--namespace=team-b']);
    expect(switched.json.error).toMatchObject({
      code: 'KUBE_NOT_FOUND',
      hint: expect.stringContaining('kubectl apply -k deploy/kubernetes'),
    });
    expect(api.writes().every((write) => write.endsWith(' 404'))).toBe(true);
    expect(api.leases.size + api.configMaps.size).toBe(0);
  }, 60_000);

  it('release (fake API server): the idle Deployment gets the image and model, its rollout is awaited, preview answers the new version', async () => {
    const released = await cli(['release', '--model=models/v1.2.0/model.onnx', '--image=registry.example/ml:v1.2.0']);
    expect({ code: released.code, error: released.json.error }).toEqual({ code: 0, error: undefined });
    expect(released.json.result).toMatchObject({
      color: 'green',
      version: 'v1.2.0',
      image: 'registry.example/ml:v1.2.0',
      previous: { model: '/app/models/v1.1.0/model.onnx', image: 'ml-model-service:local' },
    });
    expect(api.deployment('green')).toMatchObject({
      image: 'registry.example/ml:v1.2.0',
      modelPath: '/app/models/v1.2.0/model.onnx',
      labels: { version: 'v1.2.0' },
    });
    expect(api.deployment('blue').modelPath).toBe('/app/models/v1.0.0/model.onnx');
    expect(history()).toEqual([expect.objectContaining({ command: 'release', outcome: 'released', color: 'green', version: 'v1.2.0' })]);
    const live = await cli(['release', '--color=blue', '--model=models/v1.2.0/model.onnx']);
    expect(live.json.error).toMatchObject({ code: 'LIVE_COLOR_RELEASE' });
  }, 90_000);

  it('a Deployment that never becomes ready (fake API server): RELEASE_FAILED, put back as it was, live untouched', async () => {
    api.deployment('green').neverReady = true;
    const released = await cli(['release', '--model=models/v1.2.0/model.onnx', '--timeout=3']);
    expect(released.code).toBe(1);
    expect(released.json.error).toMatchObject({
      code: 'RELEASE_FAILED',
      message: expect.stringContaining('was not rolled out after 3 s: 1 of 2 pods updated'),
    });
    expect(released.json.error?.message).toContain(
      'ml-model-service-green runs ml-model-service:local with /app/models/v1.1.0/model.onnx again.',
    );
    expect(api.deployment('green')).toMatchObject({ modelPath: '/app/models/v1.1.0/model.onnx', labels: { version: 'v1.1.0' } });
    expect(selectors()).toEqual({ live: 'blue', preview: 'green' });
    expect(history()).toEqual([expect.objectContaining({ command: 'release', outcome: 'failed' })]);
  }, 90_000);

  it('an unhealthy target (fake API server): the preflight refuses through the service proxy, the Services are not touched', async () => {
    api.deployment('green').unhealthy = true;
    const refused = await cli(['switch']);
    expect(refused.json.error).toMatchObject({ code: 'PREFLIGHT_FAILED' });
    expect(refused.json.result.gates[0]).toMatchObject({
      name: 'health-streak',
      ok: false,
      observed: expect.stringContaining('answered 503'),
    });
    expect(api.writes().filter((write) => write.startsWith('PATCH'))).toEqual([]);
    expect(history()).toEqual([expect.objectContaining({ outcome: 'refused' })]);
  }, 60_000);

  it('two appends racing on the history ConfigMap (fake API server): 409, read again, both lines kept', async () => {
    api.configMaps.set('ml-deploy-history', {
      resourceVersion: api.next(),
      body: { metadata: { name: 'ml-deploy-history' }, data: { 'history.jsonl': '' } },
    });
    api.before('PUT', /\/configmaps\/ml-deploy-history$/, () => {
      const other = JSON.stringify({
        schemaVersion: 2,
        time: new Date().toISOString(),
        user: 'dave',
        backend: 'kubernetes',
        durationMs: 5,
        gates: [],
        command: 'down',
        outcome: 'stopped',
      });
      api.configMaps.set('ml-deploy-history', {
        resourceVersion: api.next(),
        body: { metadata: { name: 'ml-deploy-history' }, data: { 'history.jsonl': `${other}\n` } },
      });
    });
    expect((await cli(['switch', '--color=green'])).code).toBe(0);
    expect(history().map((entry) => `${entry.user} ${entry.command}`)).toEqual(['dave down', expect.stringMatching(/ switch$/)]);
  }, 60_000);

  it('no kubeconfig, or a context that is not in it: KUBECONFIG_NOT_FOUND saying where it looked', async () => {
    const none = await cli(['status'], { KUBECONFIG: '' });
    expect(none.json.error).toMatchObject({
      code: 'KUBECONFIG_NOT_FOUND',
      message: expect.stringContaining(`${dir}/.kube/config does not exist`),
    });
    const wrong = await cli(['status', '--context=prod']);
    expect(wrong.json.error).toMatchObject({
      code: 'KUBECONFIG_NOT_FOUND',
      message: expect.stringContaining('no context "prod" in the kubeconfig; it has fake, stranger'),
    });
    const stranger = await cli(['switch', '--context=stranger', `--namespace=${FAKE_NAMESPACE}`]);
    expect(stranger.json.error).toMatchObject({ code: 'KUBE_FORBIDDEN', message: expect.stringContaining('401') });
    expect(api.writes()).toEqual([]);
  }, 60_000);
});

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEPLOY_SCRIPT as SCRIPT, FAKES, FakeServer, IMAGE } from './testing/fake-server';
import { findBinary, run } from './testing/workspace';

describe('scripts/deploy_compose.sh', () => {
  let server: FakeServer | undefined;
  const given = (options?: ConstructorParameters<typeof FakeServer>[0]) => (server = new FakeServer(options));
  afterEach(() => server?.cleanup());

  it('is valid bash', () => {
    expect(run('bash', ['-n', SCRIPT])).toMatchObject({ status: 0, stderr: '' });
  });

  const shellcheck = findBinary('shellcheck');
  (shellcheck ? it : it.skip)('passes shellcheck, and so do the fakes it is tested with', () => {
    expect(run(shellcheck as string, [SCRIPT, join(FAKES, 'docker'), join(FAKES, 'curl'), join(FAKES, 'ssh')])).toMatchObject({ status: 0, stdout: '' });
  });

  it('says how to call it when the image is missing', () => {
    const result = given().deploy([]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/^usage: .*deploy_compose\.sh <image-ref>/);
    expect(server?.calls()).toEqual(['']);
  });

  describe('given blue is live', () => {
    it('recreates only green with the new image, smoke-tests it through /preview/, then switches live to it', () => {
      const result = given({ live: 'blue' }).deploy([IMAGE], { FAKE_HEALTH_GREEN: 'starting,starting,healthy' });
      const fake = server as FakeServer;
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
      expect(fake.ups()).toEqual([`up -d --no-deps --no-build --force-recreate ml-service-green | BLUE_IMAGE= GREEN_IMAGE=${IMAGE}`]);
      expect(fake.calls()).toContain(`docker pull ${IMAGE} | BLUE_IMAGE= GREEN_IMAGE=`);
      expect([fake.image('blue'), fake.image('green')]).toEqual(['ml-model-service:blue', IMAGE]);
      expect([fake.route('live'), fake.route('preview')]).toEqual(['green.sock', 'blue.sock']);
      // New code, same model: green takes blue's model, so clients keep the model version they had.
      expect(fake.model('green')).toBe('/app/models/v1.0.0/model.onnx');
      expect(fake.envFile()).toBe(`GREEN_IMAGE=${IMAGE}\nGREEN_MODEL=/app/models/v1.0.0/model.onnx\n`);

      const http = fake.calls().filter((call) => call.startsWith('curl '));
      expect(http).toEqual([
        'curl GET /health', // the live color, before anything changes
        'curl GET /preview/health',
        'curl POST /preview/predict',
        'curl GET /health',
        'curl GET /health',
        'curl GET /health',
        'curl POST /predict',
      ]);
      // The flip happens after the smoke test and before the verification through nginx.
      const calls = fake.calls();
      const flip = calls.findIndex((call) => call.includes('ln -s green.sock live.sock.next && mv -f live.sock.next live.sock'));
      expect(flip).toBeGreaterThan(calls.indexOf('curl POST /preview/predict'));
      expect(flip).toBeLessThan(calls.lastIndexOf('curl POST /predict'));
      expect(result.stdout).toMatch(/==> 1\/6 .*\n[\s\S]*==> 6\/6 /);
      expect(result.stdout).toContain('Switching live traffic: blue (v1.0.0) -> green (v1.1.0)');
      expect(result.stdout).toContain(`Done: live is green (v1.1.0, ${IMAGE}); blue (v1.0.0) stays up`);
    });

    it('flips live back to blue and restores green when the new color fails through nginx after the switch', () => {
      const result = given({ live: 'blue' }).deploy([IMAGE], { FAKE_FAIL_LIVE: 'green' });
      const fake = server as FakeServer;
      expect(result.status).toBe(1);
      expect(result.stderr).toContain('DEPLOY FAILED: after the switch: GET /health answered HTTP 502');
      expect(result.stderr).toContain(`DEPLOY OF ${IMAGE} FAILED (exit 1); live traffic is on blue.`);
      expect(result.stdout).toContain('Rolling back: live traffic back to blue');
      expect([fake.route('live'), fake.route('preview')]).toEqual(['blue.sock', 'green.sock']);
      expect(fake.ups()).toEqual([
        `up -d --no-deps --no-build --force-recreate ml-service-green | BLUE_IMAGE= GREEN_IMAGE=${IMAGE}`,
        'up -d --no-deps --no-build --force-recreate ml-service-green | BLUE_IMAGE= GREEN_IMAGE=ml-model-service:green',
      ]);
      expect(fake.image('green')).toBe('ml-model-service:green');
      expect(fake.model('green')).toBe('/app/models/v1.1.0/model.onnx');
      expect(fake.envFile()).toBe('');
    });

    it('gives the idle color the model DEPLOY_MODEL names instead of the live one', () => {
      const result = given({ live: 'blue' }).deploy([IMAGE], { DEPLOY_MODEL: '/app/models/v1.1.0/model.onnx' });
      expect(result.status).toBe(0);
      expect(server?.model('green')).toBe('/app/models/v1.1.0/model.onnx');
      expect(server?.envFile()).toBe(`GREEN_IMAGE=${IMAGE}\nGREEN_MODEL=/app/models/v1.1.0/model.onnx\n`);
    });
  });

  describe('given green is live', () => {
    it('deploys to blue and leaves green alone', () => {
      const result = given({ live: 'green' }).deploy([IMAGE]);
      const fake = server as FakeServer;
      expect(result.status).toBe(0);
      expect(fake.ups()).toEqual([`up -d --no-deps --no-build --force-recreate ml-service-blue | BLUE_IMAGE=${IMAGE} GREEN_IMAGE=`]);
      expect([fake.image('blue'), fake.image('green')]).toEqual([IMAGE, 'ml-model-service:green']);
      expect([fake.route('live'), fake.route('preview')]).toEqual(['blue.sock', 'green.sock']);
    });

    it('keeps the image it deployed earlier in .env next to the new one', () => {
      const fake = given({ live: 'green' });
      writeFileSync(join(fake.project, '.env'), 'GREEN_IMAGE=ghcr.io/acme/ml-deployment/model-service:0ld\nOTHER=kept\n');
      expect(fake.deploy([IMAGE]).status).toBe(0);
      expect(fake.envFile()).toBe(`GREEN_IMAGE=ghcr.io/acme/ml-deployment/model-service:0ld\nOTHER=kept\nBLUE_IMAGE=${IMAGE}\nBLUE_MODEL=/app/models/v1.1.0/model.onnx\n`);
    });
  });

  describe('never touches live traffic when the new color is not ready', () => {
    it.each([
      ['never turns healthy', { FAKE_HEALTH_GREEN: 'starting', HEALTH_TIMEOUT: '1', POLL_INTERVAL: '0.2' }, 'ml-service-green was not healthy after 1s'],
      ['turns unhealthy', { FAKE_HEALTH_GREEN: 'starting,unhealthy' }, 'ml-service-green turned unhealthy'],
      // Its process exits at start and the restart policy brings it back: seen as running again.
      ['keeps restarting', { FAKE_HEALTH_GREEN: 'running/starting/0,running/starting/1' }, 'ml-service-green keeps restarting (restarted 1 time(s))'],
      ['takes other inputs than the live model', { FAKE_FEATURES_GREEN: '3' }, "green's model takes 3 feature(s) but the live one takes 1"],
      ['serves another version than EXPECT_VERSION', { EXPECT_VERSION: 'v2.0.0' }, 'green serves model v1.1.0, not EXPECT_VERSION=v2.0.0'],
    ])('when it %s', (_, env, message) => {
      const result = given({ live: 'blue' }).deploy([IMAGE], env);
      const fake = server as FakeServer;
      expect(result.status).toBe(1);
      expect(result.stderr).toContain(`DEPLOY FAILED: ${message}`);
      expect(fake.calls().some((call) => call.includes('live.sock.next'))).toBe(false);
      expect(fake.route('live')).toBe('blue.sock');
      // green goes back to the image it had, so it stays a good rollback target.
      expect(fake.image('green')).toBe('ml-model-service:green');
      expect(fake.envFile()).toBe('');
    });

    it('when the image can not be pulled, changing nothing at all', () => {
      const result = given({ live: 'blue' }).deploy([IMAGE], { FAKE_PULL_FAIL: '1' });
      expect(result.status).toBe(1);
      expect(result.stderr).toContain(`DEPLOY FAILED: could not pull ${IMAGE}`);
      expect(server?.ups()).toEqual([]);
      expect(server?.route('live')).toBe('blue.sock');
    });
  });

  it('starts the whole stack with the image on both colors on a server with none yet', () => {
    const result = given({ running: false }).deploy([IMAGE]);
    const fake = server as FakeServer;
    expect(result.status).toBe(0);
    expect(fake.ups()).toEqual([`up -d --no-build | BLUE_IMAGE=${IMAGE} GREEN_IMAGE=${IMAGE}`]);
    expect(fake.route('live')).toBe('blue.sock');
    expect(fake.envFile()).toBe(`BLUE_IMAGE=${IMAGE}\nGREEN_IMAGE=${IMAGE}\n`);
    expect(result.stdout).toContain(`Done: the stack runs ${IMAGE}; live is blue (v1.0.0).`);
  });

  it('refuses to run while another deploy holds the lock', () => {
    const fake = given();
    // This shell holds the lock on its own descriptor while the script runs.
    const holder = run('bash', ['-c', 'exec 9>"$DEPLOY_LOCK"; flock -n 9 && bash "$@"', 'hold', SCRIPT, IMAGE], {
      env: { ...fake.env(), DEPLOY_DIR: fake.project },
    });
    expect(holder.status).toBe(1);
    expect(holder.stderr).toContain('another deploy holds');
  });
});

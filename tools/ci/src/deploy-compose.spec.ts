import { chmodSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { DEPLOY_SCRIPT as SCRIPT, FAKES, FakeServer, IMAGE } from './testing/fake-server';
import { WORKSPACE_ROOT, findBinary, readWorkspaceFile, readWorkspaceJson, run } from './testing/workspace';

/**
 * scripts/deploy_compose.sh launches the deploy CLI (release --backend=compose --switch): these
 * tests run it with a fake `docker` and a fake `node`, and check what it runs and when. What the
 * CLI then does is tested in libs/deploy (commands/lifecycle.spec.ts, backends/compose/), and the
 * whole path on a real container engine in the Compose suite.
 */
describe('scripts/deploy_compose.sh (fake docker and node)', () => {
  let server: FakeServer | undefined;
  const given = (options?: ConstructorParameters<typeof FakeServer>[0]) => (server = new FakeServer(options));
  afterEach(() => server?.cleanup());
  const CLI = `${WORKSPACE_ROOT}/libs/deploy/src/cli/main.ts`;

  it('is valid bash', () => {
    expect(run('bash', ['-n', SCRIPT])).toMatchObject({ status: 0, stderr: '' });
  });

  const shellcheck = findBinary('shellcheck');
  (shellcheck ? it : it.skip)('passes shellcheck, and so do the fakes it is tested with', () => {
    expect(run(shellcheck as string, [SCRIPT, ...['docker', 'curl', 'ssh', 'node'].map((fake) => join(FAKES, fake))])).toMatchObject({
      status: 0,
      stdout: '',
    });
  });

  it('says how to call it when the image is missing', () => {
    const result = given().deploy([]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/^usage: .*deploy_compose\.sh <image-ref>/);
    expect(server?.calls()).toEqual(['']);
  });

  it('given a checkout with node, pulls the image, then runs ONE deploy CLI command: release to the idle color and switch, in the deploy folder', () => {
    const fake = given({ live: 'blue' });
    const result = fake.deploy([IMAGE], { EXPECT_VERSION: 'v1.1.0', HEALTH_TIMEOUT: '90' });
    expect(result).toMatchObject({ status: 0, stderr: '' });
    expect(fake.calls().filter((call) => call.startsWith('docker pull'))).toHaveLength(1);
    expect(fake.cliCalls()).toEqual([
      `node -r ${WORKSPACE_ROOT}/node_modules/@swc-node/register ${CLI} release --backend=compose --image=${IMAGE} --switch --timeout=90 --expect-version=v1.1.0 | cwd=${fake.project}`,
    ]);
    expect(fake.calls().findIndex((call) => call.startsWith('docker pull'))).toBeLessThan(
      fake.calls().findIndex((call) => call.startsWith('node ')),
    );
    expect(fake.ups()).toEqual([]);
    expect(result.stdout).toContain(`Done: ${IMAGE} is live. Undo with: deploy rollback --backend=compose`);
  });

  it('exits 1 and says live traffic stayed where it was when the CLI refuses or reverts the switch', () => {
    const result = given({ live: 'blue' }).deploy([IMAGE], { FAKE_CLI_EXIT: '1' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      `DEPLOY FAILED: ${IMAGE} is not live (the CLI said why above; live traffic stayed on the color that served it).`,
    );
  });

  it('with DEPLOY_STRATEGY=canary, releases to the idle color without a switch, then runs a canary of that color with the steps and interval given', () => {
    const fake = given({ live: 'blue' });
    const result = fake.deploy([IMAGE], {
      DEPLOY_STRATEGY: 'canary',
      CANARY_STEPS: '25,100',
      CANARY_INTERVAL: '10',
      EXPECT_VERSION: 'v1.1.0',
    });
    expect(result).toMatchObject({ status: 0, stderr: '' });
    expect(fake.cliCalls()).toEqual([
      `node -r ${WORKSPACE_ROOT}/node_modules/@swc-node/register ${CLI} release --backend=compose --image=${IMAGE} --timeout=180 | cwd=${fake.project}`,
      `node -r ${WORKSPACE_ROOT}/node_modules/@swc-node/register ${CLI} canary --backend=compose --color=green --steps=25,100 --interval=10s --expect-version=v1.1.0 | cwd=${fake.project}`,
    ]);
    expect(result.stdout).toContain(`Done: ${IMAGE} is live after its canary.`);
  });

  it('with DEPLOY_STRATEGY=canary, exits 1 when the canary fails, saying the analysis moved live traffic back', () => {
    const result = given({ live: 'blue' }).deploy([IMAGE], { DEPLOY_STRATEGY: 'canary', FAKE_CANARY_EXIT: '1' });
    expect(result.status).toBe(1);
    expect(server?.cliCalls()).toHaveLength(2);
    expect(result.stderr).toContain(
      `DEPLOY FAILED: ${IMAGE} is not live: its canary on green did not pass (the CLI said why above: a failed analysis moved all live traffic back to the stable color).`,
    );
  });

  it.each([
    ['DEPLOY_STRATEGY', 'blue', 'DEPLOY_STRATEGY must be switch or canary'],
    ['CANARY_STEPS', '5;100', 'CANARY_STEPS must be weights in percent separated by commas'],
    ['CANARY_INTERVAL', '30s', 'CANARY_INTERVAL must be a number of seconds'],
  ])('refuses %s=%s before it pulls or changes anything', (name, value, message) => {
    const result = given({ live: 'blue' }).deploy([IMAGE], { DEPLOY_STRATEGY: 'canary', [name]: value });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(message);
    expect(server?.calls().filter((call) => call.startsWith('docker pull'))).toEqual([]);
    expect(server?.cliCalls()).toEqual([]);
  });

  it('changes nothing at all when the image can not be pulled', () => {
    const result = given({ live: 'blue' }).deploy([IMAGE], { FAKE_PULL_FAIL: '1' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`DEPLOY FAILED: could not pull ${IMAGE}`);
    expect(server?.cliCalls()).toEqual([]);
    expect(server?.ups()).toEqual([]);
  });

  it('starts the whole stack with the image on both colors on a server with none yet, then shows its status', () => {
    const fake = given({ running: false });
    const result = fake.deploy([IMAGE]);
    expect(result.status).toBe(0);
    expect(fake.ups()).toEqual([`up -d --no-build | BLUE_IMAGE=${IMAGE} GREEN_IMAGE=${IMAGE}`]);
    expect(fake.envFile()).toBe(`BLUE_IMAGE=${IMAGE}\nGREEN_IMAGE=${IMAGE}\n`);
    expect(fake.cliCalls()).toEqual([
      `node -r ${WORKSPACE_ROOT}/node_modules/@swc-node/register ${CLI} status --backend=compose | cwd=${fake.project}`,
    ]);
  });

  describe('on a server with Docker only (DEPLOY_CLI=container)', () => {
    let socketServer: Server;
    let socket: string;
    beforeEach(async () => {
      const fake = given({ live: 'green' });
      socket = join(fake.root, 'docker.sock');
      socketServer = createServer();
      await new Promise<void>((listening) => socketServer.listen(socket, listening));
    });
    afterEach(() => new Promise<void>((closed) => socketServer.close(() => closed())));

    const plugin = () => {
      const fake = server as FakeServer;
      const dir = join(fake.root, '.docker/cli-plugins');
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'docker-compose'), '#!/bin/sh\n');
      chmodSync(join(dir, 'docker-compose'), 0o755);
      return join(dir, 'docker-compose');
    };

    it("runs the CLI from the LIVE color's image (by id), never the candidate's, as this user with the socket's group, the docker CLI, its compose plugin and the deploy folder mounted", () => {
      const fake = server as FakeServer;
      const compose = plugin();
      // green is live, on the image it was deployed with before; the candidate is IMAGE.
      writeFileSync(join(fake.state, 'image-green'), 'ghcr.io/acme/ml-deployment/model-service:previous\n');
      const result = fake.deploy([IMAGE], { DEPLOY_CLI: 'container', DOCKER_HOST: `unix://${socket}` });
      expect(result).toMatchObject({ status: 0, stderr: '' });
      const user = `${process.getuid?.()}:${process.getgid?.()}`;
      const group = statSync(socket).gid;
      const who = run('id', ['-un']).stdout.trim();
      expect(fake.cliCalls()).toEqual([
        [
          `docker run --rm --network host --user ${user} --group-add ${group} -e HOME=/tmp -e BLUEGREEN_USER=${who}`,
          `-v ${socket}:/var/run/docker.sock -v ${join(fake.bin, 'docker')}:/usr/local/bin/docker:ro -v ${compose}:/usr/local/lib/docker/cli-plugins/docker-compose:ro`,
          `-v ${fake.project}:${fake.project} -w ${fake.project}`,
          '-e DOCKER_HOST=unix:///var/run/docker.sock -e BLUEGREEN_COMPOSE_COMMAND=docker compose',
          `id-of:ghcr.io/acme/ml-deployment/model-service:previous node /app/dist/node_modules/@mlbg/deploy/src/cli/main.js release --backend=compose --image=${IMAGE} --switch --timeout=180 | BLUE_IMAGE= GREEN_IMAGE=`,
        ].join(' '),
      ]);
      expect(fake.cliCalls().join('\n')).not.toContain(`${IMAGE} node`);
      expect(fake.cliCalls().join('\n')).not.toContain(' --user 0 ');
    });

    it('runs the CLI from a pinned deployer image when DEPLOY_CLI_IMAGE names one', () => {
      const fake = server as FakeServer;
      plugin();
      const deployer = 'ghcr.io/acme/ml-deployment/model-service@sha256:' + 'a'.repeat(64);
      const result = fake.deploy([IMAGE], { DEPLOY_CLI: 'container', DOCKER_HOST: `unix://${socket}`, DEPLOY_CLI_IMAGE: deployer });
      expect(result).toMatchObject({ status: 0, stderr: '' });
      expect(fake.cliCalls()[0]).toContain(` ${deployer} node /app/dist/node_modules/@mlbg/deploy/src/cli/main.js release`);
    });

    it("refuses to run a CLI when it can not tell the live color's image (and never falls back to the candidate)", () => {
      const fake = server as FakeServer;
      plugin();
      rmSync(join(fake.state, 'sockets', 'live'));
      const result = fake.deploy([IMAGE], { DEPLOY_CLI: 'container', DOCKER_HOST: `unix://${socket}` });
      expect(result.status).toBe(1);
      expect(result.stderr).toContain('DEPLOY_CLI_IMAGE');
      expect(fake.cliCalls()).toEqual([]);
    });

    it('says what it needs when the compose plugin is missing', () => {
      const result = (server as FakeServer).deploy([IMAGE], { DEPLOY_CLI: 'container', DOCKER_HOST: `unix://${socket}` });
      expect(result.status).toBe(1);
      expect(result.stderr).toContain("needs docker's compose plugin (docker compose)");
    });
  });

  it('runs the CLI the image carries: the path it calls is where the Dockerfile builds @mlbg/deploy', () => {
    const outputPath = readWorkspaceJson<{ targets: { build: { options: { outputPath: string } } } }>('libs/deploy/project.json').targets
      .build.options.outputPath;
    expect(readWorkspaceFile('scripts/deploy_compose.sh')).toContain(`readonly IMAGE_CLI=/app/${outputPath}/src/cli/main.js`);
    expect(readWorkspaceFile('Dockerfile')).toMatch(/npx nx run deploy:build\b/);
  });
});

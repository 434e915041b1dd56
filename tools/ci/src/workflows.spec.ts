import { once } from 'node:events';
import { type Server, createServer } from 'node:net';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  loadWorkflow,
  parseWorkflowText,
  stepsOf,
  stepsUsing,
  usesOf,
  workflowFiles,
  WORKFLOWS_DIR,
  type ParsedWorkflow,
} from './testing/workflows';
import { FakeServer, IMAGE } from './testing/fake-server';
import { run, WORKSPACE_ROOT } from './testing/workspace';

const WORKFLOWS_ROOT = join(WORKSPACE_ROOT, WORKFLOWS_DIR);

/** An action pinned to a full commit SHA (a tag can be moved to other code; a commit can not); or a local workflow. */
const PINNED_USES = /^(?:[\w.-]+\/[\w.-]+(?:\/[\w./-]+)?@[0-9a-f]{40}|\.\/[\w./-]+\.ya?ml)$/;
/** A `uses:` line of a workflow file pinned to a commit names the release it is in a comment (`# v5.1.0`). */
const USES_LINE = /^\s*(?:-\s+)?uses:\s*(\S+)(.*)$/;

/** Runs a workflow `run:` script as the runner does on Linux (`bash -e -o pipefail`), collecting $GITHUB_OUTPUT. */
function runStep(script: string, env: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), 'ci-step-'));
  try {
    const output = join(dir, 'output');
    writeFileSync(output, '');
    const result = run('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', script], {
      env: { PATH: process.env['PATH'], HOME: dir, GITHUB_OUTPUT: output, ...env },
    });
    const outputs = Object.fromEntries(
      readFileSync(output, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
    return { ...result, outputs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function runOf(workflow: ParsedWorkflow, jobId: string, stepName: RegExp): string {
  const step = stepsOf(workflow, jobId).find((candidate) => candidate.run !== undefined && stepName.test(candidate.name ?? ''));
  if (!step?.run) throw new Error(`${workflow.file} job ${jobId} has no run step named like ${stepName}`);
  return step.run;
}

describe('every workflow', () => {
  it('exists: CI, CD and the Kubernetes (kind) job', () => {
    expect(workflowFiles()).toEqual(['cd.yml', 'ci.yml', 'kubernetes.yml']);
  });

  it.each(workflowFiles())('%s is valid for GitHub Actions (its own parser reports no errors)', async (file) => {
    const workflow = await loadWorkflow(file);
    expect(workflow.errors).toEqual([]);
    expect(workflow.jobs.length).toBeGreaterThan(0);
  });

  it('is checked by a parser that does report mistakes', async () => {
    const lines = (...text: string[]) => text.join('\n');
    const schema = await parseWorkflowText(
      'broken.yml',
      lines(
        'on: push',
        'permissions:',
        '  packages: writ',
        'jobs:',
        '  build:',
        '    runs-on: ubuntu-latest',
        '    steps:',
        '      - uses: actions/checkout@v5',
        '        run: echo both',
      ),
    );
    expect(schema.errors).toEqual([expect.stringContaining("Unexpected value 'writ'"), expect.stringContaining("Unexpected value 'run'")]);
    const graph = await parseWorkflowText(
      'broken.yml',
      lines(
        'on: push',
        'jobs:',
        '  build:',
        '    runs-on: ubuntu-latest',
        '    steps: [{ run: echo }]',
        '  deploy:',
        '    needs: biuld',
        '    runs-on: ubuntu-latest',
        '    steps: [{ run: echo }]',
      ),
    );
    expect(graph.errors).toEqual([expect.stringContaining("depends on unknown job 'biuld'")]);
  });

  it.each(workflowFiles())('%s pins every action to a commit SHA, with the release it is in a comment', async (file) => {
    const uses = usesOf(await loadWorkflow(file));
    expect(uses.length).toBeGreaterThan(0);
    for (const ref of uses) {
      expect({ ref, pinned: PINNED_USES.test(ref) }).toEqual({ ref, pinned: true });
      expect(ref).not.toMatch(/@(main|master|latest|HEAD)$/);
    }
    const lines = readFileSync(join(WORKFLOWS_ROOT, file), 'utf8')
      .split('\n')
      .map((line) => USES_LINE.exec(line))
      .filter((match): match is RegExpExecArray => match !== null && !match[1].startsWith('./'));
    expect(lines.length).toBeGreaterThan(0);
    for (const [, ref, rest] of lines)
      expect({ ref, comment: rest.trim() }).toEqual({ ref, comment: expect.stringMatching(/^# v\d+\.\d+\.\d+$/) });
  });

  it.each(workflowFiles())('%s never expands ${{ }} inside a run script (values go through env:)', async (file) => {
    const workflow = await loadWorkflow(file);
    for (const job of workflow.jobs) {
      for (const step of job.steps ?? [])
        expect({ job: job.id, step: step.name, run: step.run ?? '' }).not.toMatchObject({ run: expect.stringContaining('${{') });
    }
  });
});

describe('ci.yml', () => {
  let ci: ParsedWorkflow;
  beforeAll(async () => {
    ci = await loadWorkflow('ci.yml');
  });

  it('runs on pushes to main and develop, on pull requests, and when CD calls it', () => {
    expect(ci.events.push?.branches).toEqual(['main', 'develop']);
    expect(Object.keys(ci.events)).toEqual(expect.arrayContaining(['push', 'pull_request', 'workflow_call']));
  });

  it('may only read: contents (and the past runs nx-set-shas looks up)', () => {
    expect(ci.raw.permissions).toEqual({ contents: 'read', actions: 'read' });
    for (const job of Object.values(ci.raw.jobs)) expect(job.permissions).toBeUndefined();
  });

  it('cancels a superseded run of the same pull request, never a push to a branch', () => {
    expect(ci.raw.concurrency?.group).toContain('github.event.pull_request.number');
    expect(ci.raw.concurrency?.['cancel-in-progress']).toBe("${{ github.event_name == 'pull_request' }}");
  });

  it('installs without the daemon, Nx Cloud or the onnxruntime download', () => {
    expect(ci.raw.env).toMatchObject({ NX_DAEMON: 'false', NX_NO_CLOUD: 'true', ONNXRUNTIME_NODE_INSTALL: 'skip' });
  });

  it('lints, tests and builds only the affected projects, from the shas nx-set-shas found', () => {
    const job = ci.raw.jobs['affected'];
    const checkout = job.steps?.find((step) => step.uses?.startsWith('actions/checkout@'));
    expect(checkout?.with).toEqual({ 'fetch-depth': 0 });
    const setupNode = job.steps?.find((step) => step.uses?.startsWith('actions/setup-node@'));
    expect(setupNode?.with).toEqual({ 'node-version-file': '.nvmrc', cache: 'npm' });

    const steps = stepsOf(ci, 'affected');
    const install = steps.findIndex((step) => step.run === 'npm ci');
    const shas = steps.findIndex((step) => step.uses?.startsWith('nrwl/nx-set-shas@'));
    const affected = steps.findIndex((step) => /npx nx affected -t lint typecheck test build\b/.test(step.run ?? ''));
    const integration = steps.findIndex((step) => /npx nx affected -t integration\b/.test(step.run ?? ''));
    expect(install).toBeGreaterThan(-1);
    expect(shas).toBeGreaterThan(install);
    expect(affected).toBeGreaterThan(shas);
    expect(steps[affected].run).toContain('--base="$NX_BASE" --head="$NX_HEAD"');
    // The unit tier first, the integration tier after it, over the same affected projects.
    expect(integration).toBeGreaterThan(affected);
    expect(steps[integration].run).toContain('--base="$NX_BASE" --head="$NX_HEAD"');
  });

  it('runs the Playwright suite with nginx and chromium from apt, and keeps the report', () => {
    const job = ci.raw.jobs['e2e'];
    // Debian, whose chromium is a real package at /usr/bin/chromium (Ubuntu's is a snap).
    expect(job.container).toEqual({ image: `node:${readFileSync(join(WORKSPACE_ROOT, '.nvmrc'), 'utf8').trim().split('.')[0]}-bookworm` });
    const steps = stepsOf(ci, 'e2e');
    const install = steps.findIndex((step) => /apt-get install -y\b.*\bnginx chromium\b/.test(step.run ?? ''));
    const build = steps.findIndex((step) => /npx nx run model-service:build\b/.test(step.run ?? ''));
    const e2e = steps.findIndex((step) => /npx nx run e2e:e2e\b/.test(step.run ?? ''));
    const upload = steps.findIndex((step) => step.uses?.startsWith('actions/upload-artifact@'));
    expect([install, build, e2e, upload].every((index) => index > -1)).toBe(true);
    expect(install).toBeLessThan(e2e);
    expect(build).toBeLessThan(e2e);
    expect(upload).toBeGreaterThan(e2e);
    // Uploaded after a failure too: that is when the report is needed.
    expect(steps[upload].if?.expr).toMatch(/^(always\(\)|!cancelled\(\)|failure\(\))$/);
    const uploadWith = job.steps?.[upload].with ?? {};
    expect(uploadWith['name']).toBe('playwright-report');
    expect(String(uploadWith['path'])).toMatch(/playwright-report/);
    expect(String(uploadWith['path'])).toMatch(/test-output|test-results/);
  });
});

describe('ci.yml compose job', () => {
  it("runs the Compose suite on the runner's own Docker engine, after npm ci, keeping the engine logs of a failure", async () => {
    const ci = await loadWorkflow('ci.yml');
    const job = ci.raw.jobs['compose'];
    // On the host, not in a container: the suite needs the runner's Docker engine and its ports.
    expect(job['runs-on']).toBe('ubuntu-latest');
    expect(job.container).toBeUndefined();
    const steps = stepsOf(ci, 'compose');
    const install = steps.findIndex((step) => step.run === 'npm ci');
    const suite = steps.findIndex((step) => step.run === 'npx nx run compose-e2e:e2e --output-style=stream');
    const upload = steps.findIndex((step) => step.uses?.startsWith('actions/upload-artifact@'));
    expect(install).toBeGreaterThan(-1);
    expect(suite).toBeGreaterThan(install);
    expect(upload).toBeGreaterThan(suite);
    expect(steps[upload].if?.expr).toBe('failure()');
    // The target exists and is the suite, not the inferred unit tests `nx affected -t test` runs.
    const project = JSON.parse(readFileSync(join(__dirname, '../../compose-e2e/project.json'), 'utf8'));
    expect(project.targets.e2e.options.command).toContain('jest --config tools/compose-e2e/jest.e2e.config.ts');
    expect(existsSync(join(__dirname, '../../compose-e2e/jest.config.ts'))).toBe(false);
  });
});

describe('cd.yml', () => {
  let cd: ParsedWorkflow;
  beforeAll(async () => {
    cd = await loadWorkflow('cd.yml');
  });

  it('runs on pushes to main (and by hand), never for pull requests', () => {
    expect(cd.events.push?.branches).toEqual(['main']);
    expect(Object.keys(cd.events).sort()).toEqual(['push', 'workflow_dispatch']);
  });

  it('ships only what passed CI: image needs the reusable ci.yml, deploy needs the image', () => {
    const ciJob = cd.jobs.find((job) => job.id === 'ci');
    expect(ciJob).toMatchObject({ type: 'reusableWorkflowJob', ref: './.github/workflows/ci.yml' });
    expect(cd.jobs.find((job) => job.id === 'image')?.needs).toEqual(['ci']);
    expect(cd.jobs.find((job) => job.id === 'deploy')?.needs).toEqual(['image']);
    // The called workflow gets no more than it asks for itself.
    expect(cd.raw.jobs['ci'].permissions).toEqual({ contents: 'read', actions: 'read' });
  });

  it('grants write access to packages only to the job that pushes the image', () => {
    expect(cd.raw.permissions).toEqual({});
    expect(cd.raw.jobs['image'].permissions).toEqual({ contents: 'read', packages: 'write' });
    for (const [id, job] of Object.entries(cd.raw.jobs).filter(([id]) => id !== 'image')) {
      expect({ id, write: Object.values(job.permissions ?? {}).includes('write') }).toEqual({ id, write: false });
    }
  });

  it('builds with buildx and pushes to ghcr.io, logged in with the automatic GITHUB_TOKEN', () => {
    expect(stepsUsing(cd, 'image', 'docker/setup-buildx-action')).toHaveLength(1);
    const logins = cd.raw.jobs['image'].steps?.filter((step) => step.uses?.startsWith('docker/login-action@')) ?? [];
    expect(logins.map((step) => step.with)).toContainEqual({
      registry: 'ghcr.io',
      username: '${{ github.actor }}',
      password: '${{ secrets.GITHUB_TOKEN }}',
    });
    const build = cd.raw.jobs['image'].steps?.find((step) => step.uses?.startsWith('docker/build-push-action@'));
    expect(build?.with).toMatchObject({ context: '.', push: true, tags: '${{ steps.meta.outputs.tags }}' });
  });

  it('tags the image with the commit SHA, the shipped model versions and latest (on main)', () => {
    const meta = cd.raw.jobs['image'].steps?.find((step) => step.uses?.startsWith('docker/metadata-action@'));
    const tags = String(meta?.with?.['tags']).trim().split('\n');
    expect(tags).toEqual([
      'type=raw,value=${{ github.sha }}',
      'type=raw,value=${{ steps.names.outputs.models_tag }}',
      'type=raw,value=latest,enable={{is_default_branch}}',
    ]);
    const images = String(meta?.with?.['images']).trim().split('\n');
    expect(images[0]).toBe('${{ steps.names.outputs.ghcr }}');
    expect(images[1]).toBe("name=${{ steps.names.outputs.dockerhub }},enable=${{ steps.names.outputs.dockerhub != '' }}");
    // The deploy job gets the image by digest: exactly what was built and pushed, whatever a tag points at later.
    expect(cd.raw.jobs['image'].outputs?.['ref']).toBe('${{ steps.names.outputs.ghcr }}@${{ steps.build.outputs.digest }}');
  });

  describe('its "Work out image names and tags" step, run with bash', () => {
    let script: string;
    beforeAll(() => {
      script = runOf(cd, 'image', /image names/i);
    });

    it('lowercases the repository for ghcr.io and reads the versions from models/*/model.json', () => {
      const result = runStep(script, { GITHUB_REPOSITORY: 'Acme-Labs/ML-Deployment', DOCKERHUB_TOKEN: '', DOCKERHUB_USERNAME: '' });
      expect(result.status).toBe(0);
      expect(result.outputs).toEqual({
        ghcr: 'ghcr.io/acme-labs/ml-deployment/model-service',
        models_tag: 'models-v1.0.0-v1.1.0',
      });
      expect(result.stdout).toContain('::notice title=Docker Hub skipped::');
    });

    it('adds Docker Hub only when DOCKERHUB_TOKEN (and a username) are set', () => {
      const both = runStep(script, { GITHUB_REPOSITORY: 'acme/ml', DOCKERHUB_TOKEN: 'dckr_pat_x', DOCKERHUB_USERNAME: 'AcmeBot' });
      expect(both.outputs['dockerhub']).toBe('docker.io/acmebot/ml-model-service');
      const tokenOnly = runStep(script, { GITHUB_REPOSITORY: 'acme/ml', DOCKERHUB_TOKEN: 'dckr_pat_x', DOCKERHUB_USERNAME: '' });
      expect(tokenOnly.outputs['dockerhub']).toBeUndefined();
      expect(tokenOnly.stdout).toContain('::warning title=Docker Hub skipped::');
    });

    it('logs in to Docker Hub only in that case', () => {
      const dockerHubLogin = stepsUsing(cd, 'image', 'docker/login-action').filter((step) => /docker hub/i.test(step.name ?? ''));
      expect(dockerHubLogin).toHaveLength(1);
      // GitHub adds the implicit success() to a condition without a status function.
      expect(dockerHubLogin[0].if?.expr).toBe("success() && (steps.names.outputs.dockerhub != '')");
      const step = cd.raw.jobs['image'].steps?.find((candidate) => candidate.name === dockerHubLogin[0].name);
      expect(step?.with?.['password']).toBe('${{ secrets.DOCKERHUB_TOKEN }}');
    });
  });

  describe('the deploy job', () => {
    it('waits for the production environment (approvals) and never runs two deploys at once', () => {
      const deploy = cd.raw.jobs['deploy'];
      expect(deploy.environment).toBe('production');
      expect(deploy.concurrency).toEqual({ group: 'deploy-production', 'cancel-in-progress': false });
    });

    it('runs scripts/deploy_compose.sh over SSH with the SHA-tagged image', () => {
      expect(cd.raw.jobs['deploy'].env?.['IMAGE']).toBe('${{ needs.image.outputs.ref }}');
      const deploy = runOf(cd, 'deploy', /deploy to the idle color/i);
      expect(deploy).toMatch(
        /^ssh deploy-target "cd .* && DEPLOY_STRATEGY=\$\(printf '%q' "\$DEPLOY_STRATEGY"\) CANARY_STEPS=\$\(printf '%q' "\$CANARY_STEPS"\) CANARY_INTERVAL=\$\(printf '%q' "\$CANARY_INTERVAL"\) bash scripts\/deploy_compose\.sh \$\(printf '%q' "\$IMAGE"\)"$/,
      );
      const copy = runOf(cd, 'deploy', /copy the compose files/i);
      for (const file of [
        'docker-compose.yml',
        'docker-compose.blue.yml',
        'docker-compose.green.yml',
        'deploy/nginx/nginx.conf',
        'deploy/deployment.json',
        'deploy/canary-samples.json',
        'scripts/deploy_compose.sh',
      ]) {
        expect(copy).toContain(file);
      }
    });

    it('sets up SSH with the key, a pinned host key and strict checking', () => {
      const home = mkdtempSync(join(tmpdir(), 'ci-ssh-'));
      try {
        const result = runStep(runOf(cd, 'deploy', /set up ssh/i), {
          HOME: home,
          DEPLOY_HOST: 'deploy.example.com',
          DEPLOY_USER: 'deployer',
          DEPLOY_SSH_KEY: '-----BEGIN OPENSSH PRIVATE KEY-----\nx\n-----END OPENSSH PRIVATE KEY-----',
          DEPLOY_PORT: '2222',
          DEPLOY_KNOWN_HOSTS: 'deploy.example.com ssh-ed25519 AAAA',
        });
        expect(result).toMatchObject({ status: 0, stderr: '' });
        expect(
          readFileSync(join(home, '.ssh/config'), 'utf8')
            .split('\n')
            .map((line) => line.trim()),
        ).toEqual(
          expect.arrayContaining([
            'Host deploy-target',
            'HostName deploy.example.com',
            'User deployer',
            'Port 2222',
            'StrictHostKeyChecking yes',
            'BatchMode yes',
          ]),
        );
        expect(readFileSync(join(home, '.ssh/known_hosts'), 'utf8')).toBe('deploy.example.com ssh-ed25519 AAAA\n');
        expect(statSync(join(home, '.ssh/deploy_key')).mode & 0o777).toBe(0o600);
      } finally {
        rmSync(home, { recursive: true, force: true });
      }
    });

    it('refuses to deploy without DEPLOY_KNOWN_HOSTS (never trusts whatever key answers), saying what to set', () => {
      const home = mkdtempSync(join(tmpdir(), 'ci-ssh-'));
      try {
        const result = runStep(runOf(cd, 'deploy', /set up ssh/i), {
          HOME: home,
          DEPLOY_HOST: 'deploy.example.com',
          DEPLOY_USER: 'deployer',
          DEPLOY_SSH_KEY: 'key',
          DEPLOY_PORT: '22',
          DEPLOY_KNOWN_HOSTS: '',
        });
        expect(result.status).not.toBe(0);
        expect(result.stdout).toContain('::error title=Host key not pinned::');
        expect(result.stdout).toContain('DEPLOY_KNOWN_HOSTS');
        expect(existsSync(join(home, '.ssh/known_hosts'))).toBe(false);
      } finally {
        rmSync(home, { recursive: true, force: true });
      }
    });

    it('copies the files to DEPLOY_PATH on the server and deploys there (ssh, docker and the CLI faked)', async () => {
      const server = new FakeServer({ live: 'blue' });
      let socket: Server | undefined;
      try {
        const home = join(server.root, 'home');
        mkdirSync(home);
        // The server has Docker (with the compose plugin) and no checkout: the CLI runs from the image.
        mkdirSync(join(home, '.docker/cli-plugins'), { recursive: true });
        writeFileSync(join(home, '.docker/cli-plugins/docker-compose'), '#!/bin/sh\n', { mode: 0o755 });
        const socketPath = join(server.root, 'docker.sock');
        socket = createServer().listen(socketPath);
        await once(socket, 'listening');
        const env = { ...server.env(), HOME: home, DEPLOY_PATH: 'ml deployment', IMAGE, DOCKER_HOST: `unix://${socketPath}` };
        const copy = runStep(runOf(cd, 'deploy', /copy the compose files/i), env);
        expect(copy).toMatchObject({ status: 0, stderr: '' });
        for (const file of [
          'docker-compose.yml',
          'docker-compose.blue.yml',
          'docker-compose.green.yml',
          'deploy/nginx/nginx.conf',
          'deploy/deployment.json',
          'deploy/canary-samples.json',
          'scripts/deploy_compose.sh',
        ]) {
          expect(existsSync(join(home, 'ml deployment', file))).toBe(true);
        }
        const deploy = runStep(runOf(cd, 'deploy', /deploy to the idle color/i), env);
        expect(deploy.stderr).toBe('');
        expect(deploy.status).toBe(0);
        expect(deploy.stdout).toContain(`Done: ${IMAGE} is live.`);
        // The script ran the deploy CLI (faked here) on the copied folder, from the LIVE color's image
        // (blue's, by id), never from the new one: release and switch.
        const [cli] = server.cliCalls();
        expect(cli).toContain(`-v ${join(home, 'ml deployment')}:${join(home, 'ml deployment')} -w ${join(home, 'ml deployment')}`);
        expect(cli).toContain(
          ` id-of:ml-model-service:blue node /app/dist/node_modules/@mlbg/deploy/src/cli/main.js release --backend=compose --image=${IMAGE} --switch`,
        );
      } finally {
        socket?.close();
        server.cleanup();
      }
    });

    it('skips with a notice when DEPLOY_HOST, DEPLOY_USER or DEPLOY_SSH_KEY is missing', () => {
      const check = runOf(cd, 'deploy', /server is configured/i);
      const configured = runStep(check, { DEPLOY_HOST: 'h', DEPLOY_USER: 'u', DEPLOY_SSH_KEY: 'k', IMAGE: 'img' });
      expect(configured.outputs).toEqual({ configured: 'true' });
      for (const missing of ['DEPLOY_HOST', 'DEPLOY_USER', 'DEPLOY_SSH_KEY']) {
        const result = runStep(check, { DEPLOY_HOST: 'h', DEPLOY_USER: 'u', DEPLOY_SSH_KEY: 'k', IMAGE: 'img', [missing]: '' });
        expect(result.status).toBe(0);
        expect(result.outputs).toEqual({ configured: 'false' });
        expect(result.stdout).toContain('::notice title=Deploy skipped::');
      }
      for (const step of stepsOf(cd, 'deploy').slice(1)) expect(step.if?.expr).toContain("steps.target.outputs.configured == 'true'");
    });
  });
});

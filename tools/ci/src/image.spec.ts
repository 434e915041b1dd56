import { SERVICE_ENV_DEFAULTS } from '@mlbg/contract';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { dockerignoreMatcher } from './testing/dockerignore';
import { envOf, execForm, parseDockerfile, type Instruction, type Stage } from './testing/dockerfile';
import { runtimePackages } from './testing/runtime-imports';
import { findBinary, readWorkspaceFile, readWorkspaceJson, run, WORKSPACE_ROOT } from './testing/workspace';

const dockerfile = parseDockerfile(readWorkspaceFile('Dockerfile'));
const isIgnored = dockerignoreMatcher(readWorkspaceFile('.dockerignore'));
const runtime = dockerfile.stages[dockerfile.stages.length - 1];
const stageNamed = (name: string): Stage => {
  const stage = dockerfile.stages.find((candidate) => candidate.name === name);
  if (!stage) throw new Error(`the Dockerfile has no stage "${name}"`);
  return stage;
};
const only = (stage: Stage, keyword: string): Instruction[] => stage.instructions.filter((i) => i.keyword === keyword);
const runs = (stage: Stage) => only(stage, 'RUN').map((i) => i.args);
const indexOf = (stage: Stage, predicate: (i: Instruction) => boolean) => stage.instructions.findIndex(predicate);

interface ProjectJson {
  targets: { build: { options: { outputPath: string; main: string } } };
}
const serviceBuild = readWorkspaceJson<ProjectJson>('apps/model-service/project.json').targets.build.options;
const contractBuild = readWorkspaceJson<ProjectJson>('libs/contract/project.json').targets.build.options;
const deployment = readWorkspaceJson<{ colors: { blue: { port: number } } }>('deploy/deployment.json');
const rootPackage = readWorkspaceJson<{ dependencies: Record<string, string>; devDependencies: Record<string, string> }>('package.json');

/** `COPY [--from=x] src... dest` with the destination resolved against the stage's WORKDIR. */
function copies(stage: Stage) {
  let workdir = '/';
  const result: { from?: string; sources: string[]; destination: string }[] = [];
  for (const instruction of stage.instructions) {
    if (instruction.keyword === 'WORKDIR') workdir = posix.resolve(workdir, instruction.args);
    if (instruction.keyword !== 'COPY') continue;
    const words = instruction.args.split(/\s+/);
    const from = words.find((word) => word.startsWith('--from='))?.slice('--from='.length);
    const paths = words.filter((word) => !word.startsWith('--'));
    result.push({ from, sources: paths.slice(0, -1), destination: posix.resolve(workdir, paths[paths.length - 1]) });
  }
  return result;
}
const workdirOf = (stage: Stage) =>
  only(stage, 'WORKDIR')
    .map((i) => i.args)
    .pop();

describe('Dockerfile', () => {
  it('builds in stages, each from the Node the project pins (.nvmrc), on Debian bookworm', () => {
    const node = readWorkspaceFile('.nvmrc').trim();
    expect(dockerfile.stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of dockerfile.stages)
      expect({ stage: stage.name, image: stage.image }).toEqual({ stage: stage.name, image: `node:${node}-bookworm-slim` });
    expect(dockerfile.stages.map((stage) => stage.name)).toEqual(expect.arrayContaining(['build', 'runtime']));
    expect(runtime.name).toBe('runtime');
  });

  it('installs with the onnxruntime download skipped (env, and allowScripts in package.json) and builds the service with Nx', () => {
    const build = stageNamed('build');
    expect(Object.fromEntries(envOf(build.instructions))).toMatchObject({
      ONNXRUNTIME_NODE_INSTALL: 'skip',
      NX_DAEMON: 'false',
      NX_NO_CLOUD: 'true',
    });
    expect(
      (JSON.parse(readWorkspaceFile('package.json')) as { allowScripts: Record<string, boolean> }).allowScripts['onnxruntime-node'],
    ).toBe(false);
    const copyNpmrc = indexOf(build, (i) => i.keyword === 'COPY' && i.args.split(/\s+/).includes('.npmrc'));
    const install = indexOf(build, (i) => i.keyword === 'RUN' && /^npm ci\b/.test(i.args));
    const nxBuild = indexOf(build, (i) => i.keyword === 'RUN' && /\bnpx nx run model-service:build\b/.test(i.args));
    expect(copyNpmrc).toBeGreaterThan(-1);
    expect(install).toBeGreaterThan(copyNpmrc);
    expect(nxBuild).toBeGreaterThan(install);
  });

  it('runs no install script of any dependency while it installs (npm ci --ignore-scripts)', () => {
    const installs = dockerfile.stages.flatMap((stage) => runs(stage).filter((command) => /\bnpm (ci|install)\b/.test(command)));
    expect(installs.length).toBeGreaterThanOrEqual(2);
    for (const command of installs) expect(command).toMatch(/\bnpm ci\b[^&]*--ignore-scripts\b/);
  });

  it('gives the runtime production dependencies only, proving onnxruntime still loads', () => {
    const dependencyCopy = copies(runtime).find((copy) => copy.destination === '/app/node_modules');
    expect(dependencyCopy?.from).toBeDefined();
    const deps = stageNamed(dependencyCopy?.from as string);
    expect(Object.fromEntries(envOf(deps.instructions))).toMatchObject({ ONNXRUNTIME_NODE_INSTALL: 'skip' });
    const install = runs(deps).find((command) => /\bnpm ci\b/.test(command)) ?? '';
    expect(install).toMatch(/^npm ci --omit=dev\b/);
    expect(install).toContain(`node -e "require('onnxruntime-node')"`);
    expect(runs(runtime).some((command) => /\bnpm (ci|install)\b/.test(command))).toBe(false);
  });

  it("keeps only onnxruntime's binary for the image's own platform", () => {
    const install = runs(stageNamed('prod-deps')).find((command) => /\bnpm ci\b/.test(command)) ?? '';
    const finds = install.match(/find "\$ort" [^&]*?(?=\s*&&|$)/g) ?? [];
    expect(finds).toHaveLength(2);
    // The layout the package ships (bin/napi-v*/<platform>/<arch>) and loads from at run time.
    const ortRoot = join(WORKSPACE_ROOT, 'node_modules/onnxruntime-node');
    for (const arch of ['x64', 'arm64']) {
      expect(existsSync(join(ortRoot, `bin/napi-v6/linux/${arch}/onnxruntime_binding.node`))).toBe(true);
    }
    expect(readWorkspaceFile('node_modules/onnxruntime-node/dist/binding.js')).toContain(
      '../bin/napi-v6/${process.platform}/${process.arch}/onnxruntime_binding.node',
    );

    const tree = mkdtempSync(join(tmpdir(), 'ort-prune-'));
    try {
      const bin = join(tree, 'bin');
      for (const platform of readdirSync(join(ortRoot, 'bin/napi-v6'))) {
        for (const arch of readdirSync(join(ortRoot, 'bin/napi-v6', platform))) {
          mkdirSync(join(bin, 'napi-v6', platform, arch), { recursive: true });
          writeFileSync(join(bin, 'napi-v6', platform, arch, 'onnxruntime_binding.node'), '');
        }
      }
      for (const arch of ['x64', 'arm64']) {
        const copy = join(tree, arch);
        run('cp', ['-r', bin, copy]);
        const result = run('bash', ['-ec', `ort=${copy}; arch=${arch}; ${finds.join(' && ')}`]);
        expect(result).toMatchObject({ status: 0, stderr: '' });
        expect(run('find', [copy, '-name', '*.node']).stdout.trim()).toBe(join(copy, `napi-v6/linux/${arch}/onnxruntime_binding.node`));
      }
    } finally {
      rmSync(tree, { recursive: true, force: true });
    }
  });

  it('lays out /app so node finds @mlbg/* in dist/node_modules from the built service', () => {
    expect(workdirOf(runtime)).toBe('/app');
    const fromBuild = copies(runtime).filter((copy) => copy.from === 'build');
    const appRoot = (path: string) => path.replace(/^\/app\//, '');
    // Each built folder lands at the same path relative to /app as in the workspace.
    expect(fromBuild.map((copy) => ({ source: appRoot(copy.sources[0]), destination: appRoot(copy.destination) }))).toEqual([
      { source: serviceBuild.outputPath, destination: serviceBuild.outputPath },
      { source: 'dist/node_modules/@mlbg', destination: 'dist/node_modules/@mlbg' },
    ]);
    expect(contractBuild.outputPath).toBe('dist/node_modules/@mlbg/contract');
    const cmd = execForm(only(runtime, 'CMD')[0]?.args ?? '');
    const main = serviceBuild.main.replace(/^apps\/model-service\//, `${serviceBuild.outputPath}/`).replace(/\.ts$/, '.js');
    expect(cmd).toEqual(['node', main]);
    expect(cmd).toEqual(['node', 'dist/apps/model-service/src/main.js']);
  });

  it('ships the models, with the default MODEL_PATH the service itself uses', () => {
    expect(copies(runtime)).toContainEqual({ from: undefined, sources: ['models'], destination: '/app/models' });
    const env = Object.fromEntries(envOf(runtime.instructions));
    const defaultModel = SERVICE_ENV_DEFAULTS.MODEL_PATH;
    expect(env['MODEL_PATH']).toBe(`/app/${defaultModel}`);
    expect(existsSync(join(WORKSPACE_ROOT, defaultModel))).toBe(true);
  });

  it('runs as the non-root node user, who owns the socket folder', () => {
    const users = only(runtime, 'USER');
    expect(users.map((i) => i.args)).toEqual(['node']);
    const chown = indexOf(runtime, (i) => i.keyword === 'RUN' && /mkdir -p \/run\/mlbg && chown node(:node)? \/run\/mlbg/.test(i.args));
    expect(chown).toBeGreaterThan(-1);
    expect(indexOf(runtime, (i) => i.keyword === 'USER')).toBeGreaterThan(chown);
  });

  it('ships a compile cache of the service made at build time by the user that runs it, and points Node at it', () => {
    const cacheDir = Object.fromEntries(envOf(runtime.instructions))['NODE_COMPILE_CACHE'];
    expect(cacheDir).toMatch(/^\/app\//);
    const user = indexOf(runtime, (i) => i.keyword === 'USER');
    const owned = indexOf(runtime, (i) => i.keyword === 'RUN' && i.args.includes(`chown node:node ${cacheDir}`));
    const warm = indexOf(
      runtime,
      (i) => i.keyword === 'RUN' && /^node -e .*require\('\.\/dist\/apps\/model-service\/src\/app\/create-app'\)/.test(i.args),
    );
    expect(owned).toBeGreaterThan(-1);
    expect(owned).toBeLessThan(user);
    // After USER: Node keeps one cache folder per user id, and only the runtime user's is read.
    expect(warm).toBeGreaterThan(user);
    expect(existsSync(join(WORKSPACE_ROOT, 'apps/model-service/src/app/create-app.ts'))).toBe(true);
  });

  it("serves production on port 8081 (blue's) and exposes it", () => {
    expect(Object.fromEntries(envOf(runtime.instructions))).toMatchObject({ NODE_ENV: 'production', PORT: '8081' });
    expect(only(runtime, 'EXPOSE').map((i) => i.args)).toEqual([String(deployment.colors.blue.port)]);
  });

  it('stops with SIGTERM, which the service drains on', () => {
    expect(only(runtime, 'STOPSIGNAL').map((i) => i.args)).toEqual(['SIGTERM']);
    expect(readWorkspaceFile('apps/model-service/src/main.ts')).toContain("process.once('SIGTERM'");
  });

  describe('HEALTHCHECK', () => {
    const healthcheck = only(runtime, 'HEALTHCHECK')[0];
    const command = execForm(healthcheck?.args ?? '') ?? [];
    let server: Server;
    let status = 200;
    const seen: string[] = [];
    // Asynchronous, so this process's own server can answer while the check runs.
    const check = (port: number) =>
      new Promise<number | null>((resolve, reject) => {
        const child = spawn(command[0], command.slice(1), {
          env: { ...process.env, PORT: String(port) },
          stdio: 'ignore',
          timeout: 10_000,
        });
        child.once('error', reject);
        child.once('exit', (code) => resolve(code));
      });

    beforeAll(async () => {
      server = createServer((request, response) => {
        seen.push(request.url ?? '');
        response.writeHead(status).end();
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('asks /health with node itself (the slim image has no curl), on whatever PORT is set', () => {
      expect(healthcheck?.args).toMatch(/^--interval=\S+ --timeout=\S+ --start-period=\S+ --retries=\d+ CMD \[/);
      expect(command.slice(0, 2)).toEqual(['node', '-e']);
      expect(command[2]).toContain('/health');
      expect(command[2]).toContain('process.env.PORT');
    });

    it('passes on 200 and fails on 503 or when nothing listens', async () => {
      const { port } = server.address() as AddressInfo;
      status = 200;
      expect(await check(port)).toBe(0);
      status = 503;
      expect(await check(port)).toBe(1);
      expect(seen).toEqual(['/health', '/health']);
      const closed = createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const { port: freed } = closed.address() as AddressInfo;
      await new Promise<void>((resolve) => closed.close(() => resolve()));
      expect(await check(freed)).toBe(1);
    });
  });

  const hadolint = findBinary('hadolint');
  (hadolint ? it : it.skip)('passes hadolint', () => {
    expect(run(hadolint as string, ['Dockerfile'])).toMatchObject({ status: 0 });
  });
});

describe('.dockerignore', () => {
  it.each([
    'node_modules/nx/package.json',
    'libs/contract/node_modules/x/index.js',
    'dist/apps/model-service/src/main.js',
    '.nx/workspace-data/file-map.json',
    '.bluegreen/blue.sock',
    'coverage/lcov.info',
    '.git/HEAD',
    'playwright-report/index.html',
    'test-results/x.png',
    'apps/e2e/test-output/trace.zip',
    'tmp/x',
    '.env',
    'models/fixtures/three-features/model.onnx',
  ])('keeps %s out of the build context', (path) => {
    expect(isIgnored(path)).toBe(true);
  });

  it.each([
    'package.json',
    'package-lock.json',
    '.npmrc',
    'nx.json',
    'tsconfig.base.json',
    'jest.preset.js',
    'apps/model-service/src/main.ts',
    'apps/model-service/project.json',
    'libs/contract/src/index.ts',
    'libs/contract/package.json',
    'models/v1.0.0/model.onnx',
    'models/v1.1.0/model.onnx',
  ])('sends %s, which the build needs', (path) => {
    expect(isIgnored(path)).toBe(false);
  });

  it('sends every path the Dockerfile copies from the context', () => {
    const fromContext = dockerfile.stages.flatMap((stage) => copies(stage).filter((copy) => !copy.from)).flatMap((copy) => copy.sources);
    expect(fromContext.length).toBeGreaterThan(0);
    for (const source of fromContext.filter((path) => path !== '.')) {
      expect({ source, ignored: isIgnored(source) }).toEqual({ source, ignored: false });
      expect({ source, exists: existsSync(join(WORKSPACE_ROOT, source)) }).toEqual({ source, exists: true });
    }
  });
});

describe('runtime dependencies', () => {
  const needed = new Map([...runtimePackages('apps/model-service/src'), ...runtimePackages('libs/contract/src')]);

  it('finds what the built service requires', () => {
    expect([...needed.keys()]).toEqual(expect.arrayContaining(['@nestjs/core', 'onnxruntime-node', 'zod', 'tslib', '@mlbg/contract']));
  });

  it("are all in package.json's dependencies, which `npm ci --omit=dev` installs", () => {
    const missing = [...needed.entries()]
      .filter(([name]) => !name.startsWith('@mlbg/') && !(name in rootPackage.dependencies))
      .map(([name, files]) => `${name} (${files[0]})`);
    expect(missing).toEqual([]);
  });

  it('take @mlbg/* from the built libs the image copies into dist/node_modules', () => {
    for (const name of [...needed.keys()].filter((candidate) => candidate.startsWith('@mlbg/'))) {
      expect(name).toBe('@mlbg/contract');
    }
    const contract = readWorkspaceJson<{ name: string; dependencies: Record<string, string> }>('libs/contract/package.json');
    expect(contract.name).toBe('@mlbg/contract');
    for (const [name, version] of Object.entries(contract.dependencies))
      expect({ name, version: rootPackage.dependencies[name] }).toEqual({ name, version });
  });
});

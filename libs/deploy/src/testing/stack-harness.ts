import { type Color, CommandResults, type ResultCommand, cliOutput } from '@mlbg/contract';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runCli } from '../cli/run';
import type { HttpAnswer } from '../effects/deps';
import { type PidName, SERVICE_MAIN, SHADOW_RELAY, SUPERVISOR, type StackLayout, replicaOf, stackLayout } from '../backends/local/layout';
import { DEPLOYMENT_SPEC_PATH } from '../spec/deployment-spec';
import { processesWithPidFiles, readPidFile } from '../backends/local/stack/processes';
import { canBind, freePorts, httpClient, processControl, realDeps } from '../effects/real-deps';
import type { SwitchTiming } from '../gates/gate';

export const WORKSPACE_ROOT = resolve(__dirname, '../../../..');
/** The real checks, closer together, to keep the test run short. */
export const FAST_SWITCH: SwitchTiming = { healthChecks: 3, healthIntervalMs: 50, verifyChecks: 3, verifyIntervalMs: 20 };

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout parsed (for --json runs), checked against the contract's schema of the command's output. */
  json<T = Record<string, unknown>>(): T;
}

/**
 * One real stack for a test file: its own state folder and free loopback ports, the CLI run
 * in-process (`runCli`, the very code `main.ts` runs) with real processes, nginx and http.
 * Remembers every pid it has seen, so `assertNothingLeft` can prove `down` stopped them all.
 */
export class StackHarness {
  readonly seenPids = new Set<number>();
  private constructor(
    readonly stateDir: string,
    readonly ports: { readonly router: number; readonly blue: number; readonly green: number },
    readonly layout: StackLayout,
    private readonly serviceBuildDir: string | undefined,
    /** The spec this stack runs with when not the committed one (BLUEGREEN_SPEC), beside the state folder. */
    readonly specFile: string | undefined,
  ) {}

  /**
   * @param options.serviceBuildDir run the service from this build instead of dist/ (BLUEGREEN_SERVICE_BUILD)
   * @param options.spec run with this deployment spec (its JSON) instead of deploy/deployment.json
   * @param options.replicas run deploy/deployment.json (or `spec`) with this many replicas per color
   */
  static async create(name: string, options: { serviceBuildDir?: string; spec?: object; replicas?: number } = {}): Promise<StackHarness> {
    const serviceMain = join(WORKSPACE_ROOT, SERVICE_MAIN);
    if (!existsSync(serviceMain))
      throw new Error(`${serviceMain} is missing: run \`npx nx run model-service:build\` first (nx test deploy does it).`);
    const [router, blue, green] = (await freePorts(3)) as [number, number, number];
    const stateDir = mkdtempSync(join(tmpdir(), `mlbg-${name}-`));
    const spec =
      options.replicas === undefined
        ? options.spec
        : {
            ...(options.spec ?? (JSON.parse(readFileSync(join(WORKSPACE_ROOT, DEPLOYMENT_SPEC_PATH), 'utf8')) as object)),
            replicas: { perColor: options.replicas },
          };
    // Beside the state folder, not in it: a test may mount a tmpfs over the state folder.
    const specFile = spec ? `${stateDir}.spec.json` : undefined;
    if (specFile) writeFileSync(specFile, JSON.stringify(spec, null, 2));
    const layout = stackLayout(WORKSPACE_ROOT, stateDir, tmpdir(), {
      ...(options.serviceBuildDir ? { serviceBuildDir: options.serviceBuildDir } : {}),
      ...(specFile ? { specFile } : {}),
    });
    return new StackHarness(stateDir, { router, blue, green }, layout, options.serviceBuildDir, specFile);
  }

  /** Runs `deploy <argv...>` against this stack's state folder. */
  async cli(...argv: string[]): Promise<CliRun> {
    let stdout = '';
    let stderr = '';
    // The services get a clean environment: not Jest's NODE_ENV=test.
    const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => key !== 'NODE_ENV' && !key.startsWith('JEST')));
    const code = await runCli(argv, {
      env: {
        ...env,
        BLUEGREEN_STATE_DIR: this.stateDir,
        ...(this.serviceBuildDir ? { BLUEGREEN_SERVICE_BUILD: this.serviceBuildDir } : {}),
        ...(this.specFile ? { BLUEGREEN_SPEC: this.specFile } : {}),
      },
      workspaceRoot: WORKSPACE_ROOT,
      cwd: WORKSPACE_ROOT,
      stdout: (text) => (stdout += `${text}\n`),
      stderr: (text) => (stderr += `${text}\n`),
      deps: (progress) => realDeps({ workspaceRoot: WORKSPACE_ROOT, env, progress }),
      switchTiming: FAST_SWITCH,
    });
    this.rememberPids();
    return { code, stdout, stderr, json: <T>() => checkedJson(argv[0], stdout) as T };
  }

  /** `up` on this harness's ports, with quiet services. */
  up(...extra: string[]): Promise<CliRun> {
    const { router, blue, green } = this.ports;
    return this.cli('up', `--router-port=${router}`, `--blue-port=${blue}`, `--green-port=${green}`, '--log-level=warn', ...extra);
  }

  pid(name: PidName): number | undefined {
    const read = readPidFile(this.layout.pidFile(name));
    return read.kind === 'ok' ? read.pid : undefined;
  }

  /** The pid of every replica of `color` that has a pid file (`blue`, `blue-2`, ...). */
  replicaPids(color: Color): number[] {
    return processesWithPidFiles(this.layout)
      .filter((name) => replicaOf(name)?.color === color)
      .flatMap((name) => this.pid(name) ?? []);
  }

  rememberPids(): void {
    for (const name of [...processesWithPidFiles(this.layout), SUPERVISOR, SHADOW_RELAY] as PidName[]) {
      const pid = this.pid(name);
      if (pid !== undefined) this.seenPids.add(pid);
    }
  }

  /** A request through nginx (or to `port`), on a fresh connection. */
  request(method: 'GET' | 'POST', path: string, body?: unknown, port = this.ports.router): Promise<HttpAnswer> {
    return httpClient({ host: '127.0.0.1', port }, { method, path, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  }

  /** GET /health through nginx: which color and version answer. */
  async serving(path = '/health'): Promise<{ status: number; color: string | undefined; version: string | undefined }> {
    const answer = await this.request('GET', path);
    const body = JSON.parse(answer.body) as { version?: string };
    return { status: answer.status, color: answer.headers['x-color'], version: body.version };
  }

  /** Every pid seen is gone, every port is free, the sockets and nginx prefix are removed. */
  async leftovers(): Promise<string[]> {
    const problems: string[] = [];
    for (const pid of this.seenPids) {
      const info = processControl.inspect(pid);
      if (info) problems.push(`pid ${pid} still runs: ${info.cmdline.join(' ')}`);
    }
    for (const [name, port] of Object.entries(this.ports)) {
      const bind = await canBind(port, '127.0.0.1');
      if (!bind.ok) problems.push(`${name} port ${port} is still bound (${bind.code})`);
    }
    if (existsSync(this.layout.runtimeDir)) problems.push(`${this.layout.runtimeDir} still exists`);
    return problems;
  }

  /** Stops whatever is left (even after a failed test) and removes the state folder. */
  async destroy(): Promise<string[]> {
    this.rememberPids();
    await this.cli('down', '--timeout=5');
    const problems = await this.leftovers();
    rmSync(this.stateDir, { recursive: true, force: true });
    if (this.specFile) rmSync(this.specFile, { force: true });
    return problems;
  }
}

/** A command's --json document, which must be what the contract says it prints (the e2e suite, the bench and CD read it). */
function checkedJson(command: string | undefined, stdout: string): unknown {
  const value: unknown = JSON.parse(stdout);
  if (command !== undefined && command in CommandResults) cliOutput(command as ResultCommand).parse(value);
  return value;
}

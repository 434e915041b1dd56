import { type Color, type CommandOutput, type ResultCommand, type SwitchResult, commandOutput } from '@mlbg/contract';
import { DEPLOYMENT_SPEC_PATH, realDeps, runCli } from '@mlbg/deploy';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { freePorts } from '@mlbg/deploy/testing';

/** The real local stack (both colors and nginx), as the deploy library runs it. */
export interface ServiceStack {
  readonly stateDir: string;
  /** The spec it runs with when not the committed one (a bench's own replicas). */
  readonly specFile: string | undefined;
  /** True when the bench started it (and so stops it); false for a stack it was pointed at. */
  readonly ownedByBench: boolean;
  readonly routerUrl: string;
  readonly live: Color;
  readonly colors: Readonly<Record<Color, { readonly url: string; readonly pid: number; readonly model: string }>>;
  readonly nginxPid: number;
  /** `deploy switch` (a toggle) with the real checks; resolves with its JSON result. */
  switchTraffic(): Promise<{ ok: boolean; result: SwitchResult | null; error?: string }>;
  stop(): Promise<void>;
}

/** The services get the bench's environment, but not a test runner's NODE_ENV. */
function serviceEnv(stateDir: string, specFile: string | undefined): Record<string, string | undefined> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => key !== 'NODE_ENV' && !key.startsWith('JEST')));
  return { ...env, BLUEGREEN_STATE_DIR: stateDir, ...(specFile ? { BLUEGREEN_SPEC: specFile } : {}) };
}

/**
 * One deploy command in-process with --json, on the stack in `stateDir` (with `specFile` when it
 * runs another spec than the committed one); what it printed, checked against the contract.
 */
export async function deploy<C extends ResultCommand>(
  workspaceRoot: string,
  stateDir: string,
  argv: readonly [C, ...string[]],
  progress: (line: string) => void,
  specFile?: string,
): Promise<CommandOutput<C>> {
  let stdout = '';
  const env = serviceEnv(stateDir, specFile);
  await runCli([...argv, '--json'], {
    env,
    workspaceRoot,
    cwd: workspaceRoot,
    stdout: (text) => (stdout += `${text}\n`),
    // Progress lines of a --json run; the bench's own progress says enough.
    stderr: () => undefined,
    deps: () => realDeps({ workspaceRoot, env, progress }),
  });
  return commandOutput(argv[0]).parse(JSON.parse(stdout));
}

function failure(command: string, answer: { readonly error?: { readonly message: string; readonly hint: string } }): Error {
  return new Error(
    `deploy ${command} failed: ${answer.error?.message ?? 'no message'}${answer.error?.hint ? `\n${answer.error.hint}` : ''}`,
  );
}

async function describeStack(
  workspaceRoot: string,
  stateDir: string,
  ownedByBench: boolean,
  progress: (line: string) => void,
  specFile?: string,
): Promise<ServiceStack> {
  const status = await deploy(workspaceRoot, stateDir, ['status'], progress, specFile);
  const { router, colors, live } = status.result ?? {};
  if (!status.ok || !router?.pid || !colors || !live) throw failure('status', status);
  const color = (name: Color) => {
    const { url, pid, model } = colors[name];
    if (!url || !pid || !model) throw new Error(`deploy status does not show ${name} running (${JSON.stringify(colors[name])})`);
    return { url, pid, model: isAbsolute(model) ? model : resolve(workspaceRoot, model) };
  };
  const nginxPid = router.pid;
  return {
    stateDir,
    specFile,
    ownedByBench,
    routerUrl: router.url,
    live,
    colors: { blue: color('blue'), green: color('green') },
    nginxPid,
    async switchTraffic() {
      const answer = await deploy(workspaceRoot, stateDir, ['switch'], progress, specFile);
      return { ok: answer.ok, result: answer.result ?? null, ...(answer.error ? { error: answer.error.message } : {}) };
    },
    async stop() {
      if (!ownedByBench) return;
      const down = await deploy(workspaceRoot, stateDir, ['down', '--timeout=10'], progress, specFile);
      if (!down.ok) throw failure('down', down);
      rmSync(stateDir, { recursive: true, force: true });
      if (specFile) rmSync(specFile, { force: true });
    },
  };
}

/**
 * `deploy up` in a fresh temporary state folder on free loopback ports, the services at `logLevel`
 * (quiet, so their logs do not weigh on the measurements), with the committed spec, or with it and
 * `replicas` processes per color. The caller must `stop()` it.
 */
export async function startServiceStack(options: {
  workspaceRoot: string;
  logLevel: string;
  progress: (line: string) => void;
  replicas?: number;
}): Promise<ServiceStack> {
  const stateDir = mkdtempSync(join(tmpdir(), 'mlbg-bench-stack-'));
  const specFile = options.replicas === undefined ? undefined : `${stateDir}.spec.json`;
  if (specFile) {
    const committed = JSON.parse(readFileSync(join(options.workspaceRoot, DEPLOYMENT_SPEC_PATH), 'utf8')) as { replicas?: object };
    writeFileSync(
      specFile,
      JSON.stringify({ ...committed, replicas: { ...committed.replicas, perColor: options.replicas, mustPass: 'all' } }),
    );
  }
  const cleanUp = async () => {
    await deploy(options.workspaceRoot, stateDir, ['down'], options.progress, specFile);
    rmSync(stateDir, { recursive: true, force: true });
    if (specFile) rmSync(specFile, { force: true });
  };
  const [router, blue, green] = await freePorts(3);
  const up = await deploy(
    options.workspaceRoot,
    stateDir,
    ['up', `--router-port=${router}`, `--blue-port=${blue}`, `--green-port=${green}`, `--log-level=${options.logLevel}`],
    options.progress,
    specFile,
  );
  if (!up.ok) {
    // `up` stops what it started when it fails; `down` also removes what a half-done start left.
    await cleanUp();
    throw failure('up', up);
  }
  try {
    return await describeStack(options.workspaceRoot, stateDir, true, options.progress, specFile);
  } catch (error) {
    await cleanUp();
    throw error;
  }
}

/** A stack someone else started (`deploy up --state-dir=...`): measured and switched, never stopped. */
export function attachServiceStack(options: {
  workspaceRoot: string;
  stateDir: string;
  progress: (line: string) => void;
}): Promise<ServiceStack> {
  return describeStack(options.workspaceRoot, resolve(options.stateDir), false, options.progress);
}

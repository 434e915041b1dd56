import {
  ActionName,
  ActionOutcome,
  ActionRequests,
  CliHelp,
  type BackendStatus,
  type CanaryResult,
  CanaryRun,
  type CanaryView,
  type CaptureResult,
  type CliError,
  type CommandResult,
  type ColorDetail,
  type DashboardSnapshot,
  type DiffReport,
  type DiffResult,
  type DownResult,
  type FeedEvent,
  type HealthView,
  type HistoryEntry,
  LastDiff,
  type RelayStatus,
  type ReleaseOutcome,
  type ReleaseResult,
  type ResultCommand,
  type Sample,
  type ShadowResult,
  type ShadowStatus,
  type StackView,
  StatusResult,
  SwitchResult,
  type TrafficPoint,
  type UpResult,
  cliOutput,
} from '@mlbg/contract';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Backend } from './backends/backend';
import { stackLayout } from './backends/local/layout';
import { createRelay } from './backends/local/shadow/relay/relay';
import type { Command } from './cli/args';
import { runCli } from './cli/run';
import { canaryCommand } from './commands/canary/canary';
import { canaryView } from './commands/canary/canary-view';
import { type CommandContext, stateFolderStores } from './commands/context';
import { diffColors } from './commands/shadow/diff';
import { captureLive, shadowTraffic } from './commands/shadow/shadow';
import { downStack, releaseToIdle, stackStatus, upStack } from './commands/stack/stack';
import { rollbackTraffic } from './commands/switch/rollback';
import { switchTraffic } from './commands/switch/switch';
import { ACTIONS } from './dashboard/actions';
import type { CommandName, CommandResult as RegistryResult } from './commands/registry';
import { launchCanary } from './dashboard/canary-launch';
import type { DashboardFeed } from './dashboard/feed';
import { accessPoint, metricsPoint } from './dashboard/traffic';
import type { RuntimeDeps } from './effects/deps';
import { healthView } from './effects/service-client';
import { gatesNamed } from './gates';
import { diffReport } from './gates/prediction-diff-report';
import { parseHistory } from './history/history';
import { DEFAULT_PREFLIGHT_GATES } from './spec/deployment-spec';
import { fakeBackend, fakeClock } from './testing/fakes';

/**
 * One schema per wire: what the deploy tool sends across a process (the CLI's --json, its files in
 * the state folder, the dashboard's API and events) is typed by the zod schemas of @mlbg/contract,
 * which the page, the e2e suite and the bench import. These checks fail, at compile time, when a
 * function that produces one of them declares another type; and at run time when a real output
 * does not parse.
 */

/** Compile-time equality: `assertType<Equal<A, B>>()` does not type-check unless A and B are the same type. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(): T | undefined {
  return undefined;
}
type Returned<F extends (...args: never[]) => unknown> = Awaited<ReturnType<F>>;

describe('the deploy tool and the contract name the same types', () => {
  it('for every command result the CLI prints with --json', () => {
    assertType<Equal<Exclude<Command['name'], 'help'>, ResultCommand>>();
    // Each descriptor's run returns what the contract says the command prints.
    assertType<Equal<{ [N in CommandName]: RegistryResult<N> }, { [N in CommandName]: CommandResult<N> }>>();
    assertType<Equal<Returned<typeof upStack>, UpResult>>();
    assertType<Equal<Returned<typeof downStack>, DownResult>>();
    assertType<Equal<Returned<typeof stackStatus>, StatusResult>>();
    assertType<Equal<Returned<typeof switchTraffic>, SwitchResult>>();
    assertType<Equal<Returned<typeof rollbackTraffic>, SwitchResult>>();
    assertType<Equal<Returned<typeof releaseToIdle>, ReleaseOutcome>>();
    assertType<Equal<Returned<typeof canaryCommand>, CanaryResult>>();
    assertType<Equal<Returned<typeof shadowTraffic>, ShadowResult>>();
    assertType<Equal<Returned<typeof captureLive>, CaptureResult>>();
    assertType<Equal<Returned<typeof diffColors>, DiffResult>>();
  });

  it("for what the backends answer, the status's parts and the relay's status", () => {
    assertType<Equal<Returned<Backend['up']>, UpResult>>();
    assertType<Equal<Returned<Backend['down']>, DownResult>>();
    assertType<Equal<Returned<Backend['release']>, ReleaseResult>>();
    assertType<Equal<Returned<Backend['status']>, BackendStatus>>();
    assertType<Equal<Returned<NonNullable<Backend['shadow']>['status']>, ShadowStatus>>();
    assertType<Equal<Returned<typeof canaryView>, CanaryView | null>>();
    assertType<Equal<Returned<typeof healthView>, HealthView>>();
    assertType<Equal<Returned<typeof diffReport>, DiffReport>>();
    assertType<Equal<Returned<ReturnType<typeof createRelay>['status']>, RelayStatus>>();
  });

  it('for the files in the state folder', () => {
    type Stores = ReturnType<typeof stateFolderStores>;
    assertType<Equal<NonNullable<ReturnType<Stores['canaryRun']['read']>>, CanaryRun>>();
    assertType<Equal<NonNullable<ReturnType<Stores['lastDiff']['read']>>, LastDiff>>();
    assertType<Equal<ReturnType<typeof parseHistory>['entries'][number], HistoryEntry>>();
  });

  it("for the dashboard's snapshot, events and actions", () => {
    assertType<Equal<ReturnType<DashboardFeed['snapshot']>, Pick<DashboardSnapshot, 'stack' | 'samples' | 'history' | 'diff'>>>();
    assertType<Equal<Parameters<Parameters<DashboardFeed['subscribe']>[0]>[0], FeedEvent>>();
    assertType<Equal<Extract<FeedEvent, { kind: 'sample' }>['sample'], Sample>>();
    assertType<Equal<Extract<FeedEvent, { kind: 'stack' }>['stack'], StackView>>();
    assertType<Equal<StackView['details']['blue'], ColorDetail | null>>();
    assertType<Equal<ReturnType<typeof metricsPoint>, TrafficPoint>>();
    assertType<Equal<ReturnType<typeof accessPoint>, TrafficPoint>>();
    assertType<Equal<keyof typeof ACTIONS, ActionName>>();
    assertType<Equal<Returned<(typeof ACTIONS)['switch']['run']>, ActionOutcome>>();
    assertType<Equal<Returned<typeof launchCanary>, ActionOutcome>>();
    assertType<Equal<NonNullable<ActionOutcome['error']>, CliError>>();
    // The page's request bodies: the registry's actions take the contract's schemas themselves.
    for (const name of ActionName.options) expect(ACTIONS[name].body).toBe(ActionRequests[name]);
  });
});

describe("the deploy tool's real outputs parse with the contract's schemas (a fake deployment)", () => {
  let dir: string;
  let context: CommandContext;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mlbg-contract-'));
    const layout = stackLayout(dir, join(dir, 'state'), dir);
    mkdirSync(layout.stateDir);
    context = {
      backend: fakeBackend({
        live: 'blue',
        colors: { blue: { version: 'v1.0.0', featureCount: 1 }, green: { version: 'v1.1.0', featureCount: 1, health: 'down' } },
      }),
      ...stateFolderStores(layout),
      clock: fakeClock(),
      userName: 'tester',
      progress: () => undefined,
      preflight: gatesNamed(DEFAULT_PREFLIGHT_GATES),
    };
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a refused switch, a no-op, and the status after them', async () => {
    const refused = await switchTraffic(context, { color: 'green' });
    expect(refused.kind).toBe('refused');
    expect(SwitchResult.parse(refused)).toEqual(refused);
    const noop = await switchTraffic(context, { color: 'blue' });
    expect(SwitchResult.parse(noop)).toEqual(noop);

    const status = await stackStatus({
      ...context,
      backend: { ...context.backend, status: async () => minimalStatus() },
    });
    expect(status.lastAttempt).toMatchObject({ outcome: 'refused', to: 'green' });
    expect(StatusResult.parse(status)).toEqual(status);
  });

  it('the CLI prints a usage error and help as the contract says', async () => {
    const out: string[] = [];
    const cli = (...argv: string[]) =>
      runCli(argv, {
        env: {},
        workspaceRoot: dir,
        cwd: dir,
        stdout: (text) => out.push(text),
        stderr: (text) => out.push(text),
        deps: () => ({}) as RuntimeDeps,
      });
    expect(await cli('switch', '--color=purple', '--json')).toBe(2);
    const usage: unknown = JSON.parse(out.at(-1) ?? '');
    expect(cliOutput('switch').parse(usage)).toEqual(usage);
    expect(usage).toMatchObject({ ok: false, command: 'switch', error: { code: 'USAGE' } });
    expect(await cli('help', '--json')).toBe(0);
    const help: unknown = JSON.parse(out.at(-1) ?? '');
    expect(CliHelp.parse(help)).toEqual(help);
  });
});

function minimalStatus(): BackendStatus {
  return {
    backend: 'local',
    where: '/tmp/state',
    stack: 'running',
    healthy: true,
    routes: { live: { blue: 100, green: 0 }, preview: { blue: 0, green: 100 } },
    live: 'blue',
    preview: 'green',
    router: null,
    colors: null,
    notes: [],
  };
}

import type { DashboardStarted } from '@mlbg/contract';
import { join, resolve } from 'node:path';
import type { StackLayout } from '../backends/local/layout';
import { loadSpec } from '../backends/local/stack/up-down';
import { diffColors } from '../commands/shadow/diff';
import { predictionDiffSettings } from '../gates';
import type { CommandContext } from '../commands/context';
import { DashboardFeed } from '../dashboard/feed';
import { ACTIONS } from '../dashboard/actions';
import { startDashboard } from '../dashboard/server';
import { type CliCommand, launchCanary } from '../dashboard/canary-launch';
import type { RuntimeDeps } from '../effects/deps';
import { COMPOSE_NGINX_LOG_DIR } from '../render';
import type { CommandName } from '../commands/registry';
import type { Command } from './args';
import { isLoopback } from './dashboard.command';

type DashboardCommand = Extract<Command, { name: 'dashboard' }>;

/**
 * The deploy CLI as this dashboard was started (`nx run deploy:dashboard` runs
 * `node -r @swc-node/register libs/deploy/src/cli/main.ts`), for the canary it starts as its own
 * process; the executor's command line when this process is something else (a test runner).
 */
export function thisCli(workspaceRoot: string): CliCommand {
  const entry = process.argv[1];
  if (entry && /[\\/]cli[\\/]main\.[jt]s$/.test(entry))
    return { command: process.execPath, args: [...process.execArgv, entry], cwd: workspaceRoot, env: process.env };
  return {
    command: process.execPath,
    args: ['-r', '@swc-node/register', join(__dirname, 'main.ts')],
    cwd: workspaceRoot,
    env: { ...process.env, SWC_NODE_PROJECT: 'libs/deploy/tsconfig.lib.json' },
  };
}

/** nginx's JSON access log on this machine: the local stack's nginx prefix, the Compose nginx's bind-mounted log folder. */
function accessLogOf(backend: DashboardCommand['backend'], layout: StackLayout): string | undefined {
  if (backend === 'local') return join(layout.nginxPrefix, 'access.log');
  if (backend === 'compose') return join(layout.workspaceRoot, COMPOSE_NGINX_LOG_DIR, 'access.log');
  return undefined;
}

/** Where the dashboard's page is built (`nx run dashboard:build`). */
export const DASHBOARD_ASSETS = 'dist/apps/dashboard';

export interface DashboardCli {
  readonly workspaceRoot: string;
  readonly layout: StackLayout;
  readonly stdout: (text: string) => void;
  readonly deps: (progress: (line: string) => void) => RuntimeDeps;
  /** The CLI's own context factory for a command, with the dashboard's backend flags: same backend, lock, history and gates as `deploy <command>`. */
  readonly contextFor: (command: CommandName, deps: RuntimeDeps) => Promise<CommandContext>;
  /** Resolves when the dashboard should stop (Ctrl-C, SIGTERM). */
  readonly stopped: () => Promise<void>;
}

/**
 * `deploy dashboard`: watches the deployment and serves the page until stopped. Prints the URL
 * with its token (one JSON line with --json). The page's actions run as `<user> (dashboard)`.
 */
export async function serveDashboard(command: DashboardCommand, cli: DashboardCli): Promise<void> {
  const quiet = cli.deps(() => undefined);
  const userName = `${quiet.userName} (dashboard)`;
  const accessLog = accessLogOf(command.backend, cli.layout);
  const asDashboard = (deps: RuntimeDeps): RuntimeDeps => ({ ...deps, userName });
  const feed = new DashboardFeed({
    openContext: () => cli.contextFor('status', asDashboard(quiet)),
    http: quiet.http,
    clock: quiet.clock,
    ...(accessLog ? { accessLog } : {}),
  });
  const canaryCli = thisCli(cli.workspaceRoot);
  const backendFlags = [
    ...(command.kubeContext ? [`--context=${command.kubeContext}`] : []),
    ...(command.namespace ? [`--namespace=${command.namespace}`] : []),
  ];
  const dashboard = await startDashboard({
    host: command.host,
    port: command.port,
    readOnly: command.readOnly,
    assetsDir: resolve(cli.workspaceRoot, DASHBOARD_ASSETS),
    backend: command.backend,
    userName,
    feed,
    actionEnv: {
      spec: () => loadSpec(cli.layout),
      workspaceRoot: cli.workspaceRoot,
      startCanary: (start, context) =>
        launchCanary(
          start,
          {
            cli: canaryCli,
            stateDir: cli.layout.stateDir,
            backend: command.backend,
            backendFlags,
            userName,
            runFile: context.canaryRun,
            clock: context.clock,
          },
          context.progress,
        ),
    },
    diff: async () => {
      const { criteria } = predictionDiffSettings(loadSpec(cli.layout).predictionDiff, cli.workspaceRoot);
      return diffColors(await cli.contextFor('status', asDashboard(quiet)), {
        tolerance: criteria.tolerance,
        criteria,
        by: "the dashboard's compare",
      });
    },
    openContext: (action, progress) =>
      cli.contextFor(
        ACTIONS[action].command,
        asDashboard(
          cli.deps((line) => {
            cli.stdout(line);
            progress(line);
          }),
        ),
      ),
  });
  feed.start();
  if (command.json) {
    const result: DashboardStarted = {
      url: dashboard.url,
      openUrl: dashboard.openUrl,
      token: dashboard.token,
      readOnly: command.readOnly,
      user: userName,
    };
    cli.stdout(JSON.stringify({ ok: true, command: 'dashboard', result }));
  } else {
    cli.stdout(
      [
        `Dashboard of the ${command.backend} deployment${command.backend === 'local' ? ` (${cli.layout.stateDir})` : ''}:`,
        `  open ${dashboard.openUrl}`,
        ...(isLoopback(command.host)
          ? []
          : [
              `  listening on ${command.host}, beyond this machine, over plain HTTP (--allow-remote): the token and every action travel in clear; anyone who can reach the port and has the token can act`,
            ]),
        command.readOnly
          ? '  read-only: no buttons, every action refused'
          : `  actions from the page are recorded in the history as "${userName}"`,
        'Ctrl-C stops it.',
      ].join('\n'),
    );
  }
  await cli.stopped();
  feed.stop();
  await dashboard.close();
}

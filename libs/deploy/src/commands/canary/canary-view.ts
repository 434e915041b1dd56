import { type CanaryView, otherColor } from '@mlbg/contract';
import { type HistoryEntry, lastCanary } from '../../history/history';
import { type Routes, mainTarget, soleTarget } from '../../routing/routes';
import type { CommandContext } from '../context';

/** What `deploy:status` says about a canary in progress (the contract's). */
export type { CanaryView } from '@mlbg/contract';

/** The canary in progress from the routes, the lock's holder and the running canary's progress file; null when the live route is not split. */
export function canaryView(
  context: Pick<CommandContext, 'lock' | 'canaryRun' | 'clock' | 'backend'>,
  routes: Routes | null,
  entries: readonly HistoryEntry[],
): CanaryView | null {
  if (!routes || soleTarget(routes.live)) return null;
  const stable = mainTarget(routes.live);
  const canary = otherColor(stable);
  const holder = context.lock.holder?.();
  const run = context.canaryRun?.read();
  const running = holder !== undefined && holder.command.startsWith('canary') && run?.pid === holder.pid;
  const last = lastCanary(entries, context.backend.kind);
  const lastAnalysis = run?.lastAnalysis ?? last?.end?.intervals.at(-1) ?? null;
  return {
    state: running ? 'running' : 'interrupted',
    stable,
    canary,
    weight: routes.live[canary],
    steps: run?.steps ?? last?.started?.steps ?? null,
    step: running && run ? run.step : null,
    nextAnalysisInMs: running && run ? Math.max(0, Date.parse(run.analysisAt) - context.clock.now()) : null,
    lastAnalysis,
    pid: running ? (holder?.pid ?? null) : null,
  };
}

import { type Color, type JudgeResult, type PredictionRecord, otherColor } from '@mlbg/contract';
import { DeployError } from '../../errors';
import { judgeInterval } from '../../gates/judge/judge';
import type { JudgeLimits } from '../../gates/judge/limits';
import { colorWindow, shadowPairs } from '../../gates/judge/records-source';
import { readRecords } from '../../gates/prediction-pairs';
import { mainTarget } from '../../routing/routes';
import type { CommandContext } from '../context';

/** What `deploy:judge` asks: a window that already happened, and which color was the canary. */
export interface JudgeRequest {
  /** ms since the epoch. */
  readonly since: number;
  readonly until: number;
  /** The canary color; the one not live (or the smaller share of a split) when absent. */
  readonly canary?: Color;
}

/**
 * `deploy:judge --since`: the judge alone on a window that already happened ("would this canary have
 * passed?"), from what the backend kept of it (nginx's log locally, Prometheus on Kubernetes) and
 * the records the colors still keep of it. Reads
 * only: no lock, no route moves, no history line.
 * @throws DeployError CANARY_NOT_SUPPORTED where the backend has no access log to read
 */
export async function judgeWindow(context: CommandContext, limits: JudgeLimits, request: JudgeRequest): Promise<JudgeResult> {
  const access = context.backend.canary;
  if (!access)
    throw new DeployError(
      'CANARY_NOT_SUPPORTED',
      `The ${context.backend.kind} backend keeps no record of what each color served to judge a window from.`,
    );
  const routes = await context.backend.readRoutes();
  const stable = request.canary ? otherColor(request.canary) : mainTarget(routes.live);
  const canary = request.canary ?? otherColor(stable);
  const inWindow = (time: string | undefined) => {
    const at = time === undefined ? NaN : Date.parse(time);
    return at >= request.since && at <= request.until;
  };
  const { served, notes } = await access.servedBetween({ sinceMs: request.since, untilMs: request.until }, routes);
  const records = async (color: Color): Promise<{ records: PredictionRecord[]; version: string | null }> => {
    try {
      const answer = await readRecords(context.backend.colors, color);
      return { records: answer.records.filter((record) => inWindow(record.time)), version: answer.version };
    } catch {
      return { records: [], version: context.backend.colors.recorded(color)?.version ?? null };
    }
  };
  const [ofCanary, ofStable] = await Promise.all([records(canary), records(stable)]);
  const judgement = judgeInterval(
    {
      canary: colorWindow(canary, served[canary], ofCanary.records),
      stable: colorWindow(stable, served[stable], ofStable.records),
      pairs: shadowPairs(ofStable.records, ofCanary.records),
    },
    limits,
  );
  return {
    source: 'window',
    since: new Date(request.since).toISOString(),
    until: new Date(request.until).toISOString(),
    canary,
    stable,
    canaryVersion: ofCanary.version,
    stableVersion: ofStable.version,
    where: null,
    requests: null,
    judgement: notes.length > 0 ? { ...judgement, reasons: [...judgement.reasons, ...notes] } : judgement,
  };
}

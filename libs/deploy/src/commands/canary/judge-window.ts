import { type Color, type JudgeResult, type PredictionRecord, otherColor } from '@mlbg/contract';
import { DeployError } from '../../errors';
import { parseAccessLines } from '../../gates/analysis/access-log';
import { judgeInterval } from '../../gates/judge/judge';
import { judgeLimits } from '../../gates/judge/limits';
import { colorWindow, shadowPairs } from '../../gates/judge/records-source';
import { readRecords } from '../../gates/prediction-pairs';
import { mainTarget } from '../../routing/routes';
import { linkColors } from '../../routing/slots';
import type { DeploymentSpec } from '../../spec/deployment-spec';
import type { CommandContext } from '../context';

/** What `deploy:judge` asks: a window that already happened, and which color was the canary. */
export interface JudgeRequest {
  /** ms since the epoch. */
  readonly since: number;
  readonly until: number;
  /** The canary color; the one not live (or the smaller share of a split) when absent. */
  readonly canary?: Color;
  readonly expectOutputChange: boolean;
}

export type { JudgeResult } from '@mlbg/contract';

/**
 * `deploy:judge`: the judge alone on a window that already happened ("would this canary have
 * passed?"), from what nginx logged in it and the records the colors still keep of it. Reads
 * only: no lock, no route moves, no history line.
 * @throws DeployError CANARY_NOT_SUPPORTED where the backend has no access log to read
 */
export async function judgeWindow(context: CommandContext, spec: DeploymentSpec, request: JudgeRequest): Promise<JudgeResult> {
  const access = context.backend.canary;
  if (!access)
    throw new DeployError('CANARY_NOT_SUPPORTED', `The ${context.backend.kind} backend has no access log of nginx to judge a window from.`);
  const routes = await context.backend.readRoutes();
  const stable = request.canary ? otherColor(request.canary) : mainTarget(routes.live);
  const canary = request.canary ?? otherColor(stable);
  const inWindow = (time: string | undefined) => {
    const at = time === undefined ? NaN : Date.parse(time);
    return at >= request.since && at <= request.until;
  };
  const log = await access.readAccessLog(0);
  const lines = log.text.split('\n').filter((line) => inWindow(/"time":"([^"]+)"/.exec(line)?.[1]));
  // nginx's own 5xx carry no X-Color: they go to the color the slot pointed at now (the routes of then are not kept).
  const samples = parseAccessLines(lines.join('\n'), linkColors(routes, access.slots));
  const served = (color: Color) => samples.filter((sample) => sample.color === color).map(({ status, ms }) => ({ status, ms }));
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
      canary: colorWindow(canary, served(canary), ofCanary.records),
      stable: colorWindow(stable, served(stable), ofStable.records),
      pairs: shadowPairs(ofStable.records, ofCanary.records),
    },
    judgeLimits(spec, { expectOutputChange: request.expectOutputChange }),
  );
  return {
    since: new Date(request.since).toISOString(),
    until: new Date(request.until).toISOString(),
    canary,
    stable,
    canaryVersion: ofCanary.version,
    stableVersion: ofStable.version,
    judgement,
  };
}

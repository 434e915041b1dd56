import { randomUUID } from 'node:crypto';
import { AnyPredictResponse, type Color, type JudgeResult, SHADOW_HEADER, predictionOutputs } from '@mlbg/contract';
import type { Clock } from '../../effects/deps';
import type { AccessSample } from '../../gates/analysis/access-log';
import { type AnalysisThresholds, type Verdict, judge } from '../../gates/analysis/analysis';
import { sampleOfServed } from '../../gates/analysis/served';
import type { ColorAccess } from '../../gates/gate';
import { type DiffCriteria, type PredictionPair, diffProblems, diffReport } from '../../gates';

/**
 * `deploy:judge`: judges a canary against the stable color on a window it makes itself, the same
 * bodies sent to both (each pair with one request id and the shadow header, so neither color counts
 * them as live traffic): every request's status and the time the judge waited for it, and the two
 * answers side by side. It runs where a controller wants a verdict, e.g. as the Job of an Argo
 * Rollouts AnalysisTemplate against the preview and the active Service; its exit status is the
 * verdict (0 pass, 1 fail, 3 inconclusive: too little data is never a pass).
 *
 * The verdict: the canary analysis' checks (errors and p99, each against the limits and against
 * the stable color: `gates/analysis`) on the requests, and the prediction diff's criteria on the
 * pairs (the model's answers). The statistical judge (issue #25) replaces the first with its tests
 * once it is on main; the window it judges stays this one.
 */

export interface JudgeSettings {
  /** /predict bodies, sent in turn (a replay file, the canary's probe samples). */
  readonly bodies: readonly string[];
  /** How many bodies to send to each color. */
  readonly requests: number;
  readonly analysis: AnalysisThresholds;
  readonly diff: DiffCriteria;
}

export interface JudgeTargets {
  readonly stable: Color;
  readonly canary: Color;
  /** Where each is, for people (URLs, or the backend's Services). */
  readonly where: Readonly<Record<Color, string>>;
}

/** What `deploy judge` finds (its --json result): the contract's. */
export type { JudgeResult };

/** Exit statuses of `deploy:judge`: the verdict. */
export const JUDGE_EXIT: Readonly<Record<Verdict, number>> = { pass: 0, fail: 1, inconclusive: 3 };

/** Requests in flight per color: enough to finish quickly, too few to load a color. */
const CONCURRENCY = 4;

export async function judgeColors(
  colors: ColorAccess,
  targets: JudgeTargets,
  settings: JudgeSettings,
  deps: { readonly clock: Clock; readonly progress: (line: string) => void },
): Promise<JudgeResult> {
  const { stable, canary } = targets;
  const request = colors.request?.bind(colors);
  const started = deps.clock.now();
  const run = randomUUID().slice(0, 8);
  const served: AccessSample[] = [];
  const pairs: PredictionPair[] = [];
  const versions: Record<Color, string | null> = { blue: null, green: null };
  deps.progress(
    `judging ${canary} (${targets.where[canary]}) against ${stable} (${targets.where[stable]}) on ${settings.requests} requests each`,
  );

  const send = async (color: Color, body: string, requestId: string) => {
    const begin = performance.now();
    const answer = await (
      request
        ? request(color, { method: 'POST', path: '/predict', body, headers: { 'X-Request-Id': requestId, [SHADOW_HEADER]: 'replay' } })
        : colors.predict(color, body)
    ).catch(() => undefined);
    const ms = performance.now() - begin;
    // No answer at all is what a router answers for a dead color: a 502.
    served.push({ color, status: answer?.status ?? 502, ms: Math.round(ms * 1000) / 1000 });
    if (!answer || answer.status !== 200) return undefined;
    const parsed = AnyPredictResponse.safeParse(JSON.parse(answer.body));
    if (!parsed.success) return undefined;
    versions[color] = parsed.data.model_version;
    return { ...predictionOutputs(parsed.data), latencyMs: ms };
  };

  let next = 0;
  const worker = async () => {
    while (next < settings.requests) {
      const index = next++;
      const body = settings.bodies[index % settings.bodies.length] ?? '{}';
      const requestId = `judge-${run}-${index + 1}`;
      const [fromStable, fromCanary] = await Promise.all([send(stable, body, requestId), send(canary, body, requestId)]);
      if (fromStable && fromCanary) pairs.push({ requestId, live: fromStable, candidate: fromCanary });
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, settings.requests) }, worker));

  const traffic = { kind: 'requests', own: null } as const;
  const analysis = judge(
    sampleOfServed(canary, { ...traffic, requests: served.filter((sample) => sample.color === canary) }),
    sampleOfServed(stable, { ...traffic, requests: served.filter((sample) => sample.color === stable) }),
    settings.analysis,
  );
  const diff = diffReport(pairs, {
    source: 'replay',
    live: { color: stable, version: versions[stable] },
    candidate: { color: canary, version: versions[canary] },
    tolerance: settings.diff.tolerance,
  });
  const problems = diffProblems(diff, settings.diff);
  const tooFewPairs = diff.pairs < settings.diff.minPairs;
  const failedChecks = analysis.checks.filter((check) => !check.ok && !check.name.startsWith('traffic-'));
  const answersDiffer = problems.filter(() => !tooFewPairs);
  const reasons = [
    ...failedChecks.map((check) => `${check.name}: ${check.observed} (expected ${check.expected})`),
    ...answersDiffer.map((problem) => `answers: ${problem}`),
  ];
  // Too little data: the analysis says so (its traffic checks), and too few pairs to compare the answers.
  const short = [
    ...analysis.checks.filter((check) => !check.ok && check.name.startsWith('traffic-')).map((check) => check.observed),
    ...(tooFewPairs ? problems : []),
  ];
  const verdict: Verdict = reasons.length > 0 ? 'fail' : short.length > 0 ? 'inconclusive' : 'pass';
  return {
    verdict,
    stable,
    canary,
    where: { ...targets.where },
    requests: settings.requests,
    analysis: { ...analysis, checks: [...analysis.checks] },
    diff,
    diffProblems: problems,
    reasons: verdict === 'pass' ? ['every check passed'] : verdict === 'fail' ? reasons : short,
    durationMs: Math.round(deps.clock.now() - started),
  };
}

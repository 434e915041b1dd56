import { randomUUID } from 'node:crypto';
import { AnyPredictResponse, type Color, type JudgeResult, SHADOW_HEADER, type Verdict, predictionOutputs } from '@mlbg/contract';
import type { Clock } from '../../effects/deps';
import type { ColorAccess } from '../../gates/gate';
import { judgeInterval } from '../../gates/judge/judge';
import type { JudgeLimits } from '../../gates/judge/limits';
import type { Answer, Served } from '../../gates/judge/window';
import type { PredictionPair } from '../../gates/prediction-diff-report';

/**
 * `deploy:judge` without `--since`: judges a canary against the stable color on a window it makes
 * itself, the same bodies sent to both (each pair with one request id and the shadow header, so
 * neither color counts them as live traffic): every request's status and the time the judge
 * waited for it, each color's answers, and the two answers side by side. It runs where a
 * controller wants a verdict before live traffic reaches the canary, e.g. as the Job of an Argo
 * Rollouts AnalysisTemplate against the preview and the active Service; its exit status is the
 * verdict (0 pass, 1 fail, 3 inconclusive: too little data is never a pass). The judge is the
 * canary's (gates/judge): the same checks, tests and limits.
 */

export interface SendSettings {
  /** /predict bodies, sent in turn (a replay file, the canary's probe samples). */
  readonly bodies: readonly string[];
  /** How many bodies to send to each color. */
  readonly requests: number;
  readonly limits: JudgeLimits;
}

export interface JudgeTargets {
  readonly stable: Color;
  readonly canary: Color;
  /** Where each is, for people (URLs, or the backend's live and idle color). */
  readonly where: Readonly<Record<Color, string>>;
}

/** Exit statuses of `deploy:judge`: the verdict. */
export const JUDGE_EXIT: Readonly<Record<Verdict, number>> = { pass: 0, fail: 1, inconclusive: 3 };

/** Requests in flight per color: enough to finish quickly, too few to load a color. */
const CONCURRENCY = 4;

export async function judgeBySending(
  colors: ColorAccess,
  targets: JudgeTargets,
  settings: SendSettings,
  deps: { readonly clock: Clock; readonly progress: (line: string) => void },
): Promise<JudgeResult> {
  const { stable, canary } = targets;
  const request = colors.request?.bind(colors);
  const since = new Date(deps.clock.now()).toISOString();
  const run = randomUUID().slice(0, 8);
  const served: Record<Color, Served[]> = { blue: [], green: [] };
  const answers: Record<Color, Answer[]> = { blue: [], green: [] };
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
    served[color].push({ status: answer?.status ?? 502, ms: Math.round(ms * 1000) / 1000 });
    if (!answer || answer.status !== 200) return undefined;
    const parsed = AnyPredictResponse.safeParse(JSON.parse(answer.body));
    if (!parsed.success) return undefined;
    versions[color] = parsed.data.model_version;
    const outputs = predictionOutputs(parsed.data);
    answers[color].push({ outputs: outputs.outputs, ...(outputs.labels ? { labels: outputs.labels } : {}) });
    return { ...outputs, latencyMs: ms };
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

  const judgement = judgeInterval(
    {
      canary: { color: canary, served: served[canary], answers: answers[canary] },
      stable: { color: stable, served: served[stable], answers: answers[stable] },
      pairs,
    },
    settings.limits,
  );
  return {
    source: 'sent',
    since,
    until: new Date(deps.clock.now()).toISOString(),
    canary,
    stable,
    canaryVersion: versions[canary],
    stableVersion: versions[stable],
    where: { ...targets.where },
    requests: settings.requests,
    judgement,
  };
}

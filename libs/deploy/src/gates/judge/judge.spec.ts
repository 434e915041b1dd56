import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DeploymentSpec } from '../../spec/deployment-spec';
import { type ModelFunction, modelOfCard, seededRandom, simulatedColor, simulatedWindow } from '../../testing/judge-traffic';
import type { PredictionPair } from '../prediction-diff-report';
import { judgeInterval } from './judge';
import { type JudgeLimits, judgeLimits } from './limits';
import { type JudgedCheck, Judgement } from './verdict';
import type { Answer, ColorWindow, JudgeWindow } from './window';

const ROOT = join(__dirname, '../../../../..');
const card = (version: string) => JSON.parse(readFileSync(join(ROOT, 'models', version, 'model.json'), 'utf8'));
const v100 = modelOfCard(card('v1.0.0'));
/** v1.0.0's signature and weights with the slope negated: healthy, fast and wrong. */
const wrong = modelOfCard({ ...card('v1.0.0'), weights: card('v1.0.0').weights.map((weight: number) => -weight) });
const bodies = (JSON.parse(readFileSync(join(ROOT, 'deploy/canary-samples.json'), 'utf8')) as { features: number[][] }[]).map(
  (body) => body.features,
);
const traffic = { bodies, errorShare: 0, medianMs: 3 };
const defaults = judgeLimits(DeploymentSpec.parse({}));
const enough = { requests: defaults.minRequests, rows: defaults.outputs?.minOutputs ?? 0 };

const check = (judgement: Judgement, name: string): JudgedCheck => {
  const found = judgement.checks.find((item) => item.name === name);
  if (!found) throw new Error(`no check ${name} in ${judgement.checks.map((item) => item.name).join(', ')}`);
  return found;
};
const verdicts = (judgement: Judgement) => Object.fromEntries(judgement.checks.map((item) => [item.name, item.verdict]));
const interval = (canary: ModelFunction, options: { seed?: number; canarySize?: typeof enough; stableSize?: typeof enough } = {}) =>
  simulatedWindow({
    canary,
    stable: v100,
    canarySize: options.canarySize ?? enough,
    stableSize: options.stableSize ?? enough,
    traffic,
    random: seededRandom(options.seed ?? 1),
  });

describe('the judge of a canary interval', () => {
  it('passes a canary that serves like the stable color, and says what each check measured', () => {
    const judgement = judgeInterval(interval(v100), defaults);
    expect(judgement.verdict).toBe('pass');
    expect(verdicts(judgement)).toEqual({
      'error-share': 'pass',
      'error-ceiling': 'pass',
      latency: 'pass',
      'p99-ceiling': 'pass',
      'output-distribution': 'pass',
    });
    const outputs = check(judgement, 'output-distribution');
    expect(outputs.samples.canary).toBeGreaterThanOrEqual(400);
    expect(outputs.pValue).toBeGreaterThan(0.01);
    expect(outputs.effect?.name).toBe('population stability index');
    expect(outputs.alpha).toBe(0.01);
    // Every verdict crosses the wire as it is: the schema of --json, the history and the dashboard.
    expect(Judgement.parse(JSON.parse(JSON.stringify(judgement)))).toEqual(judgement);
  });

  it('rolls back a healthy, fast and wrong model on its answers alone', () => {
    const judgement = judgeInterval(interval(wrong), defaults);
    expect(judgement.verdict).toBe('fail');
    expect(verdicts(judgement)).toEqual({
      'error-share': 'pass',
      'error-ceiling': 'pass',
      latency: 'pass',
      'p99-ceiling': 'pass',
      'output-distribution': 'fail',
    });
    const outputs = check(judgement, 'output-distribution');
    expect(outputs.statistic).toBeGreaterThan(0.5);
    expect(outputs.adjustedP).toBeLessThan(1e-6);
    expect(outputs.effect?.value).toBeGreaterThan(1);
    expect(outputs.hint).toContain('--expect-output-change');
    expect(judgement.reasons).toEqual([expect.stringMatching(/^output-distribution failed: green's \d+ answers against blue's \d+: KS D/)]);
  });

  it('shows but does not count the answers when an output change is declared', () => {
    const judgement = judgeInterval(interval(wrong), {
      ...defaults,
      outputs: defaults.outputs && { ...defaults.outputs, expectChange: true },
    });
    expect(judgement.verdict).toBe('pass');
    expect(check(judgement, 'output-distribution')).toMatchObject({ verdict: 'waived', adjustedP: null });
    expect(judgement.reasons).toContain('outputs: an output change was declared (--expect-output-change): shown, not counted');
  });

  it('judges errors and latency only when the outputs are turned off', () => {
    const judgement = judgeInterval(interval(wrong), { ...defaults, outputs: null });
    expect(judgement.verdict).toBe('pass');
    expect(judgement.checks.map((item) => item.name)).toEqual(['error-share', 'error-ceiling', 'latency', 'p99-ceiling']);
    expect(judgement.histogram).toBeNull();
  });

  it('is inconclusive, never a pass, below the minimum sample, and says which checks lacked data', () => {
    const judgement = judgeInterval(interval(v100, { canarySize: { requests: 40, rows: 0 } }), defaults);
    expect(judgement.verdict).toBe('inconclusive');
    expect(check(judgement, 'latency')).toMatchObject({ verdict: 'inconclusive', pValue: null, samples: { canary: 40, minimum: 100 } });
    expect(check(judgement, 'latency').observed).toContain('too little data (at least 100 needed)');
    expect(judgement.reasons).toEqual([
      'errors: too little data for error-share, error-ceiling',
      'latency: too little data for latency, p99-ceiling',
      'outputs: too little data for output-distribution',
    ]);
  });

  it('is inconclusive with no traffic at all', () => {
    const none: ColorWindow = { color: 'green', served: [], answers: [] };
    const judgement = judgeInterval({ canary: none, stable: { ...none, color: 'blue' }, pairs: [] }, defaults);
    expect(judgement.verdict).toBe('inconclusive');
    expect(judgement.checks.every((item) => item.verdict === 'inconclusive')).toBe(true);
  });

  it('fails a crash-looping canary on errors even below the minimum sample (an exact test holds at any size)', () => {
    const window = interval(v100, { stableSize: { requests: 1000, rows: 0 } });
    const crashing: ColorWindow = { color: 'green', served: Array.from({ length: 30 }, () => ({ status: 502, ms: 0 })), answers: [] };
    const judgement = judgeInterval({ ...window, canary: crashing }, defaults);
    expect(judgement.verdict).toBe('fail');
    expect(check(judgement, 'error-share')).toMatchObject({ verdict: 'fail', statistic: 30, samples: { canary: 30, stable: 1000 } });
    expect(check(judgement, 'error-ceiling').verdict).toBe('fail');
    expect(check(judgement, 'error-share').effect?.value).toBeCloseTo(1, 6);
  });

  it('fails a slow canary on latency, and not a canary 1 ms slower', () => {
    const slow = simulatedWindow({
      canary: v100,
      stable: v100,
      canarySize: enough,
      stableSize: enough,
      traffic,
      canaryTraffic: { medianMs: 30 },
      random: seededRandom(2),
    });
    const judgement = judgeInterval(slow, defaults);
    expect(check(judgement, 'latency')).toMatchObject({ verdict: 'fail', effect: { exceeded: true } });
    expect(judgement.verdict).toBe('fail');

    const barely = judgeInterval(
      { ...slow, canary: { ...slow.canary, served: slow.stable.served.map((s) => ({ ...s, ms: s.ms + 1 })) } },
      defaults,
    );
    // Significant (every answer 1 ms slower), but under the floor of 5 ms: no failure.
    expect(check(barely, 'latency').pValue).toBeLessThan(1e-6);
    expect(check(barely, 'latency').verdict).toBe('pass');
  });

  it('fails a p99 far above the ceiling, counted over the answers', () => {
    const window = interval(v100);
    const tail = window.canary.served.map((served, i) => (i % 10 === 0 ? { ...served, ms: 900 } : served));
    const judgement = judgeInterval({ ...window, canary: { ...window.canary, served: tail } }, defaults);
    expect(check(judgement, 'p99-ceiling')).toMatchObject({ verdict: 'fail', effect: { value: 900, limit: 500 } });
  });

  it('does not fail a significant but tiny change of the answers (PSI under its limit)', () => {
    const nudged: ModelFunction = (row) => v100(row).map((value) => value * 1.001);
    const size = { requests: 20_000, rows: 20_000 };
    const judgement = judgeInterval(interval(nudged, { canarySize: size, stableSize: size }), defaults);
    const outputs = check(judgement, 'output-distribution');
    expect(outputs.adjustedP).toBeLessThan(0.01);
    expect(outputs.effect?.exceeded).toBe(false);
    expect(outputs.verdict).toBe('pass');
  });

  describe('a classifier', () => {
    const answer = (label: string, probabilities: number[]): Answer => ({ outputs: [probabilities], labels: [label] });
    const colorOf = (color: 'green' | 'blue', answers: Answer[]): ColorWindow => ({
      color,
      served: answers.map(() => ({ status: 200, ms: 2 })),
      answers,
    });
    const mix = (setosa: number, versicolor: number, virginica: number) => [
      ...Array.from({ length: setosa }, () => answer('setosa', [0.8, 0.1, 0.1])),
      ...Array.from({ length: versicolor }, () => answer('versicolor', [0.1, 0.8, 0.1])),
      ...Array.from({ length: virginica }, () => answer('virginica', [0.1, 0.1, 0.8])),
    ];

    it('passes the same label shares and fails a class that vanished', () => {
      const same = judgeInterval(
        { canary: colorOf('green', mix(150, 150, 150)), stable: colorOf('blue', mix(150, 150, 150)), pairs: [] },
        defaults,
      );
      expect(verdicts(same)).toMatchObject({ 'label-shares': 'pass', 'class-probabilities': 'pass' });
      expect(same.verdict).toBe('pass');
      expect(same.histogram).toEqual({
        kind: 'labels',
        labels: ['setosa', 'versicolor', 'virginica'],
        canary: [150, 150, 150],
        stable: [150, 150, 150],
      });

      const vanished = judgeInterval(
        { canary: colorOf('green', mix(225, 225, 0)), stable: colorOf('blue', mix(150, 150, 150)), pairs: [] },
        defaults,
      );
      expect(vanished.verdict).toBe('fail');
      expect(check(vanished, 'label-shares')).toMatchObject({ verdict: 'fail', effect: { value: expect.closeTo(1 / 3, 6) } });
      expect(check(vanished, 'class-probabilities').verdict).toBe('fail');
      expect(check(vanished, 'label-shares').observed).toContain('"virginica" moved 33.33%');
    });
  });

  describe('paired answers to the same requests (shadow copies, replays)', () => {
    const pairsOf = (canary: ModelFunction, count: number): PredictionPair[] =>
      Array.from({ length: count }, (_, i) => {
        const rows = bodies[i % bodies.length] ?? [];
        const side = (model: ModelFunction) => ({ outputs: rows.map((row) => model(row)), latencyMs: 1 });
        return { requestId: `replay-${i}`, live: side(v100), candidate: side(canary) };
      });
    const quiet = (): JudgeWindow => ({
      canary: simulatedColor('green', v100, { requests: 100 }, traffic, seededRandom(3)),
      stable: simulatedColor('blue', v100, { requests: 100 }, traffic, seededRandom(4)),
      pairs: [],
    });

    it('judges the answers on pairs when live traffic is too little for the distributions', () => {
      const judgement = judgeInterval({ ...quiet(), pairs: pairsOf(v100, 60) }, defaults);
      expect(check(judgement, 'output-distribution').verdict).toBe('inconclusive');
      expect(check(judgement, 'paired-agreement')).toMatchObject({ verdict: 'pass', statistic: 1, samples: { canary: 60, minimum: 50 } });
      expect(judgement.verdict).toBe('pass');
    });

    it('fails a wrong model on a handful of pairs, and tells the agreement with its Wilson bound', () => {
      const judgement = judgeInterval({ ...quiet(), pairs: pairsOf(wrong, 10) }, defaults);
      const paired = check(judgement, 'paired-agreement');
      expect(paired.verdict).toBe('fail');
      expect(paired.statistic).toBe(0);
      expect(paired.observed).toMatch(/^0 of 10 pairs within .*at least 0\.00% with 99\.00% confidence, Wilson/);
      expect(judgement.verdict).toBe('fail');
    });

    it('is inconclusive with too few agreeing pairs and too little live traffic', () => {
      const judgement = judgeInterval({ ...quiet(), pairs: pairsOf(v100, 10) }, defaults);
      expect(check(judgement, 'paired-agreement').verdict).toBe('inconclusive');
      expect(judgement.verdict).toBe('inconclusive');
    });
  });

  it('controls the family with Holm: adjusted p-values are at least the raw ones, and a check fails only past both limits', () => {
    const judgement = judgeInterval(interval(wrong), defaults);
    for (const item of judgement.checks) {
      if (item.pValue === null) continue;
      expect(item.adjustedP).toBeGreaterThanOrEqual(item.pValue);
      if (item.verdict === 'fail') expect((item.adjustedP ?? 1) <= item.alpha && item.effect?.exceeded).toBe(true);
    }
  });

  it('reads its limits from the spec', () => {
    const limits: JudgeLimits = judgeLimits(
      DeploymentSpec.parse({
        canary: { analysis: { falseAlarmRate: 0.05, outputs: { minOutputs: 50 } } },
        predictionDiff: { minPairs: 20 },
      }),
      { expectOutputChange: true },
    );
    expect(limits).toMatchObject({ falseAlarmRate: 0.05, outputs: { minOutputs: 50, expectChange: true, paired: { minPairs: 20 } } });
    expect(judgeLimits(DeploymentSpec.parse({ canary: { analysis: { outputs: { enabled: false } } } })).outputs).toBeNull();
  });
});

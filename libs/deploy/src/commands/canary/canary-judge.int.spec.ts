import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JudgedCheck } from '../../gates/judge/verdict';
import { type CanaryEntry, readHistory } from '../../history/history';
import { startLoad } from '../../testing/load';
import { describeWithBinary, findBinary } from '../../testing/real-tools';
import { type CliRun, StackHarness, WORKSPACE_ROOT } from '../../testing/stack-harness';
import { analysisLines } from '../../testing/canary-output';

jest.setTimeout(300_000);
const NGINX = findBinary('nginx');

/**
 * The judge on the real stack: real nginx, real colors, real models. The committed spec with two
 * changes: no probes (lowTraffic "wait", so a canary without traffic stays unjudged) and two
 * inconclusive intervals before the rollback, to keep the run short.
 */
const committed = JSON.parse(readFileSync(join(WORKSPACE_ROOT, 'deploy/deployment.json'), 'utf8'));
const SPEC = {
  ...committed,
  canary: { ...committed.canary, lowTraffic: 'wait', analysis: { ...committed.canary.analysis, maxInconclusive: 2 } },
};
const RUN = ['--color=green', '--steps=25,100', '--interval=3s', '--json'];

interface Interval {
  weight: number;
  verdict: string;
  judgement?: { verdict: string; checks: JudgedCheck[] };
}
const resultOf = (run: CliRun) =>
  run.json<{ ok: boolean; result: { kind: string; reason?: string; intervals: Interval[] }; error?: { code: string; message: string } }>();
const verdicts = (interval: Interval | undefined) =>
  Object.fromEntries((interval?.judgement?.checks ?? []).map((check) => [check.name, check.verdict]));

describeWithBinary(NGINX, 'nginx')("the canary's judge on the local stack (real nginx, real colors, real models)", () => {
  let stack: StackHarness;
  beforeAll(async () => {
    stack = await StackHarness.create('judge', { spec: SPEC });
    expect((await stack.up()).code).toBe(0);
  });
  afterAll(async () => {
    if (stack) expect(await stack.destroy()).toEqual([]);
  });
  const lastCanary = (): CanaryEntry | undefined =>
    readHistory(stack.layout.historyFile)
      .entries.filter((entry): entry is CanaryEntry => entry.command === 'canary')
      .at(-1);

  async function underLoad(run: () => Promise<CliRun>): Promise<CliRun> {
    const load = startLoad(`http://127.0.0.1:${stack.ports.router}`, { connections: 4, maxSeconds: 120 });
    try {
      await load.waitFor(200);
      return await run();
    } finally {
      await load.stop();
    }
  }

  it("given a model with v1.0.0's signature and its slope negated on green, when a canary runs under load, then it is rolled back on the answers alone while 5xx and latency pass, and the history says which check and by how much", async () => {
    expect((await stack.cli('release', '--model=models/fixtures/negated-slope/model.onnx', '--color=green')).code).toBe(0);
    const run = await underLoad(() => stack.cli('canary', ...RUN));
    const json = resultOf(run);
    console.log(`wrong model:\n${analysisLines(run.stderr).join('\n')}`);
    expect({ code: run.code, kind: json.result.kind, error: json.error?.code }).toEqual({
      code: 1,
      kind: 'rolled-back',
      error: 'CANARY_FAILED',
    });
    const failed = json.result.intervals.filter((interval) => interval.verdict === 'fail');
    expect(failed.length).toBeGreaterThanOrEqual(2);
    for (const interval of failed)
      expect(verdicts(interval)).toEqual({
        'error-share': 'pass',
        'error-ceiling': 'pass',
        latency: 'pass',
        'p99-ceiling': 'pass',
        'output-distribution': 'fail',
      });
    const entry = lastCanary();
    expect(entry).toMatchObject({ outcome: 'rolled-back', canaryVersion: 'v1.0.1', stableVersion: 'v1.0.0', weight: 0 });
    expect(entry?.reason).toMatch(
      /output-distribution FAIL: green's \d+ answers against blue's \d+: KS D 1 .*population stability index [\d.]+ \(limit 0\.1\)/,
    );
    const outputs = entry?.intervals.at(-1)?.judgement?.checks.find((check) => check.name === 'output-distribution');
    expect(outputs).toMatchObject({ verdict: 'fail', statistic: 1, effect: { exceeded: true } });
    expect(outputs?.adjustedP).toBeLessThan(0.01);
    expect(outputs?.samples.canary).toBeGreaterThanOrEqual(400);
    expect((await stack.serving()).color).toBe('blue');

    // Asked afterwards of the window the canary ran in: it would not have passed, on its answers.
    const judged = await stack.cli('judge', '--since=2m', '--color=green', '--json');
    const again = judged.json<{ result: { judgement: { verdict: string; checks: JudgedCheck[] } }; error?: { code: string } }>();
    expect({ code: judged.code, verdict: again.result.judgement.verdict, error: again.error?.code }).toEqual({
      code: 1,
      verdict: 'fail',
      error: 'JUDGE_FAILED',
    });
    expect(again.result.judgement.checks.find((check) => check.name === 'output-distribution')?.verdict).toBe('fail');
  });

  it('given an honest copy of v1.0.0 under a new version on green, when a canary runs under load, then it is promoted', async () => {
    expect((await stack.cli('release', '--model=models/fixtures/honest-copy/model.onnx', '--color=green')).code).toBe(0);
    const run = await underLoad(() => stack.cli('canary', ...RUN));
    const json = resultOf(run);
    console.log(`honest copy:\n${analysisLines(run.stderr).join('\n')}`);
    expect({ code: run.code, kind: json.result.kind }).toEqual({ code: 0, kind: 'promoted' });
    const passed = json.result.intervals.filter((interval) => interval.verdict === 'pass');
    expect(verdicts(passed.at(-1))).toMatchObject({ 'output-distribution': 'pass' });
    expect((await stack.serving()).version).toBe('v1.0.2');
    expect((await stack.cli('rollback')).code).toBe(0);
  });

  it('given no traffic and no probes, then every interval is inconclusive and the canary is never promoted', async () => {
    const run = await stack.cli('canary', ...RUN);
    const json = resultOf(run);
    expect({ code: run.code, kind: json.result.kind }).toEqual({ code: 1, kind: 'rolled-back' });
    expect(json.result.intervals.map((interval) => interval.verdict)).toEqual(['inconclusive', 'inconclusive']);
    expect(json.result.reason).toContain('too little traffic is never a pass');
    expect(lastCanary()?.outcome).toBe('rolled-back');
    expect((await stack.serving()).color).toBe('blue');
  });
});

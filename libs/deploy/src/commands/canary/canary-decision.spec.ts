import { START, decide, stepsFrom } from './canary-decision';

const limits = { failureLimit: 2, maxInconclusive: 3 };
const steps = [5, 25, 50, 100];

describe('the canary state machine', () => {
  it('advances step by step on passing intervals and promotes when the next step is 100', () => {
    let position = START;
    const decisions: string[] = [];
    for (let index = 0; index < 3; index += 1) {
      const next = decide(steps, position, 'pass', limits);
      decisions.push(next.decision.kind === 'advance' ? `advance ${next.decision.weight}` : next.decision.kind);
      position = next.position;
    }
    expect(decisions).toEqual(['advance 25', 'advance 50', 'promote']);
  });

  it('holds on a failure under the limit and rolls back when the failures in a row reach it; a pass resets the streak', () => {
    const first = decide(steps, START, 'fail', limits);
    expect(first.decision).toEqual({ kind: 'hold', why: 'failed interval 1 of 2 allowed in a row' });
    expect(decide(steps, first.position, 'fail', limits).decision).toEqual({
      kind: 'rollback',
      why: 'the analysis failed 2 interval(s) in a row (the failure limit is 2)',
    });
    const passed = decide(steps, first.position, 'pass', limits);
    expect(passed.position).toEqual({ step: 1, failedInARow: 0, inconclusiveInARow: 0 });
  });

  it('never passes an interval with too little traffic: it holds, and rolls back after too many', () => {
    let position = START;
    const kinds: string[] = [];
    for (let index = 0; index < 3; index += 1) {
      const next = decide(steps, position, 'inconclusive', limits);
      kinds.push(next.decision.kind);
      position = next.position;
    }
    expect(kinds).toEqual(['hold', 'hold', 'rollback']);
    expect(position.step).toBe(0);
  });

  it('resumes at the weight it was interrupted at, then the steps above it', () => {
    expect(stepsFrom(steps)).toEqual([5, 25, 50, 100]);
    expect(stepsFrom(steps, 25)).toEqual([25, 50, 100]);
    expect(stepsFrom(steps, 30)).toEqual([30, 50, 100]);
  });
});

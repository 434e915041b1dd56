import type { Verdict } from '../../gates/judge/verdict';
import { type GateResult, failed, passed } from '../../gates/gate';
import type { CanaryInterval } from '../../history/history';
import {
  type CanaryCourse,
  type CanaryEvent,
  type CanaryPhase,
  START,
  canaryRoutes,
  nextPhase,
  routesBefore,
  splitOf,
  stepsFrom,
} from './canary-phase';

const COURSE: CanaryCourse = {
  stable: 'blue',
  canary: 'green',
  steps: [5, 25, 50, 100],
  keep: false,
  limits: { failureLimit: 2, maxInconclusive: 3 },
};
const health = passed('health-streak', 'green answered 3 times', '3 answers');
const preflightPassed: CanaryEvent = { kind: 'preflight-passed', stableVersion: 'v1.0.0', canaryVersion: 'v1.1.0', gates: [health] };
const moved = (at = 0): CanaryEvent => ({ kind: 'moved', at });

function interval(weight: number, verdict: Verdict): CanaryInterval {
  const sample = (color: 'blue' | 'green') => ({ color, requests: 200, errors: 0, errorRate: 0, p99Ms: 3, metrics: null });
  const checks: GateResult[] =
    verdict === 'pass'
      ? [passed('error-rate', 'green answered 0 of 200 with 5xx', 'at most 1.00% 5xx')]
      : verdict === 'fail'
        ? [failed('error-rate', 'green answered 50 of 200 with 5xx (25.00%)', 'at most 1.00% 5xx', 'look at green')]
        : [failed('traffic-canary', '3 requests to green (canary): too little traffic to judge', 'at least 100 requests', 'send traffic')];
  return {
    weight,
    startedAt: '2026-12-01T10:00:00.000Z',
    durationMs: 30_000,
    verdict,
    canary: sample('green'),
    stable: sample('blue'),
    probesSent: 0,
    checks,
  };
}
const analysed = (weight: number, verdict: Verdict): CanaryEvent => ({ kind: 'analysed', interval: interval(weight, verdict) });

/** The phase a course is in after `events`, from its start. */
function after(events: readonly CanaryEvent[], course: CanaryCourse = COURSE): CanaryPhase {
  return events.reduce<CanaryPhase>((phase, event) => nextPhase(course, phase, event), START);
}
/** The phases a course goes through on `events`, by kind (with the weight where it has one). */
function path(events: readonly CanaryEvent[], course: CanaryCourse = COURSE): string[] {
  const phases: CanaryPhase[] = [START];
  for (const event of events) phases.push(nextPhase(course, phases.at(-1) ?? START, event));
  return phases.map((phase) =>
    phase.kind === 'done'
      ? `done ${phase.end.outcome} at ${phase.end.weight}%`
      : phase.kind === 'preflight'
        ? 'preflight'
        : `${phase.kind}${phase.kind === 'move' ? ` to ${phase.target}%` : ` at ${phase.weight}%`}`,
  );
}
const atFirstStep = [preflightPassed, { kind: 'warmed-up' }, moved()] as const;

describe('the canary phases', () => {
  describe('the preflight', () => {
    it('given a fresh start, when the preflight passes, then the canary warms up at 0% with the versions and gates it found', () => {
      expect(after([preflightPassed])).toEqual({
        kind: 'warm-up',
        weight: 0,
        step: 0,
        failedInARow: 0,
        inconclusiveInARow: 0,
        stableVersion: 'v1.0.0',
        canaryVersion: 'v1.1.0',
        gates: [health],
        intervals: [],
      });
    });

    it('given a fresh start, when the preflight fails, then it ends refused with all traffic where it was', () => {
      const refusal = failed('health-streak', 'green /health answered 503', '200', 'start green');
      expect(
        after([
          {
            kind: 'preflight-failed',
            reason: 'green /health answered 503',
            stableVersion: 'v1.0.0',
            canaryVersion: null,
            gates: [refusal],
          },
        ]),
      ).toEqual({
        kind: 'done',
        end: {
          outcome: 'refused',
          weight: 0,
          routes: { live: { blue: 100, green: 0 }, preview: { blue: 0, green: 100 } },
          stableVersion: 'v1.0.0',
          canaryVersion: null,
          gates: [refusal],
          intervals: [],
          reason: 'green /health answered 503',
        },
      });
    });

    it('given a canary resumed at 25%, when the preflight fails, then it ends refused with the split it found', () => {
      const resumed = { ...COURSE, resumedAt: 25 };
      expect(
        after([{ kind: 'preflight-failed', reason: 'no', stableVersion: null, canaryVersion: null, gates: [] }], resumed),
      ).toMatchObject({
        kind: 'done',
        end: { outcome: 'refused', weight: 25, routes: canaryRoutes('green', 25) },
      });
    });

    it('given a canary resumed at 25% (never analysed there), when the preflight passes, then it skips the warm-up and watches 25% first', () => {
      const resumed = { ...COURSE, resumedAt: 25 };
      expect(after([preflightPassed], resumed)).toMatchObject({ kind: 'observe', weight: 25, step: 0 });
      expect(
        path([preflightPassed, analysed(25, 'pass'), moved(), analysed(50, 'pass'), moved(), { kind: 'verified', gate: health }], resumed),
      ).toEqual([
        'preflight',
        'observe at 25%',
        'move to 50%',
        'observe at 50%',
        'promote at 50%',
        'verify at 100%',
        'done promoted at 100%',
      ]);
    });

    it('given a canary resumed at a weight between steps, then it watches that weight, then goes on with the steps above it', () => {
      const resumed = { ...COURSE, resumedAt: 30 };
      expect(path([preflightPassed, analysed(30, 'pass'), moved()], resumed)).toEqual([
        'preflight',
        'observe at 30%',
        'move to 50%',
        'observe at 50%',
      ]);
    });
  });

  describe('the warm-up', () => {
    it('when it is done, then the canary moves to the first step', () => {
      expect(after([preflightPassed, { kind: 'warmed-up' }])).toMatchObject({ kind: 'move', target: 5, step: 0, weight: 0 });
    });

    it('given steps of 100 only, when it is done, then the canary is promoted at once', () => {
      expect(after([preflightPassed, { kind: 'warmed-up' }], { ...COURSE, steps: [100] })).toMatchObject({
        kind: 'promote',
        why: 'the last step is 100%',
      });
    });

    it('when a stop signal came during it, then the canary ends stopped before anything moved', () => {
      expect(after([preflightPassed, { kind: 'stop-requested' }])).toMatchObject({
        kind: 'done',
        end: {
          outcome: 'stopped',
          weight: 0,
          routes: { live: { blue: 100, green: 0 } },
          reason: 'stopped by a signal before the first step',
        },
      });
    });
  });

  describe('a step', () => {
    it('when the route moved, then the interval at the new weight is watched', () => {
      expect(after(atFirstStep)).toMatchObject({ kind: 'observe', weight: 5, step: 0 });
      expect(after(atFirstStep)).not.toHaveProperty('held');
    });

    it('when the route could not move, then all traffic goes back to the stable color', () => {
      expect(after([preflightPassed, { kind: 'warmed-up' }, { kind: 'move-failed', reason: 'EACCES' }])).toMatchObject({
        kind: 'back-to-stable',
        outcome: 'rolled-back',
        reason: 'moving green to 5% failed: EACCES',
        weight: 0,
      });
    });
  });

  describe('an interval', () => {
    it('given passing intervals, then the canary climbs step by step and is promoted when the next step is 100', () => {
      const events = [...atFirstStep, analysed(5, 'pass'), moved(), analysed(25, 'pass'), moved(), analysed(50, 'pass')];
      expect(path(events).slice(3)).toEqual([
        'observe at 5%',
        'move to 25%',
        'observe at 25%',
        'move to 50%',
        'observe at 50%',
        'promote at 50%',
      ]);
      expect(after(events)).toMatchObject({ kind: 'promote', why: 'every step passed its analysis', step: 3 });
      expect(after(events)).toMatchObject({ intervals: [{ weight: 5 }, { weight: 25 }, { weight: 50 }] });
    });

    it('given a failed interval under the failure limit, then the weight is held and says why', () => {
      expect(after([...atFirstStep, analysed(5, 'fail')])).toMatchObject({
        kind: 'observe',
        weight: 5,
        failedInARow: 1,
        held: 'failed interval 1 of 2 allowed in a row',
      });
    });

    it('given failed intervals reaching the failure limit, then it rolls back, naming each failed check with its numbers', () => {
      expect(after([...atFirstStep, analysed(5, 'fail'), analysed(5, 'fail')])).toMatchObject({
        kind: 'back-to-stable',
        outcome: 'rolled-back',
        reason:
          'the analysis failed 2 interval(s) in a row (the failure limit is 2): error-rate: green answered 50 of 200 with 5xx (25.00%) (expected at most 1.00% 5xx)',
        weight: 5,
      });
    });

    it('given a failure, then a pass resets the streak: failures must be in a row', () => {
      const events = [...atFirstStep, analysed(5, 'fail'), analysed(5, 'pass'), moved(), analysed(25, 'fail')];
      expect(after(events)).toMatchObject({ kind: 'observe', weight: 25, failedInARow: 1 });
    });

    it('given an inconclusive interval between failures, then it neither resets the failures nor counts as one', () => {
      const events = [...atFirstStep, analysed(5, 'fail'), analysed(5, 'inconclusive')];
      expect(after(events)).toMatchObject({ kind: 'observe', failedInARow: 1, inconclusiveInARow: 1 });
      expect(after([...events, analysed(5, 'fail')])).toMatchObject({ kind: 'back-to-stable', outcome: 'rolled-back' });
    });

    it('given a judged interval, then the inconclusive streak starts over: only inconclusive intervals in a row reach maxInconclusive', () => {
      const events = [
        ...atFirstStep,
        analysed(5, 'inconclusive'),
        analysed(5, 'inconclusive'),
        analysed(5, 'fail'),
        analysed(5, 'inconclusive'),
      ];
      expect(after(events)).toMatchObject({ kind: 'observe', inconclusiveInARow: 1, held: expect.stringContaining('interval 1 of 3') });
    });

    it('given too little traffic, then the interval is never a pass: the weight is held, then rolled back at maxInconclusive', () => {
      const inconclusive = [...atFirstStep, analysed(5, 'inconclusive'), analysed(5, 'inconclusive')];
      expect(after(inconclusive)).toMatchObject({
        kind: 'observe',
        weight: 5,
        inconclusiveInARow: 2,
        held: 'too little traffic to judge (interval 2 of 3 allowed in a row); holding the weight',
      });
      expect(after([...inconclusive, analysed(5, 'inconclusive')])).toMatchObject({
        kind: 'back-to-stable',
        outcome: 'rolled-back',
        reason:
          '3 interval(s) in a row had too little traffic to judge the canary (the limit is 3); too little traffic is never a pass: traffic-canary: 3 requests to green (canary): too little traffic to judge (expected at least 100 requests)',
      });
    });

    it('given onInconclusive "hold", when maxInconclusive is reached, then the weight is held (never promoted) until an interval is judged', () => {
      const holding = { ...COURSE, limits: { ...COURSE.limits, onInconclusive: 'hold' as const } };
      const events = [...atFirstStep, ...Array.from({ length: 4 }, () => analysed(5, 'inconclusive'))];
      expect(after(events, holding)).toMatchObject({
        kind: 'observe',
        weight: 5,
        inconclusiveInARow: 4,
        held: expect.stringContaining(
          '4 interval(s) in a row had too little traffic to judge the canary (the limit is 3); onInconclusive is "hold"',
        ),
      });
      expect(after([...events, analysed(5, 'pass')], holding)).toMatchObject({ kind: 'move', target: 25, inconclusiveInARow: 0 });
    });

    it('given a stop signal mid-interval, then all traffic goes back to the stable color', () => {
      expect(after([...atFirstStep, analysed(5, 'pass'), moved(), { kind: 'stop-requested' }])).toMatchObject({
        kind: 'back-to-stable',
        outcome: 'stopped',
        reason: 'stopped by a signal at 25%',
        weight: 25,
      });
    });

    it('given a stop signal mid-interval with --keep, then the canary ends kept at its weight', () => {
      expect(after([...atFirstStep, { kind: 'stop-requested' }], { ...COURSE, keep: true })).toMatchObject({
        kind: 'done',
        end: {
          outcome: 'kept',
          weight: 5,
          routes: canaryRoutes('green', 5),
          reason: 'stopped by a signal (--keep)',
          recordedReason: 'stopped by a signal; --keep left the weight as it was',
        },
      });
    });

    it('given a promote signal mid-interval, then the canary is promoted at once', () => {
      expect(after([...atFirstStep, { kind: 'promote-requested' }])).toMatchObject({
        kind: 'promote',
        why: 'asked by deploy:promote',
        weight: 5,
      });
    });
  });

  describe('the promotion', () => {
    const promoting = [...atFirstStep, { kind: 'promote-requested' }] as const;

    it('when the route moved, then nginx is verified to serve the canary, from the time of the move', () => {
      expect(after([...promoting, moved(1_234)])).toMatchObject({ kind: 'verify', weight: 100, movedAt: 1_234 });
    });

    it('when the route could not move, then all traffic goes back to the stable color', () => {
      expect(after([...promoting, { kind: 'move-failed', reason: 'EROFS' }])).toMatchObject({
        kind: 'back-to-stable',
        outcome: 'rolled-back',
        reason: 'the promotion failed: EROFS',
        weight: 5,
      });
    });

    it('when nginx serves the canary, then it ends promoted with the verification among its gates', () => {
      const router = passed('router-serves-target', 'green v1.1.0', 'green v1.1.0');
      expect(after([...promoting, moved(), { kind: 'verified', gate: router }])).toEqual({
        kind: 'done',
        end: {
          outcome: 'promoted',
          weight: 100,
          routes: { live: { blue: 0, green: 100 }, preview: { blue: 100, green: 0 } },
          stableVersion: 'v1.0.0',
          canaryVersion: 'v1.1.0',
          gates: [health, router],
          intervals: [],
        },
      });
    });

    it('when nginx does not serve the canary after the promotion, then all traffic goes back to the stable color, the failed check recorded', () => {
      const router = failed('router-serves-target', 'nginx answered blue v1.0.0', 'green v1.1.0', 'check nginx');
      expect(after([...promoting, moved(), { kind: 'verify-failed', gate: router }])).toMatchObject({
        kind: 'back-to-stable',
        outcome: 'rolled-back',
        reason: 'after the promotion nginx answered blue v1.0.0',
        weight: 100,
        gates: [health, router],
      });
    });
  });

  describe('back to the stable color', () => {
    const rollingBack = [...atFirstStep, analysed(5, 'fail'), analysed(5, 'fail')];

    it('when the route moved back, then it ends with the outcome that sent it back, all traffic on the stable color', () => {
      expect(after([...rollingBack, moved()])).toMatchObject({
        kind: 'done',
        end: {
          outcome: 'rolled-back',
          weight: 0,
          routes: { live: { blue: 100, green: 0 }, preview: { blue: 0, green: 100 } },
          reason: expect.stringContaining('the analysis failed 2 interval(s) in a row'),
          intervals: [{ verdict: 'fail' }, { verdict: 'fail' }],
        },
      });
      expect(after([...atFirstStep, { kind: 'stop-requested' }, moved()])).toMatchObject({
        kind: 'done',
        end: { outcome: 'stopped', weight: 0 },
      });
    });

    it('when even that move fails, then it ends broken at the weight it had, saying both failures', () => {
      expect(after([...rollingBack, { kind: 'move-failed', reason: 'EIO' }])).toMatchObject({
        kind: 'done',
        end: {
          outcome: 'broken',
          weight: 5,
          routes: canaryRoutes('green', 5),
          reason: expect.stringMatching(/^the analysis failed 2 interval\(s\) in a row .*; moving the traffic back to blue failed: EIO$/),
        },
      });
    });
  });

  it('refuses an event that can not happen in a phase (a bug in the driver)', () => {
    expect(() => nextPhase(COURSE, START, { kind: 'warmed-up' })).toThrow('canary: event "warmed-up" can not happen in phase "preflight"');
    expect(() => after([preflightPassed, { kind: 'analysed', interval: interval(5, 'pass') }])).toThrow(
      'event "analysed" can not happen in phase "warm-up"',
    );
    expect(() => after([...atFirstStep, { kind: 'warmed-up' }])).toThrow('in phase "observe"');
    expect(() => after([...atFirstStep, { kind: 'promote-requested' }, { kind: 'stop-requested' }])).toThrow('in phase "promote"');
    expect(() => after([...atFirstStep, { kind: 'promote-requested' }, moved(), moved()])).toThrow('in phase "verify"');
    const ended = after([preflightPassed, { kind: 'stop-requested' }]);
    expect(() => nextPhase(COURSE, ended, moved())).toThrow('in phase "done"');
  });
});

describe('the steps and routes of a canary', () => {
  it('resumes at the weight it was interrupted at, then the steps above it', () => {
    expect(stepsFrom([5, 25, 50, 100])).toEqual([5, 25, 50, 100]);
    expect(stepsFrom([5, 25, 50, 100], 25)).toEqual([25, 50, 100]);
    expect(stepsFrom([5, 25, 50, 100], 30)).toEqual([30, 50, 100]);
  });

  it('knows the routes before a run: all on the stable color, or the split it resumes', () => {
    expect(routesBefore(COURSE)).toEqual({ live: { blue: 100, green: 0 }, preview: { blue: 0, green: 100 } });
    expect(routesBefore({ ...COURSE, stable: 'green', canary: 'blue', resumedAt: 25 })).toEqual({
      live: { blue: 25, green: 75 },
      preview: { blue: 100, green: 0 },
    });
  });

  it('reads a split live route as a canary in progress (the larger share is the stable color), and a whole one as none', () => {
    expect(splitOf(canaryRoutes('green', 25))).toEqual({ stable: 'blue', canary: 'green', weight: 25 });
    expect(splitOf(canaryRoutes('blue', 40))).toEqual({ stable: 'green', canary: 'blue', weight: 40 });
    expect(splitOf(routesBefore(COURSE))).toBeUndefined();
  });
});

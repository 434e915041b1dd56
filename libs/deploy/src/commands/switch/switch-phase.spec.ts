import { type GateResult, passed as gatePassed } from '../../gates/gate';
import { type SwitchEvent, type SwitchPhase, nextPhase, startSwitch } from './switch-phase';

const ok = (name: string): GateResult => gatePassed(name, 'seen', 'wanted');
const passed: SwitchEvent = { kind: 'preflight-passed', fromVersion: 'v1.0.0', toVersion: 'v1.1.0', gates: [ok('health-streak')] };

function run(events: SwitchEvent[]): SwitchPhase {
  return events.reduce<SwitchPhase>((phase, event) => nextPhase(phase, event), startSwitch('blue', 'green'));
}

describe('the switch phases', () => {
  it('go preflight -> flip -> verify -> switched, collecting the checks', () => {
    expect(run([passed, { kind: 'flipped' }, { kind: 'verified', gates: [ok('router')] }])).toEqual({
      kind: 'done',
      outcome: {
        kind: 'switched',
        from: 'blue',
        to: 'green',
        fromVersion: 'v1.0.0',
        toVersion: 'v1.1.0',
        gates: [ok('health-streak'), ok('router')],
      },
    });
  });

  it('end refused when the preflight fails: the route never moves', () => {
    const phase = run([{ kind: 'preflight-failed', reason: 'green /health answered 503', fromVersion: null, toVersion: null, gates: [] }]);
    expect(phase).toMatchObject({ kind: 'done', outcome: { kind: 'refused', reason: 'green /health answered 503' } });
  });

  it('revert after a failed verification, and end reverted', () => {
    const reverting = run([passed, { kind: 'flipped' }, { kind: 'verify-failed', reason: 'nginx answered blue', gates: [] }]);
    expect(reverting).toMatchObject({ kind: 'revert', failure: 'nginx answered blue' });
    expect(nextPhase(reverting, { kind: 'reverted' })).toMatchObject({
      kind: 'done',
      outcome: { kind: 'reverted', reason: 'nginx answered blue', from: 'blue', to: 'green' },
    });
  });

  it('revert when the flip itself fails, and end broken when moving back fails too', () => {
    const reverting = run([passed, { kind: 'flip-failed', reason: 'EACCES' }]);
    expect(reverting).toMatchObject({ kind: 'revert', failure: 'could not move the live route: EACCES' });
    expect(nextPhase(reverting, { kind: 'revert-failed', reason: 'EROFS' })).toMatchObject({
      kind: 'done',
      outcome: { kind: 'broken', reason: 'could not move the live route: EACCES', revertError: 'EROFS' },
    });
  });

  it('refuse an event that can not happen in a phase (a bug in the driver)', () => {
    expect(() => nextPhase(startSwitch('blue', 'green'), { kind: 'flipped' })).toThrow(
      'event "flipped" can not happen in phase "preflight"',
    );
    const done = run([passed, { kind: 'flipped' }, { kind: 'verified', gates: [] }]);
    expect(() => nextPhase(done, { kind: 'reverted' })).toThrow('phase "done"');
  });
});

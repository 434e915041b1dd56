import type { Color, SwitchOutcome } from '@mlbg/contract';
import type { GateResult } from '../../gates/gate';

interface Move {
  readonly from: Color;
  readonly to: Color;
}
interface Versions {
  readonly fromVersion: string | null;
  readonly toVersion: string | null;
  /** The gates run so far, in order: the summary, `--json` and the history show them. */
  readonly gates: GateResult[];
}

/**
 * Where a switch is. Each phase's effect is performed by the driver (`switch.ts`), which reports
 * a {@link SwitchEvent}; {@link nextPhase} decides what comes next. The live route only moves in
 * `flip` and `revert`, so `refused` means nothing changed.
 */
export type SwitchPhase =
  | ({ readonly kind: 'preflight' } & Move)
  | ({ readonly kind: 'flip' } & Move & Versions)
  | ({ readonly kind: 'verify' } & Move & Versions)
  | ({ readonly kind: 'revert'; readonly failure: string } & Move & Versions)
  | { readonly kind: 'done'; readonly outcome: SwitchOutcome };

/** What performing a phase's effect produced. */
export type SwitchEvent =
  | ({ readonly kind: 'preflight-passed' } & Versions)
  | ({ readonly kind: 'preflight-failed'; readonly reason: string; readonly stateNotWritable?: true } & Versions)
  | { readonly kind: 'flipped' }
  | { readonly kind: 'flip-failed'; readonly reason: string }
  /** The backend could not record the move (a full or read-only state folder) and moved nothing. */
  | { readonly kind: 'flip-refused'; readonly reason: string }
  | { readonly kind: 'verified'; readonly gates: readonly GateResult[] }
  | { readonly kind: 'verify-failed'; readonly reason: string; readonly gates: readonly GateResult[] }
  | { readonly kind: 'reverted' }
  | { readonly kind: 'revert-failed'; readonly reason: string };

/** How a switch that got past planning ended (the contract's: `--json` carries it); the same words go to the history log. */
export type { SwitchOutcome } from '@mlbg/contract';

/** The first phase of a switch from the live color to another. */
export function startSwitch(from: Color, to: Color): SwitchPhase {
  return { kind: 'preflight', from, to };
}

/** The switch's transition function. Pure; an event that can not happen in a phase is a bug and throws. */
export function nextPhase(phase: SwitchPhase, event: SwitchEvent): SwitchPhase {
  switch (phase.kind) {
    case 'preflight': {
      const move = { from: phase.from, to: phase.to };
      if (event.kind === 'preflight-passed') return { kind: 'flip', ...move, ...versionsOf(event) };
      if (event.kind === 'preflight-failed')
        return done({
          kind: 'refused',
          ...move,
          ...versionsOf(event),
          reason: event.reason,
          ...(event.stateNotWritable ? { stateNotWritable: true } : {}),
        });
      break;
    }
    case 'flip': {
      if (event.kind === 'flipped') return { ...phase, kind: 'verify' };
      if (event.kind === 'flip-failed') return { ...phase, kind: 'revert', failure: `could not move the live route: ${event.reason}` };
      if (event.kind === 'flip-refused') return done({ ...phase, kind: 'refused', reason: event.reason, stateNotWritable: true });
      break;
    }
    case 'verify': {
      if (event.kind === 'verified') return done({ ...phase, kind: 'switched', gates: [...phase.gates, ...event.gates] });
      if (event.kind === 'verify-failed')
        return { ...phase, kind: 'revert', failure: event.reason, gates: [...phase.gates, ...event.gates] };
      break;
    }
    case 'revert': {
      const { failure, ...rest } = phase;
      if (event.kind === 'reverted') return done({ ...rest, kind: 'reverted', reason: failure });
      if (event.kind === 'revert-failed') return done({ ...rest, kind: 'broken', reason: failure, revertError: event.reason });
      break;
    }
    case 'done':
      break;
    default: {
      const unreachable: never = phase;
      return unreachable;
    }
  }
  throw new Error(`switch: event "${event.kind}" can not happen in phase "${phase.kind}"`);
}

function versionsOf(event: Versions): Versions {
  return { fromVersion: event.fromVersion, toVersion: event.toVersion, gates: event.gates };
}

function done(outcome: SwitchOutcome): SwitchPhase {
  return { kind: 'done', outcome };
}

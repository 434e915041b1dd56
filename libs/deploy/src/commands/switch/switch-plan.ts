import { type Color, otherColor } from '@mlbg/contract';
import { type BackendKind, type HistoryEntry, type MoveEntry, lastSuccessfulSwitch } from '../../history/history';

/** What a switch request means given the live color. */
export type SwitchPlan =
  { readonly kind: 'noop'; readonly color: Color } | { readonly kind: 'switch'; readonly from: Color; readonly to: Color };

/** `requested` undefined = toggle, like the original `switch_traffic.sh`. Pure. */
export function planSwitch(live: Color, requested?: Color): SwitchPlan {
  const to = requested ?? otherColor(live);
  return to === live ? { kind: 'noop', color: live } : { kind: 'switch', from: live, to };
}

/** What a rollback means given the history and the live color. */
export type RollbackPlan =
  | { readonly kind: 'nothing'; readonly reason: string }
  | { readonly kind: 'noop'; readonly color: Color; readonly basedOn: MoveEntry }
  | {
      readonly kind: 'switch';
      readonly from: Color;
      readonly to: Color;
      /** The version the target served before the last switch; the preflight insists on it. */
      readonly expectVersion: string | undefined;
      readonly basedOn: MoveEntry;
    };

/**
 * A rollback returns to the color that was live before the last successful switch on `target`,
 * and only if it still runs the version it ran then. Pure.
 */
export function planRollback(entries: readonly HistoryEntry[], target: BackendKind, live: Color): RollbackPlan {
  const last = lastSuccessfulSwitch(entries, target);
  if (!last) return { kind: 'nothing', reason: `the history has no successful switch on the ${target} stack yet` };
  if (last.from === live) return { kind: 'noop', color: live, basedOn: last };
  return { kind: 'switch', from: live, to: last.from, expectVersion: last.fromVersion ?? undefined, basedOn: last };
}

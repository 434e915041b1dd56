import { type Color, ROUTE_MOVE_BOUND_MS, otherColor } from '@mlbg/contract';
import { answeredBy, judgeHealth, noAnswer } from '../../effects/service-client';
import { DEFAULT_SWITCH_TIMING, type GateResult, failed, passed } from '../../gates';
import type { CommandContext } from '../context';

/**
 * How long after a move nginx may still answer from the previous color: a kept connection to it
 * carries at most one more request once the color has seen its link move, and nginx closes an idle
 * one after its keepalive timeout (ROUTE_MOVE_BOUND_MS), plus a margin for a busy machine.
 */
export const KEPT_CONNECTION_GRACE_MS = ROUTE_MOVE_BOUND_MS + 1_000;

/**
 * After a move: nginx's route answers as its new color, with its version, several times in a row.
 * Answers from the color it had before are expected for a moment (kept connections retire one
 * request each), and count as a failure only after KEPT_CONNECTION_GRACE_MS. A null `toVersion`
 * (not recorded) accepts any version of `to`. The one check for every command that moves a route
 * (switch, rollback, a canary's promotion).
 */
export async function verifyRoute(
  context: CommandContext,
  route: 'live' | 'preview',
  to: Color,
  toVersion: string | null,
): Promise<GateResult> {
  const { backend, clock } = context;
  const timing = context.timing ?? DEFAULT_SWITCH_TIMING;
  const name = route === 'live' ? 'router-serves-target' : 'preview-serves-idle';
  const url = route === 'live' ? `${backend.routerUrl}/health` : `${backend.routerUrl} preview route's /health`;
  const expected = `${url} answers ${to} ${toVersion}, ${timing.verifyChecks} times in a row within ${KEPT_CONNECTION_GRACE_MS} ms`;
  const hint = `Check nginx and both colors with deploy:status and nginx's log; the live route was moved back.`;
  const began = clock.now();
  let streak = 0;
  let fromPrevious = 0;
  for (let check = 1; streak < timing.verifyChecks; check += 1) {
    const result = await backend.routerHealth(route).then(judgeHealth, noAnswer);
    const where = `through nginx, ${url} (check ${check})`;
    if (result.kind !== 'ok') return failed(name, `${where} ${result.problem}`, expected, hint);
    const color = answeredBy(result);
    if (color === to && (toVersion === null || result.health.version === toVersion)) {
      streak += 1;
    } else if (color === otherColor(to) && clock.now() - began < KEPT_CONNECTION_GRACE_MS) {
      streak = 0; // a kept connection to the previous color, retired by this very answer
      fromPrevious += 1;
    } else {
      return failed(name, `${where} answered ${color} ${result.health.version}, expected ${to} ${toVersion}`, expected, hint);
    }
    if (streak < timing.verifyChecks) await clock.sleep(timing.verifyIntervalMs);
  }
  const retired = fromPrevious > 0 ? ` (after ${fromPrevious} answer(s) from ${otherColor(to)} on kept connections)` : '';
  return passed(name, `through nginx: ${url} answers ${to} ${toVersion}, ${timing.verifyChecks} times in a row${retired}`, expected);
}

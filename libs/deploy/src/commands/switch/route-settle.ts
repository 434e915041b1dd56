import { ROUTE_MOVE_BOUND_MS } from '@mlbg/contract';
import type { CommandContext } from '../context';

/**
 * A route move is complete for every new request only once the connections nginx keeps to the old
 * color have retired: within ROUTE_MOVE_BOUND_MS of the rename (a busy one after one more answer,
 * an idle one when nginx's keepalive timeout closes it). The verification through nginx retires
 * only the connections it happens to use, so a command that moved a route waits out the rest of
 * the bound before it says "done": a request sent after it returns reaches the new color.
 */
export async function settleRouteMove(context: Pick<CommandContext, 'clock' | 'progress'>, movedAt: number): Promise<void> {
  const left = movedAt + ROUTE_MOVE_BOUND_MS - context.clock.now();
  if (left <= 0) return;
  context.progress(`waiting ${Math.ceil(left)} ms for the connections nginx kept to the previous color to retire`);
  await context.clock.sleep(left);
}

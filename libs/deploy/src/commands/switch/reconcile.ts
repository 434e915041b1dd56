import type { HistoryEntry } from '../../history/history';
import { mainTarget, routesWithLive } from '../../routing/routes';
import { DeployError, isNotWritable } from '../../errors';
import { type CommandContext, historyStamp, reasonOf } from '../context';

type Intent = Extract<HistoryEntry, { command: 'switch-intent' }>;

/** The last switch whose intent was recorded but whose outcome never was (its command was killed). Pure. */
export function unsettledIntent(entries: readonly HistoryEntry[], backend: HistoryEntry['backend']): Intent | undefined {
  const ours = entries.filter((entry) => entry.backend === backend);
  for (let index = ours.length - 1; index >= 0; index -= 1) {
    const entry = ours[index] as HistoryEntry;
    if (entry.command === 'switch' || entry.command === 'rollback' || entry.command === 'reconcile') return undefined;
    if (entry.command === 'switch-intent') return entry;
  }
  return undefined;
}

/**
 * A switch records its intent before it moves a route, and its outcome after. When the command
 * was killed in between, the next command that changes routes (holding the lock) settles it from
 * what the router really does: the route had moved or it had not; the state is made to agree with
 * the router (the links are what nginx follows), and a `reconcile` line closes the intent.
 * Returns what it found, for the command's progress.
 */
export async function settleInterruptedSwitch(context: CommandContext): Promise<string | undefined> {
  const intent = unsettledIntent((await context.history.read()).entries, context.backend.kind);
  if (!intent) return undefined;
  const started = context.clock.now();
  const routes = await context.backend.readRoutes();
  const live = mainTarget(routes.live);
  const flipped = live === intent.to;
  await context.backend.setRoutes(flipped ? routesWithLive(intent.to) : routes);
  try {
    await context.history.append({
      ...historyStamp(context, started),
      command: 'reconcile',
      from: intent.from,
      to: intent.to,
      outcome: flipped ? 'flipped' : 'not-flipped',
      routes: flipped ? routesWithLive(intent.to) : routes,
      reason: `the command that began this switch at ${intent.time} was stopped (or could not write the state folder) before it recorded how it ended`,
    });
  } catch (error) {
    if (!isNotWritable(error)) throw error;
    throw new DeployError(
      'STATE_NOT_WRITABLE',
      `${context.history.where}: ${reasonOf(error)}. An earlier switch ${intent.from} -> ${intent.to} is still to be recorded (${live} is live and the state says so); nothing else was done.`,
    );
  }
  const note = flipped
    ? `An earlier switch ${intent.from} -> ${intent.to} (${intent.time}) was interrupted after the route moved: ${intent.to} is live; the state and the history now say so (it was not verified through nginx by that command; \`deploy:status\` shows what is served).`
    : `An earlier switch ${intent.from} -> ${intent.to} (${intent.time}) was interrupted before the route moved: ${live} stays live; the history now says so.`;
  context.progress(note);
  return note;
}

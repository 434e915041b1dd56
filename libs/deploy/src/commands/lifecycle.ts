import type { BackendStatus, DownRequest, DownResult, ReleaseRequest, ReleaseResult, UpRequest, UpResult } from '../backends/backend';
import { DeployError } from '../errors';
import { withStackLock } from '../effects/lock';
import { type HistoryEntry, type HistoryInput, type MoveEntry, appendHistory, lastAttempt, lastEntry, lastSuccessfulSwitch, readHistory, skippedLinesNote } from '../history/history';
import { type CommandContext, reasonOf } from './context';

/** How long `down` waits for a switch in progress to finish before it is refused. */
const DOWN_LOCK_WAIT_MS = 15_000;

/**
 * `deploy:up`: starts the backend's stack (or says it is already up and changes nothing), under
 * the lock, and records it.
 */
export function upStack(context: CommandContext, request: UpRequest): Promise<UpResult> {
  return recorded(context, 'up', {}, async (record) => {
    const result = await context.backend.up(request);
    if (result.kind === 'started') {
      const color = (name: 'blue' | 'green') => ({ model: result.colors[name].model, version: result.colors[name].version, sha256: result.colors[name].modelSha256 });
      record({ command: 'up', outcome: 'started', live: result.live, colors: { blue: color('blue'), green: color('green') } });
    }
    return result;
  }, (reason) => ({ command: 'up', outcome: 'failed', live: null, colors: null, reason }));
}

/** `deploy:down`: stops what `up` started; waits a little for a switch in progress. */
export function downStack(context: CommandContext, request: DownRequest): Promise<DownResult> {
  return recorded(context, 'down', { waitMs: DOWN_LOCK_WAIT_MS }, async (record) => {
    const result = await context.backend.down(request);
    if (result.kind === 'stopped') record({ command: 'down', outcome: 'stopped' });
    return result;
  }, (reason) => ({ command: 'down', outcome: 'failed', reason }));
}

/** `deploy:release`: restarts the idle color on a new model (or image), never the live one; recorded with the model's facts. */
export function releaseToIdle(context: CommandContext, request: ReleaseRequest): Promise<ReleaseResult> {
  const what = [request.model ? `--model=${request.model}` : '', request.image ? `--image=${request.image}` : ''].filter(Boolean).join(' ');
  return recorded(context, `release ${what}`.trim(), {}, async (record) => {
    const result = await context.backend.release(request);
    record({
      command: 'release',
      outcome: 'released',
      color: result.color,
      model: result.image ? `${result.model} in ${result.image}` : result.model,
      version: result.version,
      sha256: result.modelSha256,
      previousModel: result.previousModel,
    });
    return result;
  }, (reason, error) => ({
    command: 'release',
    outcome: error instanceof DeployError && error.code === 'LIVE_COLOR_RELEASE' ? 'refused' : 'failed',
    color: request.color ?? null,
    model: request.model ?? request.image ?? '',
    version: null,
    sha256: null,
    previousModel: null,
    reason,
  }));
}

/** `deploy:status`: the backend's view plus the last switch and action from the history. Changes nothing. */
export interface StatusResult extends BackendStatus {
  readonly lastSwitch: MoveEntry | null;
  readonly lastAttempt: MoveEntry | null;
  readonly lastAction: HistoryEntry | null;
}

export async function stackStatus(context: CommandContext): Promise<StatusResult> {
  const status = await context.backend.status();
  const history = readHistory(context.files.historyFile);
  const skipped = skippedLinesNote(history);
  const kind = context.backend.kind;
  return {
    ...status,
    lastSwitch: lastSuccessfulSwitch(history.entries, kind) ?? null,
    lastAttempt: lastAttempt(history.entries, kind) ?? null,
    lastAction: lastEntry(history.entries, kind) ?? null,
    notes: [...status.notes, ...(skipped ? [skipped] : [])],
  };
}

/** A history line without what `recorded` fills in (distributed over the union, so each command keeps its own fields). */
type EntryBody = HistoryInput extends infer Entry ? (Entry extends unknown ? Omit<Entry, 'schemaVersion' | 'time' | 'user' | 'backend' | 'durationMs'> : never) : never;

/**
 * Runs a lifecycle command under the lock and writes one history line: what `action` records,
 * or, when it throws, the failure (`onFailure`) before the error goes on to the CLI.
 */
async function recorded<T>(
  context: CommandContext,
  command: string,
  options: { waitMs?: number },
  action: (record: (body: EntryBody) => void) => Promise<T>,
  onFailure: (reason: string, error: unknown) => EntryBody,
): Promise<T> {
  return withStackLock(context.files, { command, user: context.userName, ...options }, async () => {
    const started = context.clock.now();
    const write = (body: EntryBody) =>
      appendHistory(context.files.historyFile, {
        ...body,
        schemaVersion: 2,
        time: new Date(started).toISOString(),
        user: context.userName,
        backend: context.backend.kind,
        durationMs: Math.round(context.clock.now() - started),
      } as HistoryInput);
    try {
      return await action(write);
    } catch (error) {
      write(onFailure(error instanceof Error ? error.message : reasonOf(error), error));
      throw error;
    }
  });
}

import type { BackendStatus, DownRequest, DownResult, ReleaseRequest, ReleaseResult, UpRequest, UpResult } from '../backends/backend';
import { DeployError } from '../errors';
import { withStackLock } from '../effects/lock';
import { type HistoryEntry, type HistoryInput, type MoveEntry, appendHistory, lastAttempt, lastEntry, lastSuccessfulSwitch, readHistory, skippedLinesNote } from '../history/history';
import { type CommandContext, reasonOf } from './context';
import { type SwitchResult, moveAndRecord } from './switch';

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

/** What `release` did, and with `--switch` how the switch to the released color went. */
export type ReleaseOutcome = ReleaseResult & { readonly switch?: SwitchResult };

/**
 * `deploy:release`: restarts the idle color on a new model (or image), never the live one;
 * recorded with the model's facts. With `switch`, moves live traffic to it under the same lock
 * (the gates decide), and when that does not happen puts the color back on what it ran before:
 * what CD does, so no manual command can slip in between.
 * @throws DeployError from the release; PREFLIGHT_FAILED, VERIFY_FAILED, REVERT_FAILED when the switch failed
 */
export function releaseToIdle(context: CommandContext, request: ReleaseRequest & { readonly switch?: boolean; readonly expectVersion?: string }): Promise<ReleaseOutcome> {
  const what = [request.model ? `--model=${request.model}` : '', request.image ? `--image=${request.image}` : '', request.switch ? '--switch' : ''].filter(Boolean).join(' ');
  return withStackLock(context.files, { command: `release ${what}`.trim(), user: context.userName }, async () => {
    const { switch: andSwitch, expectVersion, ...release } = request;
    const result = await recordRelease(context, release, () => context.backend.release(release));
    if (!andSwitch) return result;
    const expected = expectVersion ? { version: expectVersion, why: 'required by --expect-version' } : { version: result.version, why: 'the version just released to it' };
    const moved = await moveAndRecord(context, 'switch', await context.backend.readRoutes(), result.color, expected);
    if (moved.kind === 'switched') return { ...result, switch: moved };
    context.progress(`The switch to ${result.color} did not happen (${moved.kind}); putting ${result.color} back on what it ran before...`);
    const putBack = { color: result.color, ...(result.previous.model ? { model: result.previous.model } : {}), ...(result.previous.image ? { image: result.previous.image } : {}) };
    const restored = await recordRelease(context, putBack, () => context.backend.release(putBack)).then(
      (back) => `${back.color} runs ${back.version} again.`,
      (error: unknown) => `Putting ${result.color} back failed too: ${reasonOf(error)}`,
    );
    const code = moved.kind === 'refused' ? 'PREFLIGHT_FAILED' : moved.kind === 'reverted' ? 'VERIFY_FAILED' : 'REVERT_FAILED';
    throw new DeployError(code, `${moved.from} -> ${moved.to}: ${moved.reason}\n${restored}`, { data: { release: result, switch: moved } });
  });
}

/** Runs one release and writes its history line, whatever the outcome. The caller holds the lock. */
async function recordRelease(context: CommandContext, request: ReleaseRequest, release: () => Promise<ReleaseResult>): Promise<ReleaseResult> {
  const started = context.clock.now();
  const common = { schemaVersion: 2 as const, user: context.userName, backend: context.backend.kind, command: 'release' as const, time: new Date(started).toISOString() };
  try {
    const result = await release();
    appendHistory(context.files.historyFile, {
      ...common,
      durationMs: Math.round(context.clock.now() - started),
      outcome: 'released',
      color: result.color,
      model: result.image ? `${result.model} in ${result.image}` : result.model,
      version: result.version,
      sha256: result.modelSha256,
      previousModel: result.previousModel,
    });
    return result;
  } catch (error) {
    appendHistory(context.files.historyFile, {
      ...common,
      durationMs: Math.round(context.clock.now() - started),
      outcome: error instanceof DeployError && error.code === 'LIVE_COLOR_RELEASE' ? 'refused' : 'failed',
      color: request.color ?? null,
      model: request.model ?? request.image ?? '',
      version: null,
      sha256: null,
      previousModel: null,
      reason: error instanceof Error ? error.message : String(error),
    });
    throw error;
  }
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

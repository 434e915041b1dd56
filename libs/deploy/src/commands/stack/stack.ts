import type { ReleaseOutcome, StatusResult } from '@mlbg/contract';
import type { DownRequest, DownResult, ReleaseRequest, ReleaseResult, UpRequest, UpResult } from '../../backends/backend';
import { DeployError } from '../../errors';
import { releaseValuesProblem } from '../../spec/release-values';
import { canaryView } from '../canary/canary-view';
import {
  type HistoryEntry,
  type HistoryInput,
  lastAttempt,
  lastEntry,
  lastSuccessfulSwitch,
  skippedLinesNote,
} from '../../history/history';
import { type CommandContext, historyStamp, reasonOf } from '../context';
import { moveAndRecord, switchFailureCode } from '../switch/switch';
import { settleInterruptedSwitch, unsettledIntent } from '../switch/reconcile';

/** How long `down` waits for a switch in progress to finish before it is refused. */
const DOWN_LOCK_WAIT_MS = 15_000;

/**
 * `deploy:up`: starts the backend's stack (or says it is already up and changes nothing), under
 * the lock, and records it.
 */
export function upStack(context: CommandContext, request: UpRequest): Promise<UpResult> {
  return recorded(
    context,
    'up',
    {},
    async (record) => {
      const result = await context.backend.up(request);
      if (result.kind === 'started') {
        const color = (name: 'blue' | 'green') => ({
          model: result.colors[name].model,
          version: result.colors[name].version,
          sha256: result.colors[name].modelSha256,
        });
        await record({ command: 'up', outcome: 'started', live: result.live, colors: { blue: color('blue'), green: color('green') } });
      }
      return result;
    },
    (reason) => ({ command: 'up', outcome: 'failed', live: null, colors: null, reason }),
  );
}

/** `deploy:down`: stops what `up` started; waits a little for a switch in progress. */
export function downStack(context: CommandContext, request: DownRequest): Promise<DownResult> {
  return recorded(
    context,
    'down',
    { waitMs: DOWN_LOCK_WAIT_MS },
    async (record) => {
      const result = await context.backend.down(request);
      if (result.kind === 'stopped') await record({ command: 'down', outcome: 'stopped' });
      return result;
    },
    (reason) => ({ command: 'down', outcome: 'failed', reason }),
  );
}

/** What `release` did, and with `--switch` how the switch to the released color went. */
export type { ReleaseOutcome } from '@mlbg/contract';

/**
 * `deploy:release`: restarts the idle color on a new model (or image), never the live one;
 * recorded with the model's facts. With `switch`, moves live traffic to it under the same lock
 * (the gates decide), and when that does not happen puts the color back on what it ran before:
 * what CD does, so no manual command can slip in between.
 * @throws DeployError from the release; PREFLIGHT_FAILED, VERIFY_FAILED, REVERT_FAILED (or STATE_NOT_WRITABLE) when the switch failed
 */
export function releaseToIdle(
  context: CommandContext,
  request: ReleaseRequest & { readonly switch?: boolean; readonly expectVersion?: string },
): Promise<ReleaseOutcome> {
  // They go on as they are (into .env, an environment, a command line): a bad one changes nothing, not even the lock.
  const problem = releaseValuesProblem(request);
  if (problem) return Promise.reject(new DeployError('USAGE', problem));
  const what = [
    request.model ? `--model=${request.model}` : '',
    request.image ? `--image=${request.image}` : '',
    request.switch ? '--switch' : '',
  ]
    .filter(Boolean)
    .join(' ');
  return context.lock.hold({ command: `release ${what}`.trim(), user: context.userName }, async () => {
    await settleInterruptedSwitch(context);
    const { switch: andSwitch, expectVersion, ...release } = request;
    const result = await recordRelease(context, release, () => context.backend.release(release));
    if (!andSwitch) return result;
    const expected = expectVersion
      ? { version: expectVersion, why: 'required by --expect-version' }
      : { version: result.version, why: 'the version just released to it' };
    const moved = await moveAndRecord(context, 'switch', await context.backend.readRoutes(), result.color, expected);
    if (moved.kind === 'switched') return { ...result, switch: moved };
    context.progress(`The switch to ${result.color} did not happen (${moved.kind}); putting ${result.color} back on what it ran before...`);
    const putBack = {
      color: result.color,
      ...(result.previous.model ? { model: result.previous.model } : {}),
      ...(result.previous.image ? { image: result.previous.image } : {}),
    };
    const restored = await recordRelease(context, putBack, () => context.backend.release(putBack)).then(
      (back) => `${back.color} runs ${back.version} again.`,
      (error: unknown) => `Putting ${result.color} back failed too: ${reasonOf(error)}`,
    );
    throw new DeployError(switchFailureCode(moved), `${moved.from} -> ${moved.to}: ${moved.reason}\n${restored}`, {
      data: { release: result, switch: moved },
    });
  });
}

/** Runs one release and writes its history line, whatever the outcome. The caller holds the lock. */
function recordRelease(context: CommandContext, request: ReleaseRequest, release: () => Promise<ReleaseResult>): Promise<ReleaseResult> {
  return record(
    context,
    async (write) => {
      const result = await release();
      await write({
        command: 'release',
        outcome: 'released',
        color: result.color,
        model: result.image ? `${result.model} in ${result.image}` : result.model,
        version: result.version,
        sha256: result.modelSha256,
        previousModel: result.previousModel,
      });
      return result;
    },
    (reason, error) => ({
      command: 'release',
      outcome: error instanceof DeployError && error.code === 'LIVE_COLOR_RELEASE' ? 'refused' : 'failed',
      color: request.color ?? null,
      model: request.model ?? request.image ?? '',
      version: null,
      sha256: null,
      previousModel: null,
      reason,
    }),
  );
}

/** `deploy:status`: the backend's view plus the last switch and action from the history. Changes nothing. */
export type { StatusResult } from '@mlbg/contract';

export async function stackStatus(context: CommandContext): Promise<StatusResult> {
  const status = await context.backend.status();
  const history = await context.history.read();
  const skipped = skippedLinesNote(history);
  const kind = context.backend.kind;
  return {
    ...status,
    lastSwitch: lastSuccessfulSwitch(history.entries, kind) ?? null,
    lastAttempt: lastAttempt(history.entries, kind) ?? null,
    lastAction: lastEntry(history.entries, kind) ?? null,
    canary: canaryView(context, status.routes, history.entries),
    notes: [...status.notes, ...(skipped ? [skipped] : []), ...interruptedNote(history.entries, kind)],
  };
}

/** A history line without what {@link historyStamp} fills in (distributed over the union, so each command keeps its own fields). */
type EntryBody = HistoryInput extends infer Entry
  ? Entry extends unknown
    ? Omit<Entry, keyof ReturnType<typeof historyStamp>>
    : never
  : never;

/** A lifecycle command under the lock, with its one history line (see {@link record}). */
export function recorded<T>(
  context: CommandContext,
  command: string,
  options: { waitMs?: number },
  action: (write: (body: EntryBody) => Promise<void>) => Promise<T>,
  onFailure: (reason: string, error: unknown) => EntryBody,
): Promise<T> {
  return context.lock.hold({ command, user: context.userName, ...options }, () => record(context, action, onFailure));
}

/**
 * Runs `action` and writes one history line: what `action` writes, or, when it throws, the
 * failure (`onFailure`) before the error goes on to the CLI. The caller holds the lock.
 */
async function record<T>(
  context: CommandContext,
  action: (write: (body: EntryBody) => Promise<void>) => Promise<T>,
  onFailure: (reason: string, error: unknown) => EntryBody,
): Promise<T> {
  const started = context.clock.now();
  const write = async (body: EntryBody): Promise<void> => {
    await context.history.append({ ...body, ...historyStamp(context, started) } as HistoryInput);
  };
  try {
    return await action(write);
  } catch (error) {
    await write(onFailure(error instanceof Error ? error.message : reasonOf(error), error));
    throw error;
  }
}

function interruptedNote(entries: readonly HistoryEntry[], kind: HistoryEntry['backend']): string[] {
  const intent = unsettledIntent(entries, kind);
  return intent
    ? [
        `A switch ${intent.from} -> ${intent.to} began at ${intent.time} and recorded no outcome (its command was stopped, or is still running); the next switch, rollback or release settles it from what nginx really serves.`,
      ]
    : [];
}

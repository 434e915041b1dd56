import { Color } from '@mlbg/contract';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { INITIAL_LIVE_COLOR } from '../../spec/sockets';

const Port = z.int().min(1).max(65_535);

/** One running color as `up` or `release` started it; the model facts once it answered /health. */
export const ColorRun = z.object({
  model: z.string().min(1),
  port: Port,
  startedAt: z.string(),
  version: z.string().optional(),
  featureCount: z.int().positive().optional(),
  modelSha256: z.string().optional(),
});
export type ColorRun = z.infer<typeof ColorRun>;

/** What `up` started (pids are in their own pid files, so `down` works even without this file). */
export const RunningStack = z.object({
  startedAt: z.string(),
  runtimeDir: z.string(),
  socketDir: z.string(),
  nginxPrefix: z.string(),
  router: z.object({ host: z.string(), port: Port, requestedPort: Port }),
  previewPathPrefix: z.string(),
  /** What each color is started with, so `release` restarts one the same way. */
  service: z.object({ logLevel: z.string(), bodyLimitBytes: z.int().positive(), maxBatchRows: z.int().positive() }),
  colors: z.object({ blue: ColorRun, green: ColorRun }),
});
export type RunningStack = z.infer<typeof RunningStack>;

/**
 * `state.json`: survives `down`, so the next `up` keeps the last live color and the models last
 * released to each color. `running` is null while the stack is down.
 */
export const StackState = z.object({
  schemaVersion: z.literal(1),
  live: Color,
  models: z.object({ blue: z.string().optional(), green: z.string().optional() }),
  running: RunningStack.nullable(),
});
export type StackState = z.infer<typeof StackState>;

/** The state of a stack that was never started. */
export function initialState(): StackState {
  return { schemaVersion: 1, live: INITIAL_LIVE_COLOR, models: {}, running: null };
}

/** The result of reading the state file: it may be missing or unreadable, which callers must handle. */
export type StateRead =
  | { readonly kind: 'missing'; readonly file: string }
  | { readonly kind: 'corrupt'; readonly file: string; readonly problem: string }
  | { readonly kind: 'ok'; readonly file: string; readonly state: StackState };

/** Parses the state file's text. Pure. */
export function parseState(text: string, file: string): StateRead {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { kind: 'corrupt', file, problem: `not valid JSON (${(error as Error).message})` };
  }
  const result = StackState.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    return { kind: 'corrupt', file, problem: `${issue?.path.join('.') || '(top level)'}: ${issue?.message}` };
  }
  return { kind: 'ok', file, state: result.data };
}

export function readState(file: string): StateRead {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing', file };
    return { kind: 'corrupt', file, problem: `can not be read (${(error as Error).message})` };
  }
  return parseState(text, file);
}

/** Writes the whole file at once (temp file + rename), so a reader never sees half of it. */
export function writeState(file: string, state: StackState): void {
  const next = `${file}.${process.pid}.tmp`;
  writeFileSync(next, `${JSON.stringify(StackState.parse(state), null, 2)}\n`);
  renameSync(next, file);
}

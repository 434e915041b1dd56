import { Color, LogLevel, ModelSignature } from '@mlbg/contract';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { Routes, routesWithLive } from '../../../routing/routes';
import { DEFAULT_LIVE_SLOTS, INITIAL_LIVE_COLOR } from '../../../spec/sockets';

/** The state format this code writes; older files are migrated when read. */
export const STATE_SCHEMA_VERSION = 2;

const Port = z.int().min(1).max(65_535);

/** One running color as `up` or `release` started it; the model facts once it answered /health. */
export const ColorRun = z.object({
  model: z.string().min(1),
  port: Port,
  startedAt: z.string(),
  version: z.string().optional(),
  featureCount: z.int().positive().optional(),
  modelSha256: z.string().optional(),
  /** What the model takes and answers (services that report it). */
  signature: ModelSignature.optional(),
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
  /** How many slot links nginx's live upstream was rendered with (older states: the default). */
  liveSlots: z.int().min(1).max(100).default(DEFAULT_LIVE_SLOTS),
  /** Replicas per color nginx's config was rendered with and each color runs (older states: 1). */
  replicas: z.int().min(1).max(32).default(1),
  /** What each color is started with, so `release` restarts one the same way. */
  service: z.object({ logLevel: LogLevel, bodyLimitBytes: z.int().positive(), maxBatchRows: z.int().positive() }),
  colors: z.object({ blue: ColorRun, green: ColorRun }),
});
export type RunningStack = z.infer<typeof RunningStack>;

/**
 * `state.json`: survives `down`, so the next `up` keeps the last live color and the models last
 * released to each color. `running` is null while the stack is down.
 */
export const StackState = z.object({
  schemaVersion: z.literal(STATE_SCHEMA_VERSION),
  /** Where each route sends traffic; the socket symlinks follow it (they are what nginx reads). */
  routes: Routes,
  models: z.object({ blue: z.string().optional(), green: z.string().optional() }),
  running: RunningStack.nullable(),
});
export type StackState = z.infer<typeof StackState>;

/** The state of a stack that was never started. */
export function initialState(): StackState {
  return { schemaVersion: STATE_SCHEMA_VERSION, routes: routesWithLive(INITIAL_LIVE_COLOR), models: {}, running: null };
}

/** The first format: one live color instead of routes. */
const StateV1 = StackState.omit({ schemaVersion: true, routes: true }).extend({ schemaVersion: z.literal(1), live: Color });

function migrateV1({ live, schemaVersion: _old, ...rest }: z.infer<typeof StateV1>): StackState {
  return { ...rest, schemaVersion: STATE_SCHEMA_VERSION, routes: routesWithLive(live) };
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
  const version = (json as { schemaVersion?: unknown } | null)?.schemaVersion;
  if (typeof version === 'number' && version > STATE_SCHEMA_VERSION) {
    return {
      kind: 'corrupt',
      file,
      problem: `written by a newer deploy tool (schemaVersion ${version}; this one reads up to ${STATE_SCHEMA_VERSION})`,
    };
  }
  const result = (version === 1 ? StateV1.transform(migrateV1) : StackState).safeParse(json);
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

/** The replicas per color of the stack running from this state file (1 when it records none). */
export function runningReplicas(file: string): number {
  const read = readState(file);
  return read.kind === 'ok' ? (read.state.running?.replicas ?? 1) : 1;
}

/** Writes the whole file at once (temp file + rename), so a reader never sees half of it. */
export function writeState(file: string, state: StackState): void {
  stageState(file, state).commit();
}

/** A state write with its data already on disk: `commit` only renames it into place. */
export interface StagedState {
  commit(): void;
  discard(): void;
}

/**
 * The first half of {@link writeState}: writes the temp file now, so a full or read-only state
 * folder fails here, before the caller changes anything it would have to record. A failed write
 * leaves no temp file behind.
 */
export function stageState(file: string, state: StackState): StagedState {
  const next = `${file}.${process.pid}.tmp`;
  const text = `${JSON.stringify(StackState.parse(state), null, 2)}\n`;
  try {
    writeFileSync(next, text);
  } catch (error) {
    rmSync(next, { force: true });
    throw error;
  }
  return {
    commit: () => {
      try {
        renameSync(next, file);
      } catch (error) {
        rmSync(next, { force: true });
        throw error;
      }
    },
    discard: () => rmSync(next, { force: true }),
  };
}

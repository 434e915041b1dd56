import { Color } from '@mlbg/contract';
import { closeSync, fstatSync, ftruncateSync, openSync, readFileSync, readSync, statSync, writeSync } from 'node:fs';
import { z } from 'zod';
import { GateResult } from '../gates/gate';
import { Judgement } from '../gates/judge/verdict';
import { Routes } from '../routing/routes';

/** The history format this code writes; older lines are migrated when read. */
export const HISTORY_SCHEMA_VERSION = 2;

/** Which deployment a command ran on. */
export const BackendKind = z.enum(['local', 'compose', 'kubernetes']);
export type BackendKind = z.infer<typeof BackendKind>;

/**
 * How a switch attempt ended: `switched` (traffic moved and verified), `refused` (a gate failed,
 * nothing changed), `reverted` (moved, verification failed, moved back), `broken` (moved,
 * verification failed, and moving back failed too).
 */
export const SwitchResultKind = z.enum(['switched', 'refused', 'reverted', 'broken']);
export type SwitchResultKind = z.infer<typeof SwitchResultKind>;

const Common = {
  schemaVersion: z.literal(HISTORY_SCHEMA_VERSION),
  time: z.string(),
  user: z.string(),
  backend: BackendKind,
  durationMs: z.number().nonnegative(),
  /** What failed, when the command did not do what it was asked. */
  reason: z.string().optional(),
  /** The checks that allowed (or refused) it, in order. */
  gates: z.array(GateResult).default([]),
};

const Move = {
  ...Common,
  from: Color,
  to: Color,
  fromVersion: z.string().nullable(),
  toVersion: z.string().nullable(),
  outcome: SwitchResultKind,
  /** The routes after the attempt (absent in migrated lines). */
  routes: Routes.optional(),
};

/** A color as `up` or `release` left it. */
const ColorRecord = z.strictObject({ model: z.string(), version: z.string().nullable(), sha256: z.string().nullable() });

/** What one color served in one canary interval (nginx's access log, and the color's own /metrics when it answered). */
export const CanaryColorSample = z.strictObject({
  color: Color,
  requests: z.int().nonnegative(),
  errors: z.int().nonnegative(),
  /** 5xx share; null with no requests. */
  errorRate: z.number().nullable(),
  p99Ms: z.number().nullable(),
  /** The color's own /metrics over the interval (requests answered, 5xx); null when it did not answer. */
  metrics: z.strictObject({ requests: z.number(), errors: z.number() }).nullable(),
});
export type CanaryColorSample = z.infer<typeof CanaryColorSample>;

/** One analysis of a canary: the numbers, the checks with their thresholds, the verdict. */
export const CanaryInterval = z.strictObject({
  weight: z.int().min(0).max(100),
  startedAt: z.string(),
  durationMs: z.number().nonnegative(),
  verdict: z.enum(['pass', 'fail', 'inconclusive']),
  canary: CanaryColorSample,
  stable: CanaryColorSample,
  probesSent: z.int().nonnegative(),
  /** Requests replayed to both colors for paired answers (absent before the judge). */
  replayed: z.int().nonnegative().optional(),
  checks: z.array(GateResult),
  /** The judge's verdict check by check: statistics, p-values, effects, samples (absent before the judge). */
  judgement: Judgement.optional(),
});
export type CanaryInterval = z.infer<typeof CanaryInterval>;

/**
 * How a canary ended: `started` (written when it begins, so an interrupted one is known),
 * `promoted` (all traffic on the canary), `rolled-back` (failed analysis, all traffic back on the
 * stable color), `aborted` (--abort), `stopped` (SIGINT/SIGTERM, weight moved back), `kept`
 * (stopped with --keep: the weight stays), `refused` (the preflight failed; nothing changed),
 * `broken` (moving the weight back failed).
 */
export const CanaryOutcome = z.enum(['started', 'promoted', 'rolled-back', 'aborted', 'stopped', 'kept', 'refused', 'broken']);
export type CanaryOutcome = z.infer<typeof CanaryOutcome>;

/** One line of `history.jsonl`: every action on a stack, with its outcome. */
export const HistoryEntry = z.discriminatedUnion('command', [
  z.strictObject({ ...Move, command: z.literal('switch') }),
  z.strictObject({ ...Move, command: z.literal('rollback') }),
  z.strictObject({
    ...Common,
    command: z.literal('up'),
    outcome: z.enum(['started', 'failed']),
    live: Color.nullable(),
    colors: z.strictObject({ blue: ColorRecord, green: ColorRecord }).nullable(),
  }),
  z.strictObject({ ...Common, command: z.literal('down'), outcome: z.enum(['stopped', 'failed']) }),
  z.strictObject({
    ...Common,
    command: z.literal('release'),
    outcome: z.enum(['released', 'refused', 'failed']),
    /** null when a release failed before its color was known. */
    color: Color.nullable(),
    model: z.string(),
    version: z.string().nullable(),
    sha256: z.string().nullable(),
    previousModel: z.string().nullable(),
  }),
  /** Written by the local stack's supervisor: a process it restarted, or gave up on. */
  z.strictObject({
    ...Common,
    command: z.literal('restart'),
    /** The supervised process: blue, green, nginx, ... */
    process: z.string(),
    outcome: z.enum(['restarted', 'failed']),
    /** Why: how it exited, or how long its health probe failed. */
    exit: z.string(),
    /** Restarts of this process since its supervisor started. */
    restarts: z.int().nonnegative(),
    /** The new process (null when it was not restarted). */
    pid: z.int().nullable(),
  }),
  /** A switch whose command was killed between its intent and its outcome, settled by the next command from what the router really does. */
  z.strictObject({
    ...Common,
    command: z.literal('reconcile'),
    from: Color,
    to: Color,
    /** `flipped`: the route had moved (the state now says so); `not-flipped`: nothing had moved. */
    outcome: z.enum(['flipped', 'not-flipped']),
    routes: Routes,
  }),
  /** Written just before a switch moves a route; its outcome line follows (or a `reconcile` line, when the command was killed). */
  z.strictObject({
    ...Common,
    command: z.literal('switch-intent'),
    outcome: z.literal('intended'),
    from: Color,
    to: Color,
    routes: Routes,
  }),
  z.strictObject({
    ...Common,
    command: z.literal('canary'),
    outcome: CanaryOutcome,
    stable: Color,
    canary: Color,
    stableVersion: z.string().nullable(),
    canaryVersion: z.string().nullable(),
    steps: z.array(z.int().min(1).max(100)),
    intervalMs: z.number().positive(),
    /** The canary's weight when the line was written. */
    weight: z.int().min(0).max(100),
    /** Continued by `deploy:canary --resume` after an interruption. */
    resumed: z.boolean().default(false),
    /** The answers were declared to change (--expect-output-change): the judge showed the output checks without counting them. */
    expectOutputChange: z.boolean().optional(),
    intervals: z.array(CanaryInterval).default([]),
    routes: Routes,
  }),
  z.strictObject({
    ...Common,
    command: z.literal('shadow'),
    /** on: nginx mirrors live /predict to the idle color; off: it stopped. */
    outcome: z.enum(['on', 'off', 'failed']),
    percent: z.number().nullable(),
    /** The relay's counters when it stopped (off) or was changed. */
    relay: z
      .strictObject({ received: z.number(), forwarded: z.number(), dropped: z.number(), failed: z.number(), sampledOut: z.number() })
      .nullable(),
  }),
]);
export type HistoryEntry = z.infer<typeof HistoryEntry>;
export type HistoryInput = z.input<typeof HistoryEntry>;
export type MoveEntry = Extract<HistoryEntry, { command: 'switch' | 'rollback' }>;
export type CanaryEntry = Extract<HistoryEntry, { command: 'canary' }>;

/** A line as the first format wrote it (switches and rollbacks only, `target` for the backend). */
const LegacyEntry = z.object({
  time: z.string(),
  user: z.string(),
  target: BackendKind,
  command: z.enum(['switch', 'rollback']),
  from: Color,
  to: Color,
  fromVersion: z.string().nullable(),
  toVersion: z.string().nullable(),
  outcome: SwitchResultKind,
  durationMs: z.number().nonnegative(),
  reason: z.string().optional(),
});

/** Parsed history; unreadable lines are skipped and reported by line number, never fatal. */
export interface History {
  readonly file: string;
  readonly entries: readonly HistoryEntry[];
  readonly skippedLines: readonly number[];
}

/** Parses one line in any known format to the current one; undefined when it is not a history line. */
export function parseHistoryLine(line: string): HistoryEntry | undefined {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (json && typeof json === 'object' && !('schemaVersion' in json)) {
    const legacy = LegacyEntry.safeParse(json);
    if (!legacy.success) return undefined;
    const { target, ...rest } = legacy.data;
    return HistoryEntry.parse({ ...rest, schemaVersion: HISTORY_SCHEMA_VERSION, backend: target, gates: [] });
  }
  const parsed = HistoryEntry.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}

/** Parses `history.jsonl` text. Pure. */
export function parseHistory(text: string, file = 'history.jsonl'): History {
  const entries: HistoryEntry[] = [];
  const skippedLines: number[] = [];
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    const entry = parseHistoryLine(line);
    if (entry) entries.push(entry);
    else skippedLines.push(index + 1);
  });
  return { file, entries, skippedLines };
}

/** A missing file is an empty history. */
export function readHistory(file: string): History {
  try {
    return parseHistory(readFileSync(file, 'utf8'), file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { file, entries: [], skippedLines: [] };
    throw error;
  }
}

/** A note for people when lines were skipped: which file, which lines, what to do. */
export function skippedLinesNote(history: History): string | undefined {
  if (history.skippedLines.length === 0) return undefined;
  return `${history.file}: line(s) ${history.skippedLines.join(', ')} can not be read and were skipped (cut short by a killed command, or edited by hand); they are left as they are. Fix or delete those lines to silence this.`;
}

/**
 * Appends one line (one small O_APPEND write, so lines never interleave). A file whose last line
 * was cut short gets a line break first, so the torn line stays apart and is never merged into.
 * A write that fails part-way (a full disk takes what fits in the last page) is cut off again, so
 * a failed append leaves the file as it was and the error is the caller's to report.
 */
export function appendHistory(file: string, entry: HistoryInput): HistoryEntry {
  const parsed = HistoryEntry.parse(entry);
  const line = Buffer.from(`${endsMidLine(file) ? '\n' : ''}${JSON.stringify(parsed)}\n`);
  const fd = openSync(file, 'a');
  try {
    const before = fstatSync(fd).size;
    let written = 0;
    try {
      while (written < line.length) written += writeSync(fd, line, written);
    } catch (error) {
      try {
        // Only when the torn part is ours alone at the end (another writer may have appended since).
        if (written > 0 && fstatSync(fd).size === before + written) ftruncateSync(fd, before);
      } catch {
        // the torn line stays; readers skip it, and the next append starts on a new line
      }
      throw error;
    }
  } finally {
    closeSync(fd);
  }
  return parsed;
}

function endsMidLine(file: string): boolean {
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    return false;
  }
  if (size === 0) return false;
  const fd = openSync(file, 'r');
  try {
    const last = Buffer.alloc(1);
    readSync(fd, last, 0, 1, size - 1);
    return last[0] !== 0x0a;
  } finally {
    closeSync(fd);
  }
}

/**
 * The switches and rollbacks on `backend`, oldest first. A promoted canary moved all live traffic
 * from its stable color to its canary, so here (for rollback and status) it counts as a switch.
 */
export function moves(entries: readonly HistoryEntry[], backend: BackendKind): MoveEntry[] {
  return entries.flatMap((entry): MoveEntry[] => {
    if (entry.backend !== backend) return [];
    if (entry.command === 'switch' || entry.command === 'rollback') return [entry];
    return entry.command === 'canary' && entry.outcome === 'promoted' ? [promotionAsSwitch(entry)] : [];
  });
}

function promotionAsSwitch(entry: CanaryEntry): MoveEntry {
  const { schemaVersion, time, user, backend, durationMs, gates, routes } = entry;
  return {
    schemaVersion,
    time,
    user,
    backend,
    durationMs,
    gates,
    routes,
    command: 'switch',
    from: entry.stable,
    to: entry.canary,
    fromVersion: entry.stableVersion,
    toVersion: entry.canaryVersion,
    outcome: 'switched',
  };
}

/** The last canary on `backend`: its first line (`started`) and its end, when it has one. */
export function lastCanary(
  entries: readonly HistoryEntry[],
  backend: BackendKind,
): { started: CanaryEntry; end?: CanaryEntry } | undefined {
  const canaries = entries.filter((entry): entry is CanaryEntry => entry.backend === backend && entry.command === 'canary');
  const startIndex = canaries.map((entry) => entry.outcome).lastIndexOf('started');
  const started = canaries[startIndex];
  if (!started) return undefined;
  const end = canaries.slice(startIndex + 1).find((entry) => entry.outcome !== 'started');
  return end ? { started, end } : { started };
}

/** The last switch on `backend` that moved traffic, if any. */
export function lastSuccessfulSwitch(entries: readonly HistoryEntry[], backend: BackendKind): MoveEntry | undefined {
  return moves(entries, backend)
    .filter((entry) => entry.outcome === 'switched')
    .pop();
}

/** The last switch attempt of any outcome on `backend`, if any. */
export function lastAttempt(entries: readonly HistoryEntry[], backend: BackendKind): MoveEntry | undefined {
  return moves(entries, backend).pop();
}

/** The last entry of any command on `backend`. */
export function lastEntry(entries: readonly HistoryEntry[], backend: BackendKind): HistoryEntry | undefined {
  return entries.filter((entry) => entry.backend === backend).pop();
}

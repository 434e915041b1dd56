import {
  BackendKind,
  type CanaryEntry,
  Color,
  HISTORY_SCHEMA_VERSION,
  HistoryEntry,
  type HistoryInput,
  type MoveEntry,
  SwitchResultKind,
} from '@mlbg/contract';
import { closeSync, fstatSync, ftruncateSync, openSync, readFileSync, readSync, statSync, writeSync } from 'node:fs';
import { z } from 'zod';

// The history's format is the contract's (the dashboard's page reads it too); this module reads and writes the file.
export {
  BackendKind,
  CanaryColorSample,
  CanaryInterval,
  CanaryOutcome,
  HISTORY_SCHEMA_VERSION,
  HistoryEntry,
  SwitchResultKind,
  lastCanary,
} from '@mlbg/contract';
export type { CanaryEntry, HistoryInput, MoveEntry } from '@mlbg/contract';

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

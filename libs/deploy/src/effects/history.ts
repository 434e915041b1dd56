import { Color } from '@mlbg/contract';
import { appendFileSync, readFileSync } from 'node:fs';
import { z } from 'zod';

/** Where a switch ran: the local stack or the Compose deployment. */
export const DeployTarget = z.enum(['local', 'compose']);
export type DeployTarget = z.infer<typeof DeployTarget>;

/**
 * How a switch attempt ended: `switched` (traffic moved and verified), `refused` (preflight
 * failed, nothing changed), `reverted` (moved, verification failed, moved back), `broken`
 * (moved, verification failed, and moving back failed too).
 */
export const SwitchResultKind = z.enum(['switched', 'refused', 'reverted', 'broken']);
export type SwitchResultKind = z.infer<typeof SwitchResultKind>;

/** One line of `history.jsonl`. */
export const HistoryEntry = z.object({
  time: z.string(),
  user: z.string(),
  target: DeployTarget,
  command: z.enum(['switch', 'rollback']),
  from: Color,
  to: Color,
  fromVersion: z.string().nullable(),
  toVersion: z.string().nullable(),
  outcome: SwitchResultKind,
  durationMs: z.number().nonnegative(),
  reason: z.string().optional(),
});
export type HistoryEntry = z.infer<typeof HistoryEntry>;

/** Parsed history; unreadable lines are skipped and reported by line number, never fatal. */
export interface History {
  readonly entries: readonly HistoryEntry[];
  readonly skippedLines: readonly number[];
}

/** Parses `history.jsonl` text. Pure. */
export function parseHistory(text: string): History {
  const entries: HistoryEntry[] = [];
  const skippedLines: number[] = [];
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    try {
      const parsed = HistoryEntry.safeParse(JSON.parse(line));
      if (parsed.success) entries.push(parsed.data);
      else skippedLines.push(index + 1);
    } catch {
      skippedLines.push(index + 1);
    }
  });
  return { entries, skippedLines };
}

export function readHistory(file: string): History {
  try {
    return parseHistory(readFileSync(file, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { entries: [], skippedLines: [] };
    throw error;
  }
}

/** Appends one line (a single small write with O_APPEND, so lines never interleave). */
export function appendHistory(file: string, entry: HistoryEntry): void {
  appendFileSync(file, `${JSON.stringify(HistoryEntry.parse(entry))}\n`);
}

/** The last switch on `target` that moved traffic, if any. */
export function lastSuccessfulSwitch(entries: readonly HistoryEntry[], target: DeployTarget): HistoryEntry | undefined {
  for (let index = entries.length - 1; index >= 0; index -= 1) {
    const entry = entries[index];
    if (entry && entry.target === target && entry.outcome === 'switched') return entry;
  }
  return undefined;
}

/** The last attempt of any outcome on `target`, if any. */
export function lastAttempt(entries: readonly HistoryEntry[], target: DeployTarget): HistoryEntry | undefined {
  for (let index = entries.length - 1; index >= 0; index -= 1) {
    const entry = entries[index];
    if (entry && entry.target === target) return entry;
  }
  return undefined;
}

import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ENGINE_DIR } from './engine';

/** One line per measured phase, kept in the engine folder so the global teardown can print them all. */
const FILE = join(ENGINE_DIR, 'timings.jsonl');

export function recordTiming(what: string, ms: number, note?: string): void {
  appendFileSync(FILE, `${JSON.stringify({ what, ms, note })}\n`);
}

export function readTimings(): { what: string; ms: number; note?: string }[] {
  if (!existsSync(FILE)) return [];
  return readFileSync(FILE, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
}

export const TIMINGS_FILE = FILE;

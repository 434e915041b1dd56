import { closeSync, copyFileSync, fstatSync, openSync, readSync, renameSync, statSync, truncateSync } from 'node:fs';

/**
 * The stack's logs are capped, so a busy or crash-looping stack never fills the disk (where a full
 * disk would then fail state writes in the middle of a deploy): a log over its cap becomes
 * `<name>.1` (one previous file kept, replacing an older one), and readers read in bounded pieces.
 */

/** A log kept beside the current one: `access.log` -> `access.log.1`. */
export function previousLog(file: string): string {
  return `${file}.1`;
}

function sizeOf(file: string): number | undefined {
  try {
    return statSync(file).size;
  } catch {
    return undefined;
  }
}

/**
 * For a log a process writes through a descriptor it keeps (its stdout, opened O_APPEND): over
 * `maxBytes`, copies it to `<name>.1` and empties it in place; the writer goes on at the new start.
 * Lines written between the copy and the truncation are lost (as with logrotate's copytruncate).
 */
export function copyTruncateIfOver(file: string, maxBytes: number): boolean {
  if ((sizeOf(file) ?? 0) <= maxBytes) return false;
  copyFileSync(file, previousLog(file));
  truncateSync(file, 0);
  return true;
}

/**
 * For logs a process opens by name and reopens when told (nginx on SIGUSR1): renames each one over
 * `maxBytes` to `<name>.1`. Returns the ones renamed: the writer must then be told to reopen.
 */
export function renameIfOver(files: readonly string[], maxBytes: number): string[] {
  const renamed: string[] = [];
  for (const file of files) {
    if ((sizeOf(file) ?? 0) <= maxBytes) continue;
    renameSync(file, previousLog(file));
    renamed.push(file);
  }
  return renamed;
}

function readRange(file: string, from: number, to: number): string {
  if (to <= from) return '';
  const fd = openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(to - from);
    const read = readSync(fd, buffer, 0, buffer.length, from);
    return buffer.subarray(0, read).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** What one read of a log takes at most (a reader that fell behind catches up piece by piece). */
export const MAX_LOG_READ_BYTES = 4 * 1024 * 1024;

/**
 * The bytes of `file` from `from` (a position an earlier read returned as `next`) to its end now,
 * at most `maxBytes`. A log shorter than `from` was rotated (or made anew): the rest of
 * `<name>.1` from `from` comes first, then the new log from its start.
 */
export function readLogFrom(file: string, from: number | 'end', maxBytes = MAX_LOG_READ_BYTES): { text: string; next: number } {
  let size: number;
  try {
    const fd = openSync(file, 'r');
    try {
      size = fstatSync(fd).size;
    } finally {
      closeSync(fd);
    }
  } catch {
    return { text: '', next: 0 };
  }
  if (from === 'end') return { text: '', next: size };
  if (from > size) {
    const previous = sizeOf(previousLog(file)) ?? 0;
    const rest = from < previous ? readRange(previousLog(file), from, Math.min(previous, from + maxBytes)) : '';
    const room = maxBytes - Buffer.byteLength(rest);
    const fresh = room > 0 ? readRange(file, 0, Math.min(size, room)) : '';
    return { text: rest + fresh, next: Buffer.byteLength(fresh) };
  }
  const text = readRange(file, from, Math.min(size, from + maxBytes));
  return { text, next: from + Buffer.byteLength(text) };
}

/** The last `maxBytes` of a log at most, from the start of a line (the whole log when it is short). */
export function readTail(file: string, maxBytes: number): string {
  const size = sizeOf(file);
  if (size === undefined) return '';
  if (size <= maxBytes) return readRange(file, 0, size);
  const text = readRange(file, size - maxBytes, size);
  return text.slice(text.indexOf('\n') + 1);
}

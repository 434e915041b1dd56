import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copyTruncateIfOver, readLogFrom, readTail, renameIfOver } from './log-files';

describe('log files that never fill the disk', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mlbg-logs-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('copy-truncates a log over its cap that a process writes through an O_APPEND descriptor: it goes on at the new start', () => {
    const file = join(dir, 'blue.log');
    const fd = openSync(file, 'a');
    try {
      writeSync(fd, 'old line\n'.repeat(200));
      expect(copyTruncateIfOver(file, 1000)).toBe(true);
      writeSync(fd, 'new line\n');
      expect(readFileSync(file, 'utf8')).toBe('new line\n');
      expect(readFileSync(`${file}.1`, 'utf8')).toBe('old line\n'.repeat(200));
      // Under the cap: left alone.
      expect(copyTruncateIfOver(file, 1000)).toBe(false);
      expect(readFileSync(file, 'utf8')).toBe('new line\n');
    } finally {
      closeSync(fd);
    }
  });

  it('renames the logs over their cap to <name>.1 (the writer reopens after), replacing an older .1; a missing log is nothing', () => {
    const access = join(dir, 'access.log');
    writeFileSync(access, 'x'.repeat(2000));
    writeFileSync(`${access}.1`, 'older');
    writeFileSync(join(dir, 'error.log'), 'small');
    expect(renameIfOver([access, join(dir, 'error.log'), join(dir, 'missing.log')], 1000)).toEqual([access]);
    expect(existsSync(access)).toBe(false);
    expect(readFileSync(`${access}.1`, 'utf8')).toBe('x'.repeat(2000));
    expect(readFileSync(join(dir, 'error.log'), 'utf8')).toBe('small');
  });

  it('reads a log from an offset across a rotation: the rest of <name>.1 first, then the new log', () => {
    const file = join(dir, 'access.log');
    writeFileSync(file, 'a\nb\n');
    const first = readLogFrom(file, 0);
    expect(first).toEqual({ text: 'a\nb\n', next: 4 });
    writeFileSync(file, 'a\nb\nc\n');
    renameIfOver([file], 1);
    writeFileSync(file, 'd\n');
    expect(readLogFrom(file, first.next)).toEqual({ text: 'c\nd\n', next: 2 });
    expect(readLogFrom(file, 'end')).toEqual({ text: '', next: 2 });
  });

  it('reads at most `maxBytes` at once, continuing where it stopped', () => {
    const file = join(dir, 'access.log');
    writeFileSync(file, '0123456789');
    expect(readLogFrom(file, 0, 4)).toEqual({ text: '0123', next: 4 });
    expect(readLogFrom(file, 4, 4)).toEqual({ text: '4567', next: 8 });
  });

  it('reads the tail of a big log, never the whole file: at most `maxBytes`, from a line start', () => {
    const file = join(dir, 'big.log');
    writeFileSync(file, Array.from({ length: 10_000 }, (_, i) => `line ${i}`).join('\n') + '\n');
    const tail = readTail(file, 100);
    expect(Buffer.byteLength(tail)).toBeLessThanOrEqual(100);
    expect(tail.endsWith('line 9999\n')).toBe(true);
    expect(tail.startsWith('line ')).toBe(true);
  });
});

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lock } from 'proper-lockfile';
import { DeployError } from '../errors';
import { type StackLayout, stackLayout } from '../backends/local/layout';
import { withStackLock } from './lock';

describe('withStackLock', () => {
  let dir: string;
  let layout: StackLayout;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'deploy-lock-'));
    layout = stackLayout(dir, join(dir, 'state'), dir);
    mkdirSync(layout.stateDir, { recursive: true });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('names the holder even when refused in the moment between its lock and its note of who it is', async () => {
    // The holder as another process sees it right after it took the lock: no note yet.
    const release = await lock(layout.stateDir, { lockfilePath: layout.lockDir, realpath: false });
    const since = new Date().toISOString();
    setTimeout(
      () => writeFileSync(layout.lockInfoFile, JSON.stringify({ command: 'switch --color=green', pid: process.pid, user: 'ann', since })),
      150,
    );
    const refused = await withStackLock(layout, { command: 'switch --color=green', user: 'bob' }, async () => 'ran').catch(
      (error: unknown) => error,
    );
    await release();
    expect(refused).toBeInstanceOf(DeployError);
    expect((refused as DeployError).code).toBe('LOCKED');
    expect((refused as DeployError).message).toContain(`\`switch --color=green\` (pid ${process.pid}, user ann) holds it since ${since}.`);
  });

  it('runs the action once the lock is free, and frees it after', async () => {
    expect(await withStackLock(layout, { command: 'status', user: 'bob' }, async () => 'first')).toBe('first');
    expect(await withStackLock(layout, { command: 'status', user: 'bob' }, async () => 'second')).toBe('second');
  });
});

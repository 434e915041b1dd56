import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileLock } from '../effects/lock';
import { routesWithLive } from '../routing/routes';
import { fakeBackend } from '../testing/fakes';
import { changesUnderLock } from './changes-under-lock';
import { stackLayout } from './local/layout';

describe('changesUnderLock', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mlbg-under-lock-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const colors = { blue: { version: 'v1.0.0', featureCount: 1 }, green: { version: 'v1.1.0', featureCount: 1 } };

  it('moves a route while the lock is held, and refuses the next move once it was compromised: LOCKED, nothing moved', async () => {
    const layout = stackLayout(dir, join(dir, 'state'), dir);
    const lock = fileLock(layout, { staleMs: 2_000 });
    const backend = fakeBackend({ live: 'blue', colors });
    const guarded = changesUnderLock(backend, lock);
    const error = await lock
      .hold({ command: 'switch', user: 'bob' }, async () => {
        await guarded.setRoutes(routesWithLive('green'));
        rmSync(layout.lockDir, { recursive: true, force: true });
        await new Promise((resolve) => setTimeout(resolve, 1_500));
        await guarded.setRoutes(routesWithLive('blue'));
      })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'LOCKED', message: expect.stringContaining('lost its lock') });
    expect(backend.moves).toEqual(['green']);
  });

  it('reads pass through, also after the lock was lost (status still works)', async () => {
    const backend = fakeBackend({ live: 'blue', colors });
    const refusing = {
      hold: async <T>(_holder: unknown, action: () => Promise<T>) => action(),
      assertHeld: () => {
        throw new Error('lost');
      },
    };
    const guarded = changesUnderLock(backend, refusing);
    expect((await guarded.readRoutes()).live).toEqual((await backend.readRoutes()).live);
    await expect(guarded.release({ model: 'models/v1.2.0/model.onnx' })).rejects.toThrow('lost');
    await expect(guarded.up({ ports: {}, models: {} })).rejects.toThrow('lost');
  });
});

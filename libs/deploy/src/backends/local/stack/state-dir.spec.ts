import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { realDeps } from '../../../effects/real-deps';
import { stackLayout } from '../layout';
import { copyServiceBuild } from '../services/color-service';
import { stackDown } from './up-down';

/** `--state-dir=$HOME`: a folder that holds the user's own files, among them one named like the stack's. */
describe('a state folder that is not only the stack’s (--state-dir=$HOME)', () => {
  let root: string;
  let home: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'mlbg-state-dir-'));
    home = join(root, 'home');
    mkdirSync(join(home, 'service'), { recursive: true });
    writeFileSync(join(home, 'service', 'precious.txt'), 'the user’s own\n');
    // A built service to copy.
    const built = join(root, 'dist');
    mkdirSync(join(built, 'apps/model-service/src'), { recursive: true });
    writeFileSync(join(built, 'apps/model-service/src/main.js'), '');
    mkdirSync(join(built, 'node_modules/@mlbg/contract'), { recursive: true });
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));
  const layoutOf = () => stackLayout(root, home, join(root, 'tmp'), { serviceBuildDir: join(root, 'dist') });

  it('up refuses to replace a `service` folder it did not make, and deletes nothing', () => {
    expect(() => copyServiceBuild(layoutOf())).toThrow(
      expect.objectContaining({ code: 'USAGE', message: expect.stringContaining('service') }),
    );
    expect(readFileSync(join(home, 'service', 'precious.txt'), 'utf8')).toBe('the user’s own\n');
  });

  it('down leaves a `service` folder it did not make alone, and says so', async () => {
    const down = await stackDown(realDeps({ workspaceRoot: root, env: {}, progress: () => undefined }), layoutOf());
    expect(readFileSync(join(home, 'service', 'precious.txt'), 'utf8')).toBe('the user’s own\n');
    expect(down.notes.join('\n')).toContain('not made by');
  });

  it('its own copy (and one made before copies were marked) is replaced by up and removed by down', async () => {
    rmSync(join(home, 'service'), { recursive: true });
    const layout = layoutOf();
    copyServiceBuild(layout);
    expect(existsSync(layout.serviceMain)).toBe(true);
    copyServiceBuild(layout);
    await stackDown(realDeps({ workspaceRoot: root, env: {}, progress: () => undefined }), layout);
    expect(existsSync(layout.serviceCopyDir)).toBe(false);
    // A copy from before the marker: only the parts a copy holds.
    mkdirSync(join(layout.serviceCopyDir, 'apps/model-service'), { recursive: true });
    mkdirSync(join(layout.serviceCopyDir, 'node_modules/@mlbg'), { recursive: true });
    copyServiceBuild(layout);
    expect(existsSync(layout.serviceMain)).toBe(true);
  });
});

import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processControl } from '../../effects/real-deps';
import { describeWithBinary, findBinary } from '../../testing/real-tools';
import { StackHarness, WORKSPACE_ROOT } from '../../testing/stack-harness';

/**
 * A build started while a stack runs (a second `nx` command on the checkout) deletes and rewrites
 * the built libs under dist/node_modules/@mlbg. The stack must not notice: it runs its own copy.
 * The build here is a private copy of dist/, so the shared one is never touched by this test.
 */
jest.setTimeout(90_000);
const NGINX = findBinary('nginx');

describeWithBinary(NGINX, 'nginx')('a build while the stack runs (real nginx, real services)', () => {
  let build: string;
  let stack: StackHarness;

  beforeAll(async () => {
    build = mkdtempSync(join(tmpdir(), 'mlbg-build-'));
    for (const part of ['apps/model-service', 'node_modules/@mlbg'])
      cpSync(join(WORKSPACE_ROOT, 'dist', part), join(build, part), { recursive: true });
    stack = await StackHarness.create('build', { serviceBuildDir: build });
  });
  afterAll(async () => {
    if (stack) expect(await stack.destroy()).toEqual([]);
    rmSync(build, { recursive: true, force: true });
  });

  it('given a running stack, when its build loses the libs (as @nx/js:tsc does first), then a color started next still starts', async () => {
    expect(await stack.up()).toMatchObject({ code: 0 });
    const blue = stack.pid('blue') as number;
    expect(processControl.inspect(blue)?.cmdline).toContain(join(stack.stateDir, 'service/apps/model-service/src/main.js'));

    rmSync(join(build, 'node_modules/@mlbg'), { recursive: true, force: true });

    const release = await stack.cli('release', '--model=models/v1.0.0/model.onnx', '--json');
    expect(release.json()).toMatchObject({ ok: true, result: { color: 'green', version: 'v1.0.0' } });
    expect(await stack.serving('/preview/health')).toMatchObject({ status: 200, color: 'green', version: 'v1.0.0' });
    expect(await stack.serving()).toMatchObject({ status: 200, color: 'blue' });
  });

  it('down removes the copy with the rest', async () => {
    expect(await stack.cli('down')).toMatchObject({ code: 0 });
    expect(existsSync(join(stack.stateDir, 'service'))).toBe(false);
  });
});

import { type ChildProcess, spawn } from 'node:child_process';
import { WORKSPACE_ROOT } from '../support/stack';
import { expect, test, V1, V2, type Page } from '../support/fixtures';

const REQUESTS = 800;
/** The canary's share as the browser sees it may differ from the weight by this many points (round-robin over 20 slots gives it almost exactly). */
const TOLERANCE_POINTS = 5;

/** `deploy:canary` as its own process, as a user runs it in a terminal (so --abort from "another terminal" can stop it). */
function startCanary(stateDir: string, ...argv: string[]): { child: ChildProcess; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', 'libs/deploy/src/cli/main.ts', 'canary', ...argv], {
    cwd: WORKSPACE_ROOT,
    env: { ...process.env, SWC_NODE_PROJECT: 'libs/deploy/tsconfig.lib.json', BLUEGREEN_STATE_DIR: stateDir },
    stdio: 'ignore',
  });
  return { child, exited: new Promise((done) => child.once('exit', (code) => done(code))) };
}

/** POSTs /predict `count` times from the page (the browser's own keep-alive connections) and counts the versions. */
async function versionsSeen(page: Page, count: number): Promise<Record<string, number>> {
  return page.evaluate(async (total) => {
    const seen: Record<string, number> = {};
    for (let sent = 0; sent < total; sent += 8) {
      const answers = await Promise.all(
        Array.from({ length: 8 }, () =>
          fetch('/predict', {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: '{"features": [[1], [2], [3]]}',
          }).then(async (response) =>
            response.ok ? ((await response.json()) as { model_version: string }).model_version : `status ${response.status}`,
          ),
        ),
      );
      for (const version of answers) seen[version] = (seen[version] ?? 0) + 1;
    }
    return seen;
  }, count);
}

test('during a canary at 25% the browser sees both versions in proportion; after --abort only the stable one', async ({ page, stack }) => {
  test.setTimeout(120_000);
  await stack.reset();
  await page.goto(`${stack.router}/health`);

  // A long interval holds the first step while the browser counts.
  const canary = startCanary(stack.info.stateDir, '--color=green', '--steps=25,100', '--interval=5m');
  try {
    await expect
      .poll(async () => (await stack.run('status')).result.canary?.weight ?? null, {
        timeout: 60_000,
        intervals: [250],
      })
      .toBe(25);

    const during = await versionsSeen(page, REQUESTS);
    const share = (100 * (during[V2] ?? 0)) / REQUESTS;
    console.log(`canary at 25%: the browser saw ${JSON.stringify(during)} (${share.toFixed(1)}% ${V2})`);
    expect(Object.keys(during).sort()).toEqual([V1, V2]);
    expect(Math.abs(share - 25)).toBeLessThanOrEqual(TOLERANCE_POINTS);

    const abort = await stack.run('canary', '--abort');
    expect(abort.ok, abort.error?.message).toBe(true);
    expect(await canary.exited).toBe(1);

    const after = await versionsSeen(page, 200);
    expect(after).toEqual({ [V1]: 200 });
  } finally {
    canary.child.kill('SIGKILL');
  }
});

import { actionOutcome } from '@mlbg/contract';
import { readHistory } from '@mlbg/deploy';
import { join, resolve } from 'node:path';
import { expect, MODELS, type Page, test, V1, V2 } from '../support/fixtures';
import type { Stack } from '../support/fixtures';
import { WORKSPACE_ROOT } from '../support/stack';
import { type DashboardProcess, startDashboardProcess } from '@mlbg/deploy/testing';
import { confirmAction, onlyLoopback } from './dashboard';

/** `DASHBOARD_SCREENSHOTS=1` also writes the README's screenshot of the canary card (apps/dashboard/docs). */
const SCREENSHOTS = process.env['DASHBOARD_SCREENSHOTS'] ? resolve(WORKSPACE_ROOT, 'apps/dashboard/docs') : undefined;

const canaryLines = (stateDir: string) =>
  readHistory(join(stateDir, 'history.jsonl')).entries.filter((entry) => entry.command === 'canary');

/** Fills the canary form (steps, interval) and confirms the start; the confirmation must name both versions. */
async function startFromPage(page: Page, steps: string, intervalSeconds: number): Promise<void> {
  await page.getByLabel('canary steps (%)').fill(steps);
  await page.getByLabel('canary interval (s)').fill(String(intervalSeconds));
  await page.getByRole('button', { name: 'Start canary of green' }).click();
  await expect(page.getByTestId('confirm')).toContainText(`Start a canary of green (${V2}) against the live blue (${V1})`);
  await expect(page.getByTestId('confirm')).toContainText(
    `${steps.split(',').join(', ')}% of live traffic step by step, every ${intervalSeconds} s`,
  );
  const asked = Date.now();
  await confirmAction(page, 'canary');
  console.log(`canary start from the page answered after ${Date.now() - asked} ms`);
}

/** The suite shares one stack: whatever a test left running is aborted, and blue is live again. */
async function leaveAsFound(stack: Stack): Promise<void> {
  const status = await stack.run('status');
  if (status.result.canary) {
    const aborted = await stack.run('canary', '--abort');
    expect(aborted.ok, aborted.error?.message).toBe(true);
  }
  await stack.reset();
}

test.describe("canaries from the dashboard (deploy dashboard, in Chromium, on the suite's stack)", () => {
  let dashboard: DashboardProcess;
  let outside: string[];

  test.beforeAll(async ({ stack }) => {
    dashboard = await startDashboardProcess(stack.info.stateDir);
  });
  test.afterAll(async () => dashboard?.stop());
  test.beforeEach(async ({ page, stack }) => {
    await stack.reset();
    outside = await onlyLoopback(page);
  });
  test.afterEach(async ({ stack }) => {
    await leaveAsFound(stack);
    expect(outside, 'requests to outside the machine').toEqual([]);
  });

  test('start a canary from the page, watch its card move, a second start is refused, promote it from the page', async ({
    page,
    request,
    stack,
  }) => {
    test.setTimeout(180_000);
    const linesBefore = canaryLines(stack.info.stateDir).length;
    await page.goto(dashboard.openUrl);
    await expect(page.getByTestId('color-blue')).toHaveAttribute('data-role', 'live');
    await expect(page.getByTestId('version-green')).toHaveText(V2);

    await startFromPage(page, '25,50,100', 4);
    // The start answers once the canary process has its first step on.
    await expect(page.getByTestId('action-result')).toHaveAttribute('data-ok', 'true');
    const card = page.getByTestId('canary-card');
    await expect(card).toHaveAttribute('data-state', 'running');
    await expect(page.getByTestId('canary-weight')).toHaveAttribute('data-weight', '25');
    await expect(page.getByTestId('canary-step')).toContainText('step 1 of 3');
    await expect(page.getByTestId('canary-next')).toContainText(/next analysis in \d+ s/);
    await expect(page.getByTestId('route-live')).toHaveText('blue 75% / green 25%');
    const running = await stack.run('status');
    expect(running.result.canary).toMatchObject({ state: 'running', weight: 25 });
    const pid = running.result.canary?.pid;
    expect(pid).toEqual(expect.any(Number));

    // A second start while it runs: the canary process it starts meets the lock and says who holds it.
    const origin = dashboard.url.replace(/\/$/, '');
    const second = await request.post(`${dashboard.url}api/actions/canary`, {
      headers: { authorization: `Bearer ${dashboard.token}`, origin },
      data: { color: 'green' },
    });
    expect(second.status()).toBe(409);
    const refusal = actionOutcome('canary').parse(await second.json());
    expect(refusal.error?.code).toBe('LOCKED');
    expect(refusal.error?.message).toContain(`pid ${pid}`);
    expect(refusal.error?.message).toContain('canary');

    // The card moves: the first analysis shows with its numbers per color (its verdict is the machine's: not asserted).
    const analysis = page.getByTestId('canary-analysis');
    await expect(analysis).toHaveAttribute('data-verdict', /^(pass|fail|inconclusive)$/, { timeout: 60_000 });
    await expect(page.getByTestId('canary-analysis-canary')).toContainText('green (canary)');
    await expect(page.getByTestId('canary-analysis-stable')).toContainText('blue (stable)');
    if (SCREENSHOTS) await page.getByTestId('canary-card').screenshot({ path: resolve(SCREENSHOTS, 'dashboard-canary.png') });

    await page.getByRole('button', { name: 'Promote green' }).click();
    await expect(page.getByTestId('confirm')).toContainText(`Promote green (${V2}): all live traffic to it now`);
    await expect(page.getByTestId('confirm')).toContainText(`blue (${V1}) becomes the idle color`);
    await confirmAction(page, 'promote');
    await expect(page.getByTestId('action-result')).toHaveAttribute('data-ok', 'true');
    await expect(card).toHaveAttribute('data-state', 'promoted');
    await expect(page.getByTestId('color-green')).toHaveAttribute('data-role', 'live');

    // deploy:status and the history agree with the page; the canary's lines are the dashboard user's.
    const after = await stack.run('status');
    expect(after.result.live).toBe('green');
    expect(after.result.canary).toBeNull();
    expect(after.result.lastSwitch).toMatchObject({ to: 'green', user: expect.stringMatching(/\(dashboard\)$/) });
    const lines = canaryLines(stack.info.stateDir).slice(linesBefore);
    expect(lines.map((line) => line.outcome)).toEqual(['started', 'promoted']);
    for (const line of lines) expect(line.user).toMatch(/\(dashboard\)$/);
    // The timeline shows both, newest first.
    const entries = page.getByTestId('history-entry');
    await expect(entries.nth(0)).toHaveAttribute('data-command', 'canary');
    await expect(entries.nth(0)).toHaveAttribute('data-outcome', 'promoted');
    await expect(entries.nth(1)).toHaveAttribute('data-command', 'canary');
    await expect(entries.nth(1)).toHaveAttribute('data-outcome', 'started');
  });

  test('abort a running canary from the page: all traffic back on blue', async ({ page, stack }) => {
    test.setTimeout(120_000);
    await page.goto(dashboard.openUrl);
    await expect(page.getByTestId('version-green')).toHaveText(V2);
    // A long interval holds the first step until the abort.
    await startFromPage(page, '25,100', 300);
    await expect(page.getByTestId('action-result')).toHaveAttribute('data-ok', 'true');
    await expect(page.getByTestId('canary-card')).toHaveAttribute('data-state', 'running');
    await expect(page.getByTestId('canary-weight')).toHaveAttribute('data-weight', '25');

    await page.getByRole('button', { name: 'Abort canary' }).click();
    await expect(page.getByTestId('confirm')).toContainText(`move all live traffic back to blue (${V1})? green (${V2}) has 25% now`);
    await confirmAction(page, 'canary-abort');
    await expect(page.getByTestId('action-result')).toHaveAttribute('data-ok', 'true');
    // The running canary moved its weight back itself (SIGTERM, as `deploy canary --abort` asks it).
    await expect(page.getByTestId('canary-card')).toHaveAttribute('data-state', 'stopped');
    await expect(page.getByTestId('route-live')).toHaveText('blue');
    const status = await stack.run('status');
    expect(status.result.live).toBe('blue');
    expect(status.result.canary).toBeNull();
  });

  test('a canary started from a dashboard outlives it; killed, the card says interrupted, and abort from the page finishes it', async ({
    page,
    request,
    stack,
  }) => {
    test.setTimeout(120_000);
    // Another dashboard starts the canary (through its API, as its page does), then stops.
    const other = await startDashboardProcess(stack.info.stateDir);
    let pid: number | undefined;
    try {
      const started = await request.post(`${other.url}api/actions/canary`, {
        headers: { authorization: `Bearer ${other.token}`, origin: other.url.replace(/\/$/, '') },
        data: { color: 'green', steps: [25, 100], intervalSeconds: 300 },
        timeout: 60_000,
      });
      const body = actionOutcome('canary').parse(await started.json());
      expect(body, JSON.stringify(body)).toMatchObject({ ok: true, result: { kind: 'started' } });
      pid = body.result && 'pid' in body.result ? body.result.pid : undefined;
    } finally {
      await other.stop();
    }
    const after = await stack.run('status');
    expect(after.result.canary).toMatchObject({ state: 'running', weight: 25, pid });

    await page.goto(dashboard.openUrl);
    await expect(page.getByTestId('canary-card')).toHaveAttribute('data-state', 'running');
    // kill -9: nothing moves the weight back; the card says so.
    process.kill(pid ?? 0, 'SIGKILL');
    await expect(page.getByTestId('canary-card')).toHaveAttribute('data-state', 'interrupted');
    await expect(page.getByTestId('canary-state')).toHaveText('interrupted at 25%');

    await page.getByRole('button', { name: 'Abort canary' }).click();
    await confirmAction(page, 'canary-abort');
    await expect(page.getByTestId('action-result')).toHaveAttribute('data-ok', 'true');
    await expect(page.getByTestId('canary-card')).toHaveAttribute('data-state', 'aborted');
    await expect(page.getByTestId('route-live')).toHaveText('blue');
    const lines = canaryLines(stack.info.stateDir);
    expect(lines.at(-1)).toMatchObject({ outcome: 'aborted', user: expect.stringMatching(/\(dashboard\)$/) });
    expect((await stack.run('status')).result.canary).toBeNull();
  });

  test("a canary the preflight refuses shows the gate's message and moves nothing", async ({ page, stack }) => {
    test.setTimeout(120_000);
    // Green on a model with another input signature: the signature gate refuses, as for a switch.
    const released = await stack.run('release', `--model=${MODELS.threeFeatures}`, '--color=green');
    expect(released.ok, released.error?.message).toBe(true);
    await page.goto(dashboard.openUrl);
    await expect(page.getByTestId('color-green')).toHaveAttribute('data-health', 'ok');
    await page.getByLabel('canary steps (%)').fill('50,100');
    await page.getByRole('button', { name: 'Start canary of green' }).click();
    await confirmAction(page, 'canary');
    const result = page.getByTestId('action-result');
    await expect(result).toHaveAttribute('data-ok', 'false');
    const refused = canaryLines(stack.info.stateDir).at(-1);
    expect(refused).toMatchObject({ outcome: 'refused', user: expect.stringMatching(/\(dashboard\)$/) });
    await expect(result).toContainText(refused?.reason ?? 'the reason in the history');
    await expect(page.getByTestId('canary-card')).toHaveAttribute('data-state', 'refused');
    expect((await stack.status()).live).toBe('blue');
  });
});

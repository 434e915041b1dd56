import type { Page } from '@playwright/test';

/**
 * Fails the test on any request the page makes to anything but this machine's loopback: the
 * dashboard must load nothing from outside (no CDN, no fonts, no telemetry).
 */
export async function onlyLoopback(page: Page): Promise<string[]> {
  const outside: string[] = [];
  await page.context().route('**/*', async (route) => {
    const { protocol, hostname } = new URL(route.request().url());
    if ((protocol === 'http:' || protocol === 'https:' || protocol === 'ws:') && !['127.0.0.1', 'localhost', '[::1]'].includes(hostname)) {
      outside.push(route.request().url());
      return route.abort('blockedbyclient');
    }
    return route.continue();
  });
  return outside;
}

/** Confirms the dialog and waits for the action's answer: as long as the command takes (its own deadlines), within the test's timeout. */
export async function confirmAction(page: Page, name: string): Promise<void> {
  const answered = page.waitForResponse((response) => response.url().endsWith(`/api/actions/${name}`), { timeout: 0 });
  await page.getByTestId('confirm-yes').click();
  await answered;
}

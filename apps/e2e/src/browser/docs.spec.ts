import { expect, test, type Page } from '../support/fixtures';

/** Sends the example prediction from Swagger UI's "Try it out" and returns the response body shown. */
async function predictFromDocs(page: Page): Promise<string> {
  const operation = page.locator('.opblock-post', { hasText: '/predict' });
  // Swagger UI keeps an operation open across reloads (it is in the URL); open it only if closed.
  if (!(await operation.locator('.opblock-body').isVisible())) await operation.locator('.opblock-summary').click();
  const tryItOut = operation.getByRole('button', { name: 'Try it out' });
  if (await tryItOut.isVisible()) await tryItOut.click();
  await operation.locator('textarea.body-param__text').fill('{"features": [[1], [2], [3]]}');
  await operation.getByRole('button', { name: 'Execute' }).click();
  const body = operation.locator('.live-responses-table .response-col_description pre').first();
  await expect(body).toContainText('model_version');
  return (await body.textContent()) ?? '';
}

test.describe('Swagger UI through nginx, in Chromium', () => {
  test.beforeEach(async ({ stack }) => stack.reset());

  test('opens /docs, sends a prediction from the page, sees the answer; after a switch it shows the new version', async ({
    page,
    stack,
  }) => {
    await page.goto(`${stack.router}/docs`);
    await expect(page.locator('.info .title')).toContainText('Model service');
    await expect(page.locator('.info .title .version').first()).toHaveText('v1.0.0');

    const answer = JSON.parse(await predictFromDocs(page));
    expect(answer.model_version).toBe('v1.0.0');
    expect(answer.predictions).toHaveLength(3);

    expect((await stack.switchTo('green')).ok).toBe(true);
    await page.reload();
    await expect(page.locator('.info .title .version').first()).toHaveText('v1.1.0');
    const after = JSON.parse(await predictFromDocs(page));
    expect(after.model_version).toBe('v1.1.0');
  });

  test('the docs page loads nothing from outside the machine', async ({ page, stack }) => {
    const hosts = new Set<string>();
    page.on('request', (request) => {
      hosts.add(new URL(request.url()).host);
    });
    await page.goto(`${stack.router}/docs`);
    await expect(page.locator('.opblock-post').first()).toBeVisible();
    expect([...hosts]).toEqual([new URL(stack.router).host]);
  });
});

import { test, expect, Page } from '@playwright/test';
import { hydrated, signIn, USERS } from './helpers';

declare global {
  interface Window {
    __cspViolations: string[];
    __injected?: number;
  }
}

/** Records every CSP violation the page reports (the init script runs outside the page's policy). */
async function watchCsp(page: Page) {
  await page.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`);
    });
  });
}

const violations = (page: Page) => page.evaluate(() => window.__cspViolations);

test('every page hydrates under its CSP, and an injected inline script is refused', async ({ page }) => {
  await watchCsp(page);
  await signIn(page, USERS.owner);
  for (const path of ['/keys', '/audit', '/billing', '/signin']) {
    const res = await page.goto(path);
    const csp = res!.headers()['content-security-policy'];
    expect(csp).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9_-]{16,}'/);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(res!.headers()['cache-control']).toBe('no-store');
    await hydrated(page);
    expect(await violations(page), path).toEqual([]);
  }
  // What an XSS would try: an inline script without the nonce does not run.
  await page.goto('/keys');
  await hydrated(page);
  await page.evaluate(() => {
    const s = document.createElement('script');
    s.textContent = 'window.__injected = 1;';
    document.body.appendChild(s);
  });
  await expect.poll(() => violations(page)).toContainEqual(expect.stringMatching(/^script-src/));
  expect(await page.evaluate(() => window.__injected)).toBeUndefined();
  // The app still reacts after the refusal.
  await page.getByRole('button', { name: 'New key' }).click();
  await expect(page.getByTestId('create-dialog')).toBeVisible();
});

test('the answer that carries a new secret is marked no-store', async ({ page }) => {
  await signIn(page, USERS.owner);
  await page.goto('/keys');
  await hydrated(page);
  await expect(page.getByTestId('keys-ready')).toHaveAttribute('data-ready', 'true');
  await page.getByRole('button', { name: 'New key' }).click();
  const dialog = page.getByTestId('create-dialog');
  await dialog.getByLabel('Name', { exact: true }).fill('E2E no-store');
  const created = page.waitForResponse((r) => r.url().endsWith('/api/keys/create'));
  await dialog.getByRole('button', { name: 'Create key' }).click();
  const res = await created;
  expect(res.status()).toBe(200);
  expect(res.headers()['cache-control']).toBe('no-store');
  await expect(dialog.getByTestId('new-secret')).toHaveText(/^lk_test_/);
  await page.keyboard.press('Escape');
  await dialog.getByRole('button', { name: "Yes, I've saved it" }).click();
  await expect(dialog).toBeHidden();
});

test('a page left open on one organisation refuses to act after another tab switched', async ({ page, context }) => {
  await signIn(page, USERS.consultant);
  await page.goto('/keys');
  await hydrated(page);
  await expect(page.getByTestId('keys-ready')).toHaveAttribute('data-ready', 'true');
  // Another tab of the same browser switches the session to Starter Studio.
  const other = await context.newPage();
  await other.goto('/billing');
  await hydrated(other);
  await other.getByTestId('tenant-switcher').selectOption({ label: 'Starter Studio' });
  await expect(other.getByTestId('header-plan')).toHaveText('Starter');
  // The first tab still shows Acme; creating a key there is refused and says why (in the
  // dialog, or on the page once the list has reloaded and been refused too).
  await page.getByRole('button', { name: 'New key' }).click();
  const dialog = page.getByTestId('create-dialog');
  await dialog.getByLabel('Name', { exact: true }).fill('E2E stale tab');
  await dialog.getByRole('button', { name: 'Create key' }).click();
  await expect(page.getByText(/switched to another organisation in another tab/).first()).toBeVisible();
  await expect(page.getByTestId('new-secret')).toHaveCount(0);
  // After a reload it is the organisation the session is in.
  await page.reload();
  await hydrated(page);
  await expect(page.getByTestId('header-plan')).toHaveText('Starter');
  // Put the session back for other tests.
  await page.getByTestId('tenant-switcher').selectOption({ label: 'Acme Financial Group' });
  await expect(page.getByTestId('header-plan')).toHaveText('Professional');
});

test('signing out everywhere ends the session in another browser too', async ({ page, browser }) => {
  const elsewhere = await browser.newContext();
  const phone = await elsewhere.newPage();
  await signIn(phone, USERS.member);
  await signIn(page, USERS.member);
  await page.getByRole('button', { name: 'Sign out everywhere' }).click();
  await expect(page).toHaveURL(/\/signin/);
  await phone.goto('/keys');
  await expect(phone).toHaveURL(/\/signin/);
  await elsewhere.close();
});

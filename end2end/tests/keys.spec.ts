import { test, expect, Page } from '@playwright/test';
import { hydrated, signIn, storageAndLog, USERS } from './helpers';

test.use({ permissions: ['clipboard-read', 'clipboard-write'] });

// Every secret this suite sees, checked against the database, the server log and pages at the end.
const secrets: string[] = [];

async function openKeys(page: Page) {
  await page.goto('/keys');
  await hydrated(page);
  await expect(page.getByTestId('keys-ready')).toHaveAttribute('data-ready', 'true');
}

async function createKey(page: Page, name: string, opts: { allowlist?: string; live?: boolean } = {}) {
  await page.getByRole('button', { name: 'New key' }).click();
  const dialog = page.getByTestId('create-dialog');
  await expect(dialog).toBeVisible();
  await dialog.getByLabel('Name', { exact: true }).fill(name);
  await dialog.getByLabel('Description').fill('Created by the end-to-end suite');
  if (opts.live) await dialog.getByRole('radio', { name: 'Live' }).check();
  if (opts.allowlist) await dialog.getByLabel('IP allowlist').fill(opts.allowlist);
  await dialog.getByRole('button', { name: 'Create key' }).click();
  return dialog;
}

test('the owner creates a key and sees its secret exactly once', async ({ page }) => {
  await signIn(page, USERS.owner);
  await openKeys(page);
  const dialog = await createKey(page, 'E2E payments');
  const secretEl = dialog.getByTestId('new-secret');
  await expect(secretEl).toHaveText(/^lk_test_[0-9A-Za-z]{38}$/);
  const secret = (await secretEl.textContent())!.trim();
  secrets.push(secret);

  await dialog.getByRole('button', { name: 'Copy key' }).click();
  await expect(dialog.getByTestId('copy-secret')).toHaveText('Copied');
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);

  // Closing asks for confirmation first; Esc does the same as Done.
  await page.keyboard.press('Escape');
  await expect(dialog.getByTestId('confirm-close')).toBeVisible();
  await dialog.getByRole('button', { name: "Yes, I've saved it" }).click();
  await expect(dialog).toBeHidden();

  const row = page.getByTestId('key-row').filter({ hasText: 'E2E payments' });
  await expect(row).toHaveCount(1);
  await expect(row.getByTestId('key-masked')).toHaveText(new RegExp(`^${secret.slice(0, 12)}…`));
  await expect(row.getByTestId('key-status')).toHaveText('Active');
  await expect(row.getByTestId('key-mode')).toHaveText('Test');
  expect(await page.content()).not.toContain(secret);

  await page.reload();
  await hydrated(page);
  await expect(page.getByTestId('keys-ready')).toHaveAttribute('data-ready', 'true');
  await expect(page.getByTestId('key-row').filter({ hasText: 'E2E payments' })).toHaveCount(1);
  expect(await page.content()).not.toContain(secret);

  // The detail page shows every field, and still no secret.
  await page.getByTestId('key-row').filter({ hasText: 'E2E payments' }).getByTestId('key-name').click();
  await expect(page.getByTestId('detail-name')).toHaveText('E2E payments');
  await expect(page.getByTestId('audit-trail')).toContainText('api_key.created');
  expect(await page.content()).not.toContain(secret);
});

test('a live key with * gets a hint to narrow it', async ({ page }) => {
  await signIn(page, USERS.admin);
  await openKeys(page);
  await page.getByRole('button', { name: 'New key' }).click();
  const dialog = page.getByTestId('create-dialog');
  // The hint is in the dialog's HTML and shown by the stylesheet as the choices change.
  await expect(dialog.getByTestId('scope-hint')).toBeHidden();
  await dialog.getByRole('radio', { name: 'Live' }).check();
  await expect(dialog.getByTestId('scope-hint')).toBeVisible();
  await dialog.getByRole('checkbox', { name: '*' }).uncheck();
  await dialog.getByRole('checkbox', { name: 'keys:read' }).check();
  await expect(dialog.getByTestId('scope-hint')).toBeHidden();
  await dialog.getByLabel('Name', { exact: true }).fill('E2E live reader');
  await dialog.getByRole('button', { name: 'Create key' }).click();
  const secret = (await dialog.getByTestId('new-secret').textContent())!.trim();
  expect(secret).toMatch(/^lk_live_/);
  secrets.push(secret);
  await dialog.getByRole('button', { name: 'Done' }).click();
  await dialog.getByTestId('confirm-close').click();
  const row = page.getByTestId('key-row').filter({ hasText: 'E2E live reader' });
  await expect(row.getByTestId('key-mode')).toHaveText('Live');
  await expect(row).toContainText('keys:read');
});

test('a bad CIDR line shows its own error and creates nothing', async ({ page }) => {
  await signIn(page, USERS.owner);
  await openKeys(page);
  const before = await page.getByTestId('key-row').count();
  const dialog = await createKey(page, 'E2E bad allowlist', { allowlist: '10.0.0.0/8\n10.1.2.3/40\n2001:db8::/32' });
  await expect(dialog.getByTestId('error-allowlist')).toContainText('Line 2');
  await expect(dialog.getByTestId('error-allowlist')).toContainText('10.1.2.3/40');
  await expect(dialog.getByTestId('new-secret')).toHaveCount(0);
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await page.reload();
  await hydrated(page);
  await expect(page.getByTestId('key-row')).toHaveCount(before);
  await expect(page.getByTestId('key-row').filter({ hasText: 'E2E bad allowlist' })).toHaveCount(0);
});

test('editing a key persists; mode and scopes stay read-only', async ({ page }) => {
  await signIn(page, USERS.owner);
  await openKeys(page);
  const dialog = await createKey(page, 'E2E to rename');
  secrets.push((await dialog.getByTestId('new-secret').textContent())!.trim());
  await dialog.getByTestId('close-secret').click();
  await dialog.getByTestId('confirm-close').click();

  const row = page.getByTestId('key-row').filter({ hasText: 'E2E to rename' });
  await row.getByRole('button', { name: /^Edit/ }).click();
  const edit = page.getByTestId('edit-dialog');
  await expect(edit.getByTestId('immutable-reason')).toBeVisible();
  await edit.getByLabel('Name', { exact: true }).fill('E2E renamed');
  await edit.getByLabel('IP allowlist').fill('203.0.113.0/24');
  await edit.getByRole('button', { name: 'Save changes' }).click();
  await expect(edit).toBeHidden();
  await page.reload();
  await hydrated(page);
  await expect(page.getByTestId('keys-ready')).toHaveAttribute('data-ready', 'true');
  const renamed = page.getByTestId('key-row').filter({ hasText: 'E2E renamed' });
  await expect(renamed).toHaveCount(1);
  await renamed.getByTestId('key-name').click();
  await expect(page.getByTestId('detail-allowlist')).toHaveText('203.0.113.0/24');
  await expect(page.getByTestId('audit-trail')).toContainText('api_key.updated');
});

test('revoking changes the status and hides the key unless revoked keys are included', async ({ page }) => {
  await signIn(page, USERS.owner);
  await openKeys(page);
  const dialog = await createKey(page, 'E2E doomed');
  secrets.push((await dialog.getByTestId('new-secret').textContent())!.trim());
  await dialog.getByTestId('close-secret').click();
  await dialog.getByTestId('confirm-close').click();

  const row = page.getByTestId('key-row').filter({ hasText: 'E2E doomed' });
  await row.getByRole('button', { name: /^Revoke/ }).click();
  const confirm = page.getByTestId('revoke-dialog');
  await expect(confirm).toContainText('Revoke “E2E doomed”?');
  await confirm.getByLabel('Reason (optional)').fill('rotated');
  await confirm.getByRole('button', { name: 'Revoke key' }).click();
  await expect(page.getByTestId('notice')).toContainText('Revoked “E2E doomed”');
  await expect(page.getByTestId('key-row').filter({ hasText: 'E2E doomed' })).toHaveCount(0);

  await page.getByTestId('include-revoked').check();
  const revoked = page.getByTestId('key-row').filter({ hasText: 'E2E doomed' });
  await expect(revoked.getByTestId('key-status')).toHaveText('Revoked');
  await expect(revoked.getByRole('button', { name: /^Revoke/ })).toHaveCount(0);
});

test('search narrows the list by name', async ({ page }) => {
  await signIn(page, USERS.owner);
  await openKeys(page);
  // The search applies on Enter (a page load of the list's URL).
  await page.getByTestId('key-search').fill('payments');
  await page.getByTestId('key-search').press('Enter');
  await expect(page).toHaveURL(/\/keys\?q=payments$/);
  await expect(page.getByTestId('key-row')).toHaveCount(1);
  await expect(page.getByTestId('key-row')).toContainText('E2E payments');
  await page.getByTestId('key-search').fill('no such key at all');
  await page.getByTestId('key-search').press('Enter');
  await expect(page.getByTestId('no-keys')).toBeVisible();
});

test('copy ID puts the public id on the clipboard', async ({ page }) => {
  await signIn(page, USERS.member);
  await openKeys(page);
  const row = page.getByTestId('key-row').first();
  const id = await row.getAttribute('data-key-id');
  await row.getByRole('button', { name: /^Copy ID/ }).click();
  await expect(page.getByTestId('notice')).toContainText(id!);
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(id);
});

test('a member sees the list read-only', async ({ page }) => {
  await signIn(page, USERS.member);
  await openKeys(page);
  await expect(page.getByTestId('key-row').first()).toBeVisible();
  await expect(page.getByRole('button', { name: 'New key' })).toHaveCount(0);
  await expect(page.getByTestId('edit-key')).toHaveCount(0);
  await expect(page.getByTestId('revoke-key')).toHaveCount(0);
  await page.getByTestId('key-row').first().getByTestId('key-name').click();
  await expect(page.getByTestId('request-log')).toBeVisible();
  await expect(page.getByTestId('audit-trail')).toHaveCount(0);
});

test('a viewer is told they have no access', async ({ page }) => {
  await signIn(page, USERS.viewer);
  await page.goto('/keys');
  await hydrated(page);
  await expect(page.getByTestId('no-access')).toBeVisible();
  await expect(page.getByTestId('keys-table')).toHaveCount(0);
});

test('a Starter owner sees the upgrade card and nothing else', async ({ page }) => {
  await signIn(page, USERS.starterOwner);
  await page.goto('/keys');
  await hydrated(page);
  await expect(page.getByTestId('upgrade-card')).toBeVisible();
  await expect(page.getByTestId('keys-table')).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'New key' })).toHaveCount(0);
  await page.getByTestId('upgrade-link').click();
  await expect(page).toHaveURL(/\/billing/);
});

test('a key made in the UI works on the API until revoked, and its calls show in its request log', async ({ page, request }) => {
  await signIn(page, USERS.owner);
  await openKeys(page);
  const dialog = await createKey(page, 'E2E api caller');
  const secret = (await dialog.getByTestId('new-secret').textContent())!.trim();
  secrets.push(secret);
  await dialog.getByTestId('close-secret').click();
  await dialog.getByTestId('confirm-close').click();

  const auth = { Authorization: `Bearer ${secret}` };
  const ok = await request.get('/v1/whoami', { headers: auth });
  expect(ok.status()).toBe(200);
  expect((await ok.json()).key.name).toBe('E2E api caller');
  expect(ok.headers()['x-ratelimit-limit']).toBe('600');
  expect((await request.get('/v1/keys', { headers: auth })).status()).toBe(200);

  const row = page.getByTestId('key-row').filter({ hasText: 'E2E api caller' });
  await row.getByRole('button', { name: /^Revoke/ }).click();
  await page.getByTestId('revoke-dialog').getByRole('button', { name: 'Revoke key' }).click();
  await expect(page.getByTestId('notice')).toContainText('Revoked “E2E api caller”');

  // The very next call is refused.
  const refused = await request.get('/v1/whoami', { headers: auth });
  expect(refused.status()).toBe(401);
  expect((await refused.json()).error.code).toBe('key_revoked');

  // All three calls reach the key's request log once the batch is written (about a second).
  await page.getByTestId('include-revoked').check();
  await page.getByTestId('key-row').filter({ hasText: 'E2E api caller' }).getByTestId('key-name').click();
  await expect(page.getByTestId('detail-name')).toHaveText('E2E api caller');
  await expect(async () => {
    await page.reload();
    await hydrated(page);
    await expect(page.getByTestId('request-row')).toHaveCount(3, { timeout: 1000 });
  }).toPass({ timeout: 20_000 });
  expect(await page.getByTestId('request-status').allTextContents()).toEqual(['401', '200', '200']);
  await expect(page.getByTestId('request-row').last()).toContainText('GET /v1/whoami');
  await expect(page.getByTestId('request-row').nth(1)).toContainText('GET /v1/keys');
  await expect(page.getByTestId('requests-older')).toBeDisabled();
});

test('no secret appears in the database, the server log or any page', async ({ page }) => {
  expect(secrets.length).toBeGreaterThanOrEqual(3);
  const haystacks = storageAndLog();
  await signIn(page, USERS.owner);
  for (const p of ['/keys', '/billing', '/audit', '/members']) {
    await page.goto(p);
    await hydrated(page);
    haystacks.push([p, await page.content()]);
  }
  await openKeys(page);
  await page.getByTestId('include-revoked').check();
  await expect(page.getByTestId('key-row').filter({ hasText: 'E2E doomed' })).toHaveCount(1);
  haystacks.push(['/keys with revoked', await page.content()]);
  for (const id of await page.getByTestId('key-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-key-id')))) {
    await page.goto(`/keys/${id}`);
    await hydrated(page);
    haystacks.push([`/keys/${id}`, await page.content()]);
  }
  for (const s of secrets) {
    const random = s.slice(8, 40);
    for (const [where, text] of haystacks) {
      expect(text.includes(random), `secret found in ${where}`).toBe(false);
    }
  }
});

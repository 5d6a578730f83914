import { test, expect, Page, Locator } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import * as fs from 'fs';
import * as path from 'path';
import { hydrated, signIn, USERS } from './helpers';

// Accessibility (axe-core on every page and open dialog, keyboard only), phones (360 px with
// no sideways scrolling) and the README's screenshots.

test.use({ permissions: ['clipboard-read', 'clipboard-write'] });
// Each scan takes a second or two; a test scans up to ten pages or dialogs.
test.describe.configure({ timeout: 90_000 });

/** Fails on any serious or critical axe-core violation in `scope` (the page, or a dialog). */
async function noSeriousViolations(page: Page, what: string, include?: string) {
  let builder = new AxeBuilder({ page });
  if (include) builder = builder.include(include);
  const { violations } = await builder.analyze();
  const bad = violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  expect(bad, `axe-core on ${what}`).toEqual([]);
}

async function ready(page: Page, url: string, testid?: string) {
  await page.goto(url);
  await hydrated(page);
  if (testid) await expect(page.getByTestId(testid)).toHaveAttribute('data-ready', 'true');
}

/** Every signed-in page, with the test id that says it has loaded where it has one. */
function pages(keyId: string): [string, string | undefined][] {
  return [
    ['/keys', 'keys-ready'],
    [`/keys/${keyId}`, 'detail-ready'],
    ['/audit', undefined],
    ['/members', undefined],
    ['/webhooks', undefined],
    ['/billing', undefined],
    ['/account', undefined],
  ];
}

/** A new key of the owner's organisation, made through the UI (each test stands alone). */
async function someKeyId(page: Page, name = `E2E a11y ${Date.now()}`) {
  await ready(page, '/keys', 'keys-ready');
  await page.getByRole('button', { name: 'New key' }).click();
  const dialog = page.getByTestId('create-dialog');
  await dialog.getByLabel('Name', { exact: true }).fill(name);
  await dialog.getByRole('button', { name: 'Create key' }).click();
  await expect(dialog.getByTestId('new-secret')).toBeVisible();
  await dialog.getByTestId('close-secret').click();
  await dialog.getByTestId('confirm-close').click();
  return (await page.getByTestId('key-row').filter({ hasText: name }).getAttribute('data-key-id'))!;
}

test('axe-core finds nothing serious on any page', async ({ page }) => {
  await ready(page, '/signin');
  await noSeriousViolations(page, 'sign-in');
  await signIn(page, USERS.owner);
  const id = await someKeyId(page);
  for (const [url, testid] of pages(id)) {
    await ready(page, url, testid);
    await noSeriousViolations(page, url);
  }
  // The chart's table alternative, open.
  await ready(page, `/keys/${id}`, 'detail-ready');
  await page.getByText('Show as a table').click();
  await noSeriousViolations(page, 'the usage table');
  // A phone-sized list with a row's actions open.
  await page.setViewportSize({ width: 360, height: 740 });
  await ready(page, '/keys', 'keys-ready');
  await page.getByTestId('key-row').first().getByRole('button', { name: /^Actions for/ }).click();
  await noSeriousViolations(page, 'the keys list at 360 px');
});

test('axe-core finds nothing serious in any dialog', async ({ page }) => {
  await signIn(page, USERS.owner);
  const name = `E2E dialogs ${Date.now()}`;
  await someKeyId(page, name);
  const row = page.getByTestId('key-row').filter({ hasText: name });
  const dialogs: [string, () => Promise<Locator>][] = [
    ['create', async () => {
      await page.getByRole('button', { name: 'New key' }).click();
      return page.getByTestId('create-dialog');
    }],
    ['edit', async () => {
      await row.getByTestId('edit-key').click();
      return page.getByTestId('edit-dialog');
    }],
    ['roll', async () => {
      await row.getByTestId('roll-key').click();
      return page.getByTestId('roll-dialog');
    }],
    ['revoke', async () => {
      await row.getByTestId('revoke-key').click();
      return page.getByTestId('revoke-dialog');
    }],
  ];
  for (const [name, open] of dialogs) {
    const dialog = await open();
    await expect(dialog).toBeVisible();
    await noSeriousViolations(page, `the ${name} dialog`, `[data-testid="${name}-dialog"]`);
    await page.keyboard.press('Escape');
    await expect(dialog).toBeHidden();
  }
  // The create dialog showing a new secret.
  await page.getByRole('button', { name: 'New key' }).click();
  const create = page.getByTestId('create-dialog');
  await create.getByLabel('Name', { exact: true }).fill(`E2E axe ${Date.now()}`);
  await create.getByRole('button', { name: 'Create key' }).click();
  await expect(create.getByTestId('new-secret')).toBeVisible();
  await noSeriousViolations(page, 'the secret reveal', '[data-testid="create-dialog"]');
  await create.getByTestId('close-secret').click();
  await noSeriousViolations(page, 'the close confirmation', '[data-testid="create-dialog"]');
  await create.getByTestId('confirm-close').click();

  await ready(page, '/members');
  await page.getByRole('button', { name: 'Invite member' }).click();
  await expect(page.getByTestId('invite-dialog')).toBeVisible();
  await noSeriousViolations(page, 'the invite dialog', '[data-testid="invite-dialog"]');
  await page.keyboard.press('Escape');

  await ready(page, '/billing');
  await page.getByTestId('choose-plan-starter').click();
  await expect(page.getByTestId('plan-confirm')).toBeVisible();
  await noSeriousViolations(page, 'the plan confirmation', '[data-testid="plan-confirm"]');
  await page.getByTestId('plan-confirm').getByRole('button', { name: 'Cancel' }).click();
});

/** Presses Tab until `target` has focus (at most `max` times). */
async function tabTo(page: Page, target: Locator, max = 80) {
  for (let i = 0; i < max; i++) {
    if (await target.evaluate((el) => el === document.activeElement)) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`Tab never reached ${target}`);
}

test('create, copy, confirm and revoke by keyboard alone', async ({ page }) => {
  await signIn(page, USERS.owner);
  await ready(page, '/keys', 'keys-ready');
  const name = `E2E keyboard ${Date.now()}`;
  await tabTo(page, page.getByRole('button', { name: 'New key' }));
  await page.keyboard.press('Enter');
  const dialog = page.getByTestId('create-dialog');
  await expect(dialog).toBeVisible();
  await tabTo(page, dialog.getByLabel('Name', { exact: true }));
  await page.keyboard.type(name);
  await tabTo(page, dialog.getByRole('button', { name: 'Create key' }));
  await page.keyboard.press('Enter');
  const secret = (await dialog.getByTestId('new-secret').textContent())!.trim();
  expect(secret).toMatch(/^lk_test_/);
  await tabTo(page, dialog.getByRole('button', { name: 'Copy key' }));
  await page.keyboard.press('Enter');
  await expect(dialog.getByTestId('copy-secret')).toHaveText('Copied');
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
  // Esc asks first; the confirmation takes Enter.
  await page.keyboard.press('Escape');
  const confirm = dialog.getByRole('button', { name: "Yes, I've saved it" });
  await expect(confirm).toBeVisible();
  await tabTo(page, confirm);
  await page.keyboard.press('Enter');
  await expect(dialog).toBeHidden();

  const row = page.getByTestId('key-row').filter({ hasText: name });
  await tabTo(page, row.getByRole('button', { name: `Revoke ${name}` }), 400);
  await page.keyboard.press('Enter');
  const revoke = page.getByTestId('revoke-dialog');
  await expect(revoke).toBeVisible();
  await tabTo(page, revoke.getByRole('button', { name: 'Revoke key' }));
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('notice')).toContainText(`Revoked “${name}”`);
  await expect(page.getByTestId('key-row').filter({ hasText: name })).toHaveCount(0);
});

test('no page scrolls sideways at 360 px, and the keys list becomes cards', async ({ page }) => {
  await page.setViewportSize({ width: 360, height: 740 });
  await ready(page, '/signin');
  await signIn(page, USERS.owner);
  const id = await someKeyId(page);
  for (const [url, testid] of pages(id)) {
    await ready(page, url, testid);
    const [scroll, viewport] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
    expect(scroll, `${url} is ${scroll}px wide in a ${viewport}px window`).toBeLessThanOrEqual(viewport);
  }
  // Cards: the header row is out of sight, the actions wait behind one button per key.
  await ready(page, '/keys', 'keys-ready');
  const row = page.getByTestId('key-row').first();
  await expect(row.getByTestId('key-masked')).toBeVisible();
  await expect(row.getByTestId('key-status')).toBeVisible();
  await expect(row.getByTestId('copy-id')).toBeHidden();
  await row.getByRole('button', { name: /^Actions for/ }).click();
  await expect(row.getByTestId('copy-id')).toBeVisible();
  await expect(row.getByRole('button', { name: /^Actions for/ })).toHaveAttribute('aria-expanded', 'true');
});

// The README's pictures, taken from the real app (UPDATE_SCREENSHOTS=1 writes them into docs/).
test('screenshots for the README', async ({ page, request }) => {
  const dir = process.env.UPDATE_SCREENSHOTS ? path.join(__dirname, '..', '..', 'docs', 'screenshots') : path.join(__dirname, '..', '.tmp', 'screenshots');
  fs.mkdirSync(dir, { recursive: true });
  await page.setViewportSize({ width: 1280, height: 800 });
  await signIn(page, USERS.owner);
  await ready(page, '/keys', 'keys-ready');
  await page.screenshot({ path: path.join(dir, 'keys-list.png') });

  await page.getByRole('button', { name: 'New key' }).click();
  const dialog = page.getByTestId('create-dialog');
  await dialog.getByLabel('Name', { exact: true }).fill('Billing service');
  await dialog.getByLabel('Description').fill('Charges cards from the billing worker');
  await dialog.getByRole('button', { name: 'Create key' }).click();
  const secret = (await dialog.getByTestId('new-secret').textContent())!.trim();
  await page.screenshot({ path: path.join(dir, 'create-secret.png') });
  await dialog.getByTestId('close-secret').click();
  await dialog.getByTestId('confirm-close').click();

  const auth = { Authorization: `Bearer ${secret}` };
  for (let i = 0; i < 12; i++) await request.get('/v1/whoami', { headers: auth });
  // A key-checked route that answers 404: refused, and counted.
  await request.get('/v1/keys/key_doesnotexist', { headers: auth });
  const id = (await page.getByTestId('key-row').filter({ hasText: 'Billing service' }).first().getAttribute('data-key-id'))!;
  await expect(async () => {
    await ready(page, `/keys/${id}`, 'detail-ready');
    await expect(page.getByTestId('usage-summary')).toContainText('13 requests', { timeout: 1000 });
  }).toPass({ timeout: 20_000 });
  await page.screenshot({ path: path.join(dir, 'key-detail.png'), fullPage: true });

  await ready(page, '/audit');
  await page.screenshot({ path: path.join(dir, 'audit-log.png') });
});

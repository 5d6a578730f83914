import { test, expect, Page } from '@playwright/test';
import * as fs from 'fs';
import { hydrated, signIn, PASSWORD, USERS } from './helpers';

async function openAudit(page: Page, query = '') {
  await page.goto(`/audit${query}`);
  await hydrated(page);
  await expect(page.getByTestId('audit-table')).toBeVisible();
}

const eventIds = async (page: Page) =>
  page.getByTestId('audit-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-event-id')!));

/** Creates a key through the UI and closes its secret; returns the key's id. */
async function createKey(page: Page, name: string) {
  await page.goto('/keys');
  await hydrated(page);
  await expect(page.getByTestId('keys-ready')).toHaveAttribute('data-ready', 'true');
  await page.getByRole('button', { name: 'New key' }).click();
  const dialog = page.getByTestId('create-dialog');
  await dialog.getByLabel('Name', { exact: true }).fill(name);
  await dialog.getByRole('button', { name: 'Create key' }).click();
  await expect(dialog.getByTestId('new-secret')).toBeVisible();
  await dialog.getByTestId('close-secret').click();
  await dialog.getByTestId('confirm-close').click();
  await expect(dialog).toBeHidden();
  const row = page.getByTestId('key-row').filter({ has: page.getByText(name, { exact: true }) });
  return (await row.getAttribute('data-key-id'))!;
}

/** RFC 4180: quoted fields may hold commas, quotes ("") and line breaks. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [], cell = '', quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i++; }
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(cell); cell = ''; }
    else if (c === '\r' && text[i + 1] === '\n') { row.push(cell); rows.push(row); row = []; cell = ''; i++; }
    else cell += c;
  }
  if (cell !== '' || row.length) { row.push(cell); rows.push(row); }
  return rows;
}

test('the owner filters by action and key, pages, reloads, and exports what the page shows', async ({ page, request }) => {
  await signIn(page, USERS.owner);
  const name = `Audit e2e ${Date.now()}`;
  const keyId = await createKey(page, name);
  // Enough sign-ins for more than one page of them (50 a page), from a client of its own (the
  // page's cookies stay the owner's).
  for (let i = 0; i < 55; i++) {
    const r = await request.post('/api/sign_in', {
      form: { email: USERS.admin, password: PASSWORD },
      headers: { 'sec-fetch-site': 'same-origin' },
    });
    expect(r.status()).toBe(200);
  }

  await openAudit(page);
  // Filter by action from the select, which applies it at once; the filter goes into the URL.
  await page.getByLabel('Action').selectOption('api_key.created');
  await expect(page).toHaveURL(/\/audit\?action=api_key\.created$/);
  await hydrated(page);
  const actions = await page.getByTestId('audit-action').allTextContents();
  expect(actions.length).toBeGreaterThan(0);
  expect(new Set(actions)).toEqual(new Set(['api_key.created']));
  const mine = page.getByTestId('audit-row').filter({ has: page.getByRole('link', { name }) });
  await expect(mine).toHaveCount(1);
  await expect(mine.getByTestId('audit-actor')).toHaveText(USERS.owner);
  await expect(mine.getByTestId('audit-details')).toContainText('Created with scopes');
  await expect(mine.getByRole('link', { name })).toHaveAttribute('href', `/keys/${keyId}`);
  // The exact UTC time is there on hover and focus.
  await expect(mine.locator('time')).toHaveAttribute('title', /\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);

  // By the key's name: only its events; a reload keeps the filter.
  await page.getByLabel('Action').selectOption('');
  await expect(page).toHaveURL(/\/audit$/);
  await hydrated(page);
  await page.getByLabel('Key (ID or name)').fill(name);
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await expect(page).toHaveURL(/\/audit\?key=Audit/);
  await hydrated(page);
  await expect(page.getByTestId('audit-target').filter({ hasNotText: name })).toHaveCount(0);
  const before = await eventIds(page);
  expect(before.length).toBeGreaterThan(0);
  await page.reload();
  await hydrated(page);
  await expect(page.getByLabel('Key (ID or name)')).toHaveValue(name);
  expect(await eventIds(page)).toEqual(before);

  // Paging back and forth through the sign-ins.
  await openAudit(page, '?action=user.signed_in');
  const first = await eventIds(page);
  expect(first.length).toBe(50);
  await expect(page.getByTestId('audit-newer')).toHaveAttribute('aria-disabled', 'true');
  await page.getByTestId('audit-older').click();
  await expect(page).toHaveURL(/before=\d+/);
  await hydrated(page);
  const second = await eventIds(page);
  expect(second.length).toBeGreaterThan(0);
  expect(second.filter((id) => first.includes(id))).toEqual([]);
  expect(Number(second[0])).toBeLessThan(Number(first[first.length - 1]));
  await expect(page.getByLabel('Action')).toHaveValue('user.signed_in');
  await page.getByTestId('audit-newer').click();
  await expect(page).toHaveURL(/after=\d+/);
  await hydrated(page);
  expect(await eventIds(page)).toEqual(first);

  // The CSV of this filter holds the page's rows, in order.
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByTestId('audit-export').click(),
  ]);
  expect(download.suggestedFilename()).toMatch(/^latchkey-audit-\d{4}-\d\d-\d\d\.csv$/);
  const rows = parseCsv(fs.readFileSync((await download.path())!, 'utf8'));
  expect(rows[0].slice(0, 4)).toEqual(['id', 'time_utc', 'actor', 'action']);
  const csvIds = rows.slice(1).map((r) => r[0]);
  expect(csvIds.slice(0, first.length)).toEqual(first);
  expect(new Set(rows.slice(1).map((r) => r[3]))).toEqual(new Set(['user.signed_in']));

  // The export itself is on the log.
  await openAudit(page, '?action=audit.exported');
  const exported = page.getByTestId('audit-row').first();
  await expect(exported.getByTestId('audit-actor')).toHaveText(USERS.owner);
  await expect(exported.getByTestId('audit-details')).toContainText('action=user.signed_in');
});

test('an admin reads the audit log from the navigation', async ({ page }) => {
  await signIn(page, USERS.admin);
  await page.getByTestId('nav-audit').click();
  await expect(page).toHaveURL(/\/audit$/);
  await hydrated(page);
  await expect(page.getByRole('heading', { name: 'Audit log' })).toBeVisible();
  await expect(page.getByTestId('audit-row').first()).toBeVisible();
  await expect(page.getByTestId('audit-row').filter({ hasText: 'user.signed_in' }).first()).toBeVisible();
});

test('a member has no audit navigation and no access at the URL', async ({ page }) => {
  await signIn(page, USERS.member);
  await expect(page.getByTestId('nav-keys')).toBeVisible();
  await expect(page.getByTestId('nav-audit')).toHaveCount(0);
  await page.goto('/audit?action=api_key.created');
  await hydrated(page);
  await expect(page.getByTestId('no-access')).toBeVisible();
  await expect(page.getByTestId('audit-row')).toHaveCount(0);
  const csv = await page.request.get('/audit/export.csv?tenant=1');
  expect(csv.status()).toBe(403);
});

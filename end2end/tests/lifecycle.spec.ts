import { test, expect, Locator, Page } from '@playwright/test';
import { hydrated, signIn, storageAndLog, USERS } from './helpers';

test.use({ permissions: ['clipboard-read', 'clipboard-write'] });

// Every secret this file sees. Each test checks its own at its end; the last test sweeps them
// through every key's page too.
const secrets: string[] = [];

async function openKeys(page: Page) {
  await page.goto('/keys');
  await hydrated(page);
  await expect(page.getByTestId('keys-ready')).toHaveAttribute('data-ready', 'true');
}

async function openDetail(page: Page, id: string) {
  await page.goto(`/keys/${id}`);
  await hydrated(page);
  await expect(page.getByTestId('detail-ready')).toHaveAttribute('data-ready', 'true');
}

/** Creates a key from the list page and closes its secret; returns the secret and the key's row. */
async function createKey(page: Page, name: string, opts: { expiresOn?: string } = {}) {
  await page.getByRole('button', { name: 'New key' }).click();
  const dialog = page.getByTestId('create-dialog');
  await dialog.getByLabel('Name', { exact: true }).fill(name);
  if (opts.expiresOn) await dialog.getByLabel('Expires on (optional)').fill(opts.expiresOn);
  await dialog.getByRole('button', { name: 'Create key' }).click();
  const secret = await readSecret(dialog);
  await dialog.getByTestId('close-secret').click();
  await dialog.getByTestId('confirm-close').click();
  await expect(dialog).toBeHidden();
  const row = rowNamed(page, name);
  await expect(row).toHaveCount(1);
  return { secret, row, id: (await row.getAttribute('data-key-id'))! };
}

async function readSecret(dialog: Locator) {
  const el = dialog.getByTestId('new-secret');
  await expect(el).toHaveText(/^lk_(test|live)_[0-9A-Za-z]{38}$/);
  const secret = (await el.textContent())!.trim();
  secrets.push(secret);
  return secret;
}

const rowNamed = (page: Page, name: string) =>
  page.getByTestId('key-row').filter({ has: page.getByTestId('key-name').getByText(name, { exact: true }) });

const rowWithId = (page: Page, id: string) => page.locator(`[data-testid="key-row"][data-key-id="${id}"]`);

/** None of `mine` in the page now, the database files or the server log. */
async function expectNowhere(page: Page, mine: string[]) {
  const haystacks: [string, string][] = [['the page', await page.content()], ...storageAndLog()];
  for (const s of mine) {
    // The random part: neither the prefix nor the checksum alone gives anything away.
    const random = s.slice(8, 40);
    for (const [where, text] of haystacks) {
      expect(text.includes(random), `secret found in ${where}`).toBe(false);
    }
  }
}

test('the owner rolls a key with a 24 h overlap and sees the new secret once; the keys link each other', async ({ page, request }) => {
  await signIn(page, USERS.owner);
  await openKeys(page);
  const old = await createKey(page, 'E2E roll source');

  await old.row.getByRole('button', { name: /^Roll/ }).click();
  const dialog = page.getByTestId('roll-dialog');
  await expect(dialog).toContainText('Roll “E2E roll source”');
  await expect(dialog.getByRole('radio', { name: '24 hours' })).toBeChecked();
  await expect(dialog.getByTestId('roll-effect')).toHaveText('The old key keeps working for 24 hours, then stops.');
  await dialog.getByRole('radio', { name: '1 hour' }).check();
  await expect(dialog.getByTestId('roll-effect')).toHaveText('The old key keeps working for 1 hour, then stops.');
  await dialog.getByRole('radio', { name: /^Now/ }).check();
  await expect(dialog.getByTestId('roll-effect')).toHaveText(/stops working at once/);
  await dialog.getByRole('radio', { name: '24 hours' }).check();
  await dialog.getByRole('button', { name: 'Roll key' }).click();

  const secret = await readSecret(dialog);
  expect(secret).not.toBe(old.secret);
  await dialog.getByRole('button', { name: 'Copy key' }).click();
  await expect(dialog.getByTestId('copy-secret')).toHaveText('Copied');
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
  // Closing asks first, as for a new key.
  await page.keyboard.press('Escape');
  await expect(dialog.getByTestId('confirm-close')).toBeVisible();
  await dialog.getByRole('button', { name: "Yes, I've saved it" }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId('notice')).toContainText('Rolled “E2E roll source”');

  // Both keys are listed: the old one rolled, counting down; the new one active and rollable.
  const rows = rowNamed(page, 'E2E roll source');
  await expect(rows).toHaveCount(2);
  const oldRow = rowWithId(page, old.id);
  await expect(oldRow.getByTestId('key-status')).toHaveText(/^Rolled · expires in 2[34] h$/);
  await expect(oldRow.getByTestId('roll-key')).toHaveCount(0);
  const ids = await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-key-id')!));
  const newId = ids.find((id) => id !== old.id)!;
  expect(newId).toMatch(/^key_/);
  await expect(rowWithId(page, newId).getByTestId('key-status')).toHaveText('Active');
  await expect(rowWithId(page, newId).getByTestId('roll-key')).toHaveCount(1);

  // Both work during the overlap.
  for (const s of [old.secret, secret]) {
    const res = await request.get('/v1/whoami', { headers: { Authorization: `Bearer ${s}` } });
    expect(res.status()).toBe(200);
  }

  // The detail pages link each other.
  await oldRow.getByTestId('key-name').click();
  await expect(page.getByTestId('detail-id')).toHaveText(old.id);
  await expect(page.getByTestId('detail-ready')).toHaveAttribute('data-ready', 'true');
  await expect(page.getByTestId('replaced-by')).toHaveText(`Replaced by ${newId}`);
  await expect(page.getByTestId('key-status')).toHaveText(/^Rolled · expires in 2[34] h$/);
  await expect(page.getByTestId('roll-key')).toHaveCount(0);
  await expect(page.getByTestId('audit-trail')).toContainText('api_key.rolled');
  await page.getByRole('link', { name: newId }).click();
  await expect(page).toHaveURL(new RegExp(`/keys/${newId}$`));
  await expect(page.getByTestId('detail-id')).toHaveText(newId);
  await expect(page.getByTestId('replaces')).toHaveText(`Replaces ${old.id}`);
  await expect(page.getByTestId('replaced-by')).toHaveCount(0);
  await page.getByRole('link', { name: old.id }).click();
  await expect(page.getByTestId('detail-id')).toHaveText(old.id);

  await expectNowhere(page, [old.secret, secret]);
});

test('rolling with "now" stops the old key at once', async ({ page, request }) => {
  await signIn(page, USERS.admin);
  await openKeys(page);
  const old = await createKey(page, 'E2E roll now');
  await old.row.getByRole('button', { name: /^Roll/ }).click();
  const dialog = page.getByTestId('roll-dialog');
  await dialog.getByRole('radio', { name: /^Now/ }).check();
  await dialog.getByRole('button', { name: 'Roll key' }).click();
  const secret = await readSecret(dialog);
  await dialog.getByTestId('close-secret').click();
  await dialog.getByTestId('confirm-close').click();
  await expect(dialog).toBeHidden();

  await expect(rowWithId(page, old.id).getByTestId('key-status')).toHaveText('Expired');
  await expect(rowWithId(page, old.id).getByTestId('roll-key')).toHaveCount(0);
  await expect(rowWithId(page, old.id).getByTestId('disable-key')).toHaveCount(0);
  const refused = await request.get('/v1/whoami', { headers: { Authorization: `Bearer ${old.secret}` } });
  expect(refused.status()).toBe(401);
  expect((await refused.json()).error.code).toBe('key_expired');
  const ok = await request.get('/v1/whoami', { headers: { Authorization: `Bearer ${secret}` } });
  expect(ok.status()).toBe(200);

  await expectNowhere(page, [old.secret, secret]);
});

test('a roll the server refuses says why in the dialog', async ({ page, context }) => {
  await signIn(page, USERS.owner);
  await openKeys(page);
  const old = await createKey(page, 'E2E roll twice');
  await old.row.getByRole('button', { name: /^Roll/ }).click();
  const dialog = page.getByTestId('roll-dialog');
  await expect(dialog.getByRole('button', { name: 'Roll key' })).toBeVisible();

  // Meanwhile another tab rolls the same key.
  const other = await context.newPage();
  await openKeys(other);
  await rowWithId(other, old.id).getByRole('button', { name: /^Roll/ }).click();
  const otherDialog = other.getByTestId('roll-dialog');
  await otherDialog.getByRole('button', { name: 'Roll key' }).click();
  const otherSecret = await readSecret(otherDialog);
  await otherDialog.getByTestId('close-secret').click();
  await otherDialog.getByTestId('confirm-close').click();
  await other.close();

  await dialog.getByRole('button', { name: 'Roll key' }).click();
  await expect(dialog.getByRole('alert')).toContainText('already rolled');
  await expect(dialog.getByTestId('new-secret')).toHaveCount(0);
  // Nothing to confirm: no secret was shown.
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(dialog).toBeHidden();

  await expectNowhere(page, [old.secret, otherSecret]);
});

test('a key is disabled and enabled again from the list', async ({ page, request }) => {
  await signIn(page, USERS.owner);
  await openKeys(page);
  const key = await createKey(page, 'E2E pausable');
  const auth = { Authorization: `Bearer ${key.secret}` };

  await key.row.getByRole('button', { name: /^Disable/ }).click();
  await expect(key.row.getByTestId('key-status')).toHaveText('Disabled');
  await expect(page.getByTestId('notice')).toContainText('Disabled “E2E pausable”');
  await expect(key.row.getByRole('button', { name: /^Disable/ })).toHaveCount(0);
  const refused = await request.get('/v1/whoami', { headers: auth });
  expect(refused.status()).toBe(401);
  expect((await refused.json()).error.code).toBe('key_disabled');

  await key.row.getByRole('button', { name: /^Enable/ }).click();
  await expect(key.row.getByTestId('key-status')).toHaveText('Active');
  await expect(page.getByTestId('notice')).toContainText('Enabled “E2E pausable”');
  expect((await request.get('/v1/whoami', { headers: auth })).status()).toBe(200);

  // The detail page toggles too, and says when it was disabled.
  await openDetail(page, key.id);
  await page.getByRole('button', { name: /^Disable/ }).click();
  await expect(page.getByTestId('key-status')).toHaveText('Disabled');
  await expect(page.getByTestId('audit-trail')).toContainText('api_key.disabled');
  await page.getByRole('button', { name: /^Enable/ }).click();
  await expect(page.getByTestId('key-status')).toHaveText('Active');
  await expect(page.getByTestId('audit-trail')).toContainText('api_key.enabled');

  await expectNowhere(page, [key.secret]);
});

test('the status filter narrows the list', async ({ page }) => {
  await signIn(page, USERS.owner);
  await openKeys(page);
  const off = await createKey(page, 'E2E filter off');
  const on = await createKey(page, 'E2E filter on');
  const gone = await createKey(page, 'E2E filter gone');
  await off.row.getByRole('button', { name: /^Disable/ }).click();
  await expect(off.row.getByTestId('key-status')).toHaveText('Disabled');
  await gone.row.getByRole('button', { name: /^Revoke/ }).click();
  await page.getByTestId('revoke-dialog').getByRole('button', { name: 'Revoke key' }).click();
  await expect(rowNamed(page, 'E2E filter gone')).toHaveCount(0);

  const filter = page.getByLabel('Status');
  await expect(filter).toHaveValue('');
  await filter.selectOption({ label: 'Disabled' });
  await expect(rowNamed(page, 'E2E filter on')).toHaveCount(0);
  await expect(rowNamed(page, 'E2E filter off')).toHaveCount(1);
  for (const s of await page.getByTestId('key-status').allTextContents()) expect(s).toBe('Disabled');
  // The select keeps its choice through the reload, and the revoked toggle has no say.
  await expect(page.getByTestId('status-filter')).toHaveValue('disabled');
  await expect(page.getByTestId('include-revoked')).toBeDisabled();

  // A revoked key is listed under Revoked, with nothing left to roll, disable or enable.
  await filter.selectOption({ label: 'Revoked' });
  const revoked = rowNamed(page, 'E2E filter gone');
  await expect(revoked.getByTestId('key-status')).toHaveText('Revoked');
  await expect(rowNamed(page, 'E2E filter off')).toHaveCount(0);
  for (const t of ['roll-key', 'disable-key', 'enable-key']) await expect(revoked.getByTestId(t)).toHaveCount(0);

  await filter.selectOption({ label: 'Active' });
  await expect(rowNamed(page, 'E2E filter off')).toHaveCount(0);
  await expect(rowNamed(page, 'E2E filter on')).toHaveCount(1);
  for (const s of await page.getByTestId('key-status').allTextContents()) expect(s).toMatch(/^(Active|Rolled)/);

  await filter.selectOption({ label: 'All' });
  await expect(rowNamed(page, 'E2E filter off')).toHaveCount(1);
  await expect(rowNamed(page, 'E2E filter on')).toHaveCount(1);
  await expect(page.getByTestId('include-revoked')).toBeEnabled();

  await expectNowhere(page, [off.secret, on.secret, gone.secret]);
});

test('a key expiring within 7 days says so, and the Expiring filter finds it', async ({ page }) => {
  await signIn(page, USERS.owner);
  await openKeys(page);
  // Three days from now (UTC): the key works through the end of that day.
  const day = new Date(Date.now() + 3 * 86_400_000).toISOString().slice(0, 10);
  const soon = await createKey(page, 'E2E expiring soon', { expiresOn: day });
  const later = await createKey(page, 'E2E expiring later', {
    expiresOn: new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10),
  });
  await expect(soon.row.getByTestId('key-status')).toHaveText('Active');
  await expect(soon.row.getByTestId('key-expiry')).toHaveText('expires in 3 days');
  await expect(later.row.getByTestId('key-expiry')).toHaveCount(0);

  await page.getByLabel('Status').selectOption({ label: 'Expiring within 7 days' });
  await expect(rowNamed(page, 'E2E expiring soon')).toHaveCount(1);
  await expect(rowNamed(page, 'E2E expiring later')).toHaveCount(0);

  await openDetail(page, soon.id);
  await expect(page.getByTestId('key-expiry')).toHaveText('expires in 3 days');
  await expect(page.getByTestId('detail-expires')).toHaveText(day);

  await expectNowhere(page, [soon.secret, later.secret]);
});

test('a member sees no Roll, Disable or Enable', async ({ page, browser }) => {
  // An owner makes sure there is an active and a disabled key to look at.
  const owner = await browser.newContext();
  const ownerPage = await owner.newPage();
  await signIn(ownerPage, USERS.owner);
  await openKeys(ownerPage);
  const active = await createKey(ownerPage, 'E2E member sees active');
  const disabled = await createKey(ownerPage, 'E2E member sees disabled');
  await disabled.row.getByRole('button', { name: /^Disable/ }).click();
  await expect(disabled.row.getByTestId('key-status')).toHaveText('Disabled');
  await owner.close();

  await signIn(page, USERS.member);
  await openKeys(page);
  await expect(rowNamed(page, 'E2E member sees active')).toHaveCount(1);
  await expect(rowNamed(page, 'E2E member sees disabled').getByTestId('key-status')).toHaveText('Disabled');
  for (const id of ['roll-key', 'disable-key', 'enable-key']) {
    await expect(page.getByTestId(id)).toHaveCount(0);
  }
  for (const id of [active.id, disabled.id]) {
    await openDetail(page, id);
    await expect(page.getByTestId('request-log')).toBeVisible();
    for (const t of ['roll-key', 'disable-key', 'enable-key']) {
      await expect(page.getByTestId(t)).toHaveCount(0);
    }
  }

  await expectNowhere(page, [active.secret, disabled.secret]);
});

test('no secret from these tests appears on any key page', async ({ page }) => {
  test.skip(secrets.length === 0, 'runs after the tests above, with the secrets they saw');
  await signIn(page, USERS.owner);
  await openKeys(page);
  await page.getByTestId('include-revoked').check();
  const ids = await page.getByTestId('key-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-key-id')!));
  await expectNowhere(page, secrets);
  for (const f of ['disabled', 'expired', 'expiring']) {
    await page.getByTestId('status-filter').selectOption(f);
    await expect(page.getByTestId('status-filter')).toHaveValue(f);
    await expectNowhere(page, secrets);
  }
  for (const id of ids) {
    await openDetail(page, id);
    await expectNowhere(page, secrets);
  }
});

import { test, expect, Page } from '@playwright/test';
import { hydrated, signIn, storageAndLog, USERS } from './helpers';

test.use({ permissions: ['clipboard-read', 'clipboard-write'] });

async function openMembers(page: Page) {
  await page.goto('/members');
  await hydrated(page);
  await expect(page.getByTestId('members-table')).toBeVisible();
}

/** The token's random part is in no database file and not in the server log. */
function expectTokenNowhere(token: string) {
  const random = token.slice(4);
  for (const [where, text] of storageAndLog()) {
    expect(text.includes(random), `invitation token found in ${where}`).toBe(false);
  }
}

test('the owner invites a member, who joins in a fresh browser, reads keys, and loses them as viewer', async ({ page, browser }) => {
  await signIn(page, USERS.owner);
  await openMembers(page);
  const email = `e2e-${Date.now()}@example.test`;
  await page.getByRole('button', { name: 'Invite member' }).click();
  const dialog = page.getByTestId('invite-dialog');
  await dialog.getByLabel('Email').fill(email);
  await dialog.getByLabel('Role').selectOption('member');
  await dialog.getByRole('button', { name: 'Send invitation' }).click();
  const linkEl = dialog.getByTestId('invite-link');
  await expect(linkEl).toHaveText(/\/invite#lki_[0-9A-Za-z]{40}$/);
  const link = (await linkEl.textContent())!.trim();
  await dialog.getByRole('button', { name: 'Copy link' }).click();
  await expect(dialog.getByTestId('copy-invite-link')).toHaveText('Copied');
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(link);
  await dialog.getByRole('button', { name: 'Done' }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId('invitation-row').filter({ hasText: email })).toHaveCount(1);

  // A fresh browser, nobody signed in, opens the link.
  const other = await browser.newContext();
  const newcomer = await other.newPage();
  await newcomer.goto(link);
  await hydrated(newcomer);
  await expect(newcomer.getByTestId('invite-summary')).toContainText(`Olivia Owner invited ${email} to Acme Financial Group as Member`);
  await newcomer.getByLabel('Your name').fill('Nina Newcomer');
  await newcomer.getByLabel('Password').fill('short');
  await newcomer.getByRole('button', { name: 'Create account and join' }).click();
  await expect(newcomer.getByTestId('error-password')).toContainText('12 characters');
  await newcomer.getByLabel('Password').fill('nina picks a long passphrase');
  await newcomer.getByRole('button', { name: 'Create account and join' }).click();
  await expect(newcomer).toHaveURL(/\/keys$/);
  await hydrated(newcomer);
  await expect(newcomer.getByTestId('keys-ready')).toHaveAttribute('data-ready', 'true');
  await expect(newcomer.getByTestId('user-role')).toHaveText('Member');
  await expect(newcomer.getByRole('button', { name: 'New key' })).toHaveCount(0);
  // The link is spent.
  const again = await other.newPage();
  await again.goto(link);
  await hydrated(again);
  await expect(again.getByTestId('invite-unusable')).toContainText('already used');

  // The owner makes them a viewer; their next navigation has no keys page.
  await openMembers(page);
  const row = page.getByTestId('member-row').filter({ hasText: email });
  await expect(row.getByTestId('member-role')).toHaveText('Member');
  await row.getByLabel('Role of Nina Newcomer').selectOption('viewer');
  await expect(row.getByTestId('member-role')).toHaveText('Viewer');
  await newcomer.goto('/keys');
  await hydrated(newcomer);
  await expect(newcomer.getByTestId('no-access')).toBeVisible();
  await expect(newcomer.getByTestId('key-row')).toHaveCount(0);
  await other.close();

  expectTokenNowhere(link.split('#')[1]);
});

test('an admin sees owners without controls, and manages the rest', async ({ page }) => {
  await signIn(page, USERS.admin);
  await page.getByTestId('nav-members').click();
  await hydrated(page);
  await expect(page.getByTestId('members-table')).toBeVisible();
  const owner = page.locator(`[data-testid="member-row"][data-email="${USERS.owner}"]`);
  await expect(owner.getByTestId('member-role')).toHaveText('Owner');
  await expect(owner.getByRole('combobox')).toHaveCount(0);
  await expect(owner.getByRole('button')).toHaveCount(0);
  const viewer = page.locator(`[data-testid="member-row"][data-email="${USERS.viewer}"]`);
  const select = viewer.getByRole('combobox');
  await expect(select).toBeVisible();
  // An admin is never offered "Owner".
  await expect(select.locator('option')).toHaveText(['Admin', 'Member', 'Viewer']);
});

test('a member has no members navigation and no access at the URL', async ({ page }) => {
  await signIn(page, USERS.member);
  await expect(page.getByTestId('nav-members')).toHaveCount(0);
  await page.goto('/members');
  await hydrated(page);
  await expect(page.getByTestId('no-access')).toBeVisible();
  await expect(page.getByTestId('member-row')).toHaveCount(0);
});

test('the API Keys header shows the organisation id with a copy button', async ({ page }) => {
  await signIn(page, USERS.owner);
  await page.goto('/keys');
  await hydrated(page);
  const id = (await page.getByTestId('tenant-id-value').textContent())!.trim();
  expect(id).toMatch(/^org_\w+$/);
  await page.getByRole('button', { name: 'Copy organisation ID' }).click();
  await expect(page.getByTestId('copy-tenant-id')).toHaveText('Copied');
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(id);
});

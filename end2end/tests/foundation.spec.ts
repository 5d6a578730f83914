import { test, expect } from '@playwright/test';
import { hydrated, signIn, USERS } from './helpers';

const NAV = ['nav-keys', 'nav-audit', 'nav-members', 'nav-billing'];
const ALLOWED: Record<string, string[]> = {
  owner: ['nav-keys', 'nav-audit', 'nav-members', 'nav-billing'],
  admin: ['nav-keys', 'nav-audit', 'nav-members', 'nav-billing'],
  member: ['nav-keys', 'nav-billing'],
  viewer: ['nav-billing'],
};

for (const role of ['owner', 'admin', 'member', 'viewer'] as const) {
  test(`${role} signs in and sees the navigation the role allows`, async ({ page }) => {
    await signIn(page, USERS[role]);
    await expect(page.getByTestId('user-role')).toHaveText(new RegExp(role, 'i'));
    for (const id of NAV) {
      if (ALLOWED[role].includes(id)) {
        await expect(page.getByTestId(id)).toBeVisible();
      } else {
        await expect(page.getByTestId(id)).toHaveCount(0);
      }
    }
  });
}

test('a wrong password shows an error and starts no session', async ({ page, context }) => {
  await page.goto('/signin');
  await hydrated(page);
  await page.getByLabel('Email').fill(USERS.owner);
  await page.getByLabel('Password').fill('definitely-wrong');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('sign-in-error')).toContainText("don't match");
  await expect(page).toHaveURL(/\/signin/);
  const cookies = await context.cookies();
  expect(cookies.find((c) => c.name === 'lk_session')).toBeUndefined();
  await page.goto('/billing');
  await expect(page).toHaveURL(/\/signin/);
});

test('the session cookie is HttpOnly and SameSite', async ({ page, context }) => {
  await signIn(page, USERS.member);
  const c = (await context.cookies()).find((c) => c.name === 'lk_session');
  expect(c).toBeDefined();
  expect(c!.httpOnly).toBe(true);
  expect(c!.sameSite).toBe('Lax');
  expect(await page.evaluate(() => document.cookie)).not.toContain('lk_session');
});

test('the owner changes the plan and it stays changed after a reload', async ({ page }) => {
  await signIn(page, USERS.owner);
  await page.getByTestId('nav-billing').click();
  await expect(page.getByTestId('current-plan')).toHaveText('Professional');
  await page.getByTestId('choose-plan-enterprise').click();
  await expect(page.getByTestId('current-plan')).toHaveText('Enterprise');
  await expect(page.getByTestId('header-plan')).toHaveText('Enterprise');
  await page.reload();
  await hydrated(page);
  await expect(page.getByTestId('current-plan')).toHaveText('Enterprise');
  // Put it back for the other tests: a downgrade says what it takes away and asks first (a native
  // dialog: each downgrade has its own, so the open one is found by role).
  await page.getByTestId('choose-plan-professional').click();
  const confirm = page.getByRole('dialog', { name: 'Confirm plan change' });
  await expect(confirm.getByTestId('plan-consequences')).toContainText('requests a minute');
  await confirm.getByTestId('confirm-plan').click();
  await expect(page.getByTestId('current-plan')).toHaveText('Professional');
});

test('an admin sees Billing read-only', async ({ page }) => {
  await signIn(page, USERS.admin);
  await page.goto('/billing');
  await hydrated(page);
  await expect(page.getByTestId('current-plan')).toHaveText('Professional');
  await expect(page.getByTestId('billing-read-only')).toBeVisible();
  await expect(page.getByRole('button', { name: /Switch to/ })).toHaveCount(0);
});

test('signing out ends the session', async ({ page, context }) => {
  await signIn(page, USERS.admin);
  await page.getByTestId('sign-out').click();
  await expect(page).toHaveURL(/\/signin/);
  expect((await context.cookies()).find((c) => c.name === 'lk_session')).toBeUndefined();
  await page.goto('/members');
  await expect(page).toHaveURL(/\/signin/);
});

test('a member of two tenants switches between them', async ({ page }) => {
  await signIn(page, USERS.consultant);
  const switcher = page.getByTestId('tenant-switcher');
  await expect(switcher.locator('option:checked')).toHaveText('Acme Financial Group');
  await switcher.selectOption({ label: 'Starter Studio' });
  await expect(page.getByTestId('header-plan')).toHaveText('Starter');
  await expect(page.getByTestId('user-role')).toHaveText('Member');
  await page.getByTestId('tenant-switcher').selectOption({ label: 'Acme Financial Group' });
  await expect(page.getByTestId('header-plan')).toHaveText('Professional');
});

test('the layout fits a 360 px screen', async ({ page }) => {
  await page.setViewportSize({ width: 360, height: 740 });
  await signIn(page, USERS.owner);
  await page.goto('/billing');
  await hydrated(page);
  const overflow = await page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
  expect(overflow).toBeLessThanOrEqual(0);
  await expect(page.getByTestId('nav-billing')).toBeVisible();

  // The header is one row: brand, organisation and a menu holding the rest.
  const brand = (await page.getByRole('link', { name: 'Latchkey', exact: true }).boundingBox())!;
  const header = (await page.getByRole('banner').boundingBox())!;
  expect(header.height, 'the header is one row').toBeLessThan(brand.height * 2 + 24);
  const menu = page.getByRole('button', { name: 'Menu' });
  await expect(page.getByTestId('sign-out')).toBeHidden();
  await menu.click();
  await expect(menu).toHaveAttribute('aria-expanded', 'true');
  await expect(page.getByTestId('sign-out')).toBeVisible();
  await expect(page.getByTestId('header-plan')).toBeVisible();
});


import { test, expect, Page, APIRequestContext } from '@playwright/test';
import { execFileSync } from 'child_process';
import { randomBytes } from 'crypto';
import { hydrated, signIn } from './helpers';

// The operator API (issue 24) as the SaaS's backend uses it, and what people then see. Each test
// makes its own tenant and owner through `/v1/admin`, so none depends on another or on the demo.
// run.sh creates the operator token (OPERATOR_TOKEN) and serves `--resource-type account=…`.

const token = process.env.OPERATOR_TOKEN ?? '';

function operator() {
  expect(token, 'OPERATOR_TOKEN is unset: end2end/run.sh creates it').toMatch(/^lko_/);
  return { Authorization: `Bearer ${token}` };
}

function unique() {
  return randomBytes(6).toString('hex');
}

/** The CLI against the suite's database (run.sh passes both variables on). */
function cli(args: string[], env: Record<string, string> = {}) {
  const bin = process.env.LATCHKEY_BIN;
  expect(bin, 'LATCHKEY_BIN is unset').toBeTruthy();
  return execFileSync(bin!, ['--log', 'error', ...args], { env: { ...process.env, ...env } }).toString();
}

interface Org {
  external: string;
  email: string;
  password: string;
}

async function putTenant(request: APIRequestContext, external: string, status?: 'active' | 'suspended') {
  const res = await request.put(`/v1/admin/tenants/${external}`, {
    headers: operator(),
    data: { name: `Op Test ${external}`, plan: 'professional', ...(status ? { status } : {}) },
  });
  expect(res.status(), await res.text()).toBeLessThan(300);
}

async function putRequirements(request: APIRequestContext, external: string, list: { id: string; label: string; met: boolean }[]) {
  const res = await request.put(`/v1/admin/tenants/${external}/requirements`, { headers: operator(), data: list });
  expect(res.status(), await res.text()).toBe(200);
}

/**
 * A fresh tenant and its owner. The operator API creates people without a password (they arrive
 * through the SaaS), so the owner is made with the CLI first and the member `PUT` links them by
 * email: the test can then sign in as a person would.
 */
async function newOrg(request: APIRequestContext): Promise<Org> {
  const id = unique();
  const org = { external: `e2e-op-${id}`, email: `op-${id}@example.com`, password: `e2e-operator-${id}` };
  cli(['user', 'create', '--email', org.email, '--name', `Op Owner ${id}`], { LATCHKEY_USER_PASSWORD: org.password });
  await putTenant(request, org.external);
  const member = await request.put(`/v1/admin/tenants/${org.external}/members/user-${id}`, {
    headers: operator(),
    data: { email: org.email, name: `Op Owner ${id}`, role: 'owner' },
  });
  expect(member.status(), await member.text()).toBeLessThan(300);
  return org;
}

async function openKeys(page: Page) {
  await page.goto('/keys');
  await hydrated(page);
  await expect(page.getByTestId('keys-ready')).toHaveAttribute('data-ready', 'true');
}

test('unmet requirements replace "New key" with their checklist until they are met', async ({ page, request }) => {
  const org = await newOrg(request);
  await putRequirements(request, org.external, [
    { id: 'agreement', label: 'Agreement on file', met: true },
    { id: 'kyb', label: 'KYB review complete', met: false },
  ]);
  await signIn(page, org.email, org.password);
  await openKeys(page);

  // The header shows the opaque id and the SaaS's own, never the internal number.
  await expect(page.getByTestId('tenant-id-value')).toHaveText(/^org_\w+$/);
  await expect(page.getByTestId('tenant-external-id-value')).toHaveText(org.external);

  const checklist = page.getByTestId('requirements-checklist');
  await expect(checklist.getByRole('heading', { name: 'Before you can create keys' })).toBeVisible();
  const items = checklist.getByTestId('requirement');
  await expect(items).toHaveCount(2);
  await expect(items.filter({ hasText: 'Agreement on file' })).toContainText('Done');
  await expect(items.filter({ hasText: 'KYB review complete' })).toContainText('Pending');
  await expect(page.getByRole('button', { name: 'New key' })).toHaveCount(0);

  await putRequirements(request, org.external, [
    { id: 'agreement', label: 'Agreement on file', met: true },
    { id: 'kyb', label: 'KYB review complete', met: true },
  ]);
  await openKeys(page);
  await expect(page.getByRole('button', { name: 'New key' })).toBeVisible();
  await expect(page.getByTestId('requirements-checklist')).toHaveCount(0);
});

test('a suspended organisation sees a banner on every page until it is active again', async ({ page, request }) => {
  const org = await newOrg(request);
  await signIn(page, org.email, org.password);
  await openKeys(page);
  await expect(page.getByTestId('suspended-banner')).toHaveCount(0);

  await putTenant(request, org.external, 'suspended');
  await openKeys(page);
  const banner = page.getByRole('alert').filter({ hasText: 'This organisation is suspended.' });
  await expect(banner).toHaveText(
    'This organisation is suspended. Its API keys are refused until it is active again; you can still list and revoke them.',
  );
  await expect(banner).toHaveAttribute('data-testid', 'suspended-banner');
  await page.goto('/billing');
  await hydrated(page);
  await expect(page.getByTestId('suspended-banner')).toBeVisible();

  await putTenant(request, org.external, 'active');
  await openKeys(page);
  await expect(page.getByTestId('suspended-banner')).toHaveCount(0);
});

test('the create dialog limits a new key to chosen resources of a declared type', async ({ page, request }) => {
  const org = await newOrg(request);
  for (const [id, name] of [['acct_1', 'Operating'], ['acct_2', 'Payroll']]) {
    const res = await request.put(`/v1/admin/tenants/${org.external}/resources/account/${id}`, {
      headers: operator(),
      data: { name },
    });
    expect(res.status(), await res.text()).toBeLessThan(300);
  }
  await signIn(page, org.email, org.password);
  await openKeys(page);
  await page.getByRole('button', { name: 'New key' }).click();
  const dialog = page.getByTestId('create-dialog');
  const picker = dialog.getByRole('group', { name: 'Limit to resources' });
  await expect(picker.getByLabel('Payroll (acct_2)')).not.toBeChecked();
  await picker.getByLabel('Operating (acct_1)').check();
  await dialog.getByLabel('Name', { exact: true }).fill('E2E limited key');
  await dialog.getByRole('button', { name: 'Create key' }).click();
  await expect(dialog.getByTestId('new-secret')).toHaveText(/^lk_test_/);
});

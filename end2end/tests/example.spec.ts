import { test, expect, Page } from '@playwright/test';
import * as fs from 'fs';
import { freePort, Latchkey, Started, startLatchkey, startProcess } from './servers';

// The runnable example of the whole integration (examples/saas, issue 25): the SaaS signs its
// user in with its own password, provisions its tenant and user through /v1/admin, and its
// "API keys" link mints a portal link and redirects. Its user lands on Latchkey signed in
// without typing a Latchkey password, and "← Back to Acme SaaS" returns.

/**
 * Latchkey with the portal flags pointing at the example SaaS, and the example talking to it
 * with Latchkey's operator token (the SaaS's port is picked first: Latchkey must know it).
 */
async function startBoth(): Promise<{ lk: Latchkey; saas: Started; stop: () => Promise<void> }> {
  const bin = process.env.SAAS_EXAMPLE_BIN;
  if (!bin) throw new Error('SAAS_EXAMPLE_BIN must point at the saas-example binary (make e2e builds it: cargo build -p saas-example)');
  const saasPort = await freePort();
  const saasUrl = `http://127.0.0.1:${saasPort}`;
  const lk = await startLatchkey([
    '--portal-return-origin', saasUrl,
    '--portal-refresh-url', `${saasUrl}/api-keys`,
    '--product-name', 'Acme SaaS',
  ]);
  try {
    const saas = await startProcess('saas', bin,
      (port) => ['--addr', `127.0.0.1:${port}`, '--latchkey-url', lk.url], '/signin',
      { SAAS_OPERATOR_TOKEN: lk.operatorToken }, saasPort);
    return { lk, saas, stop: async () => { await saas.stop(); await lk.stop(); } };
  } catch (e) {
    await lk.stop();
    throw e;
  }
}

async function signInToSaas(page: Page, saas: Started, password = 'acme-demo-password') {
  await page.goto(`${saas.url}/signin`);
  await page.getByLabel('Email').fill('alice@example.test');
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

test('"API keys" on the SaaS lands on Latchkey\'s keys page signed in, and the way back returns', async ({ page }) => {
  const { lk, saas, stop } = await startBoth();
  try {
    await page.goto(saas.url);
    await expect(page).toHaveURL(`${saas.url}/signin`);
    await signInToSaas(page, saas);
    await expect(page.getByText('Signed in as Alice Example')).toBeVisible();

    // Every request from here on is recorded: Latchkey's password form must never be sent.
    const posted: string[] = [];
    page.on('request', (r) => {
      if (r.method() === 'POST') posted.push(r.url());
    });
    await page.getByRole('link', { name: 'API keys' }).click();
    await expect(page).toHaveURL(`${lk.url}/keys`);
    await expect(page.getByTestId('app')).toHaveAttribute('data-hydrated', 'true');
    await expect(page.getByTestId('keys-ready')).toHaveAttribute('data-ready', 'true');
    // Signed in as the SaaS's user, in the tenant the SaaS provisioned, as its owner.
    await expect(page.getByRole('button', { name: 'New key' })).toBeVisible();
    await expect(page.getByText('Acme SaaS demo workspace').first()).toBeVisible();
    expect(posted.filter((u) => u.includes('sign_in'))).toEqual([]);
    // The one-time token never reached Latchkey in a URL (it rides in the fragment).
    expect(fs.readFileSync(lk.log, 'utf8')).not.toMatch(/lkp_/);

    await page.getByRole('link', { name: '← Back to Acme SaaS' }).click();
    await expect(page).toHaveURL(`${saas.url}/`);
    await expect(page.getByText('Signed in as Alice Example')).toBeVisible();
  } finally {
    await stop();
  }
});

test('an ended portal session goes back through the SaaS for a fresh link, still without a password', async ({ page }) => {
  const { lk, saas, stop } = await startBoth();
  try {
    await signInToSaas(page, saas);
    await page.getByRole('link', { name: 'API keys' }).click();
    await expect(page).toHaveURL(`${lk.url}/keys`);
    await expect(page.getByTestId('keys-ready')).toHaveAttribute('data-ready', 'true');

    // The SaaS's backend ends Alice's Latchkey sessions (say, she signed out of the SaaS elsewhere).
    const res = await fetch(`${lk.url}/v1/admin/portal-sessions/expire`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${lk.operatorToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ tenant: 'acme-saas-demo', user: 'alice' }),
    });
    expect(res.status, await res.text()).toBe(200);

    // Latchkey sends her to the SaaS's /api-keys, which mints a new link: she is back, signed in.
    const visited: string[] = [];
    page.on('framenavigated', (f) => {
      if (f === page.mainFrame()) visited.push(f.url());
    });
    await page.reload();
    await expect(page).toHaveURL(`${lk.url}/keys`);
    await expect(page.getByTestId('keys-ready')).toHaveAttribute('data-ready', 'true');
    await expect(page.getByRole('button', { name: 'New key' })).toBeVisible();
    expect(visited.some((u) => u.startsWith(`${lk.url}/portal`))).toBe(true);
  } finally {
    await stop();
  }
});

test('the SaaS refuses a wrong password and never reaches Latchkey', async ({ page }) => {
  const { lk, saas, stop } = await startBoth();
  try {
    await signInToSaas(page, saas, 'wrong password');
    await expect(page.getByRole('alert')).toHaveText('Wrong email or password.');
    // Without the SaaS's session, "API keys" mints nothing: back to the SaaS's sign-in.
    await page.goto(`${saas.url}/api-keys`);
    await expect(page).toHaveURL(`${saas.url}/signin`);
    // Nothing was provisioned in Latchkey.
    const tenant = await fetch(`${lk.url}/v1/admin/tenants/acme-saas-demo`, {
      headers: { Authorization: `Bearer ${lk.operatorToken}` },
    });
    expect(tenant.status).toBe(404);
  } finally {
    await stop();
  }
});

import { expect, test, Page } from '@playwright/test';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { hydrated } from './helpers';
import { Latchkey, startLatchkey, startProcess, Started } from './servers';

// Signing in with the SaaS's OpenID provider (issue 25), against a real one: panva's certified
// `oidc-provider` (end2end/oidc/provider.mjs), authorization code with PKCE. The provider takes
// any login at its development login page; the login is the email (verified).

const CLIENT_ID = 'latchkey-e2e';
const CLIENT_SECRET = 'e2e-client-secret-0123456789';
const LABEL = 'Sign in with Acme ID';

let provider: Started;
let lk: Latchkey;
let secretDir: string;

test.beforeAll(async () => {
  // A loopback redirect URI registered without a port matches Latchkey's, whichever it gets
  // (the provider treats the client as native, RFC 8252).
  provider = await startProcess(
    'oidc-provider',
    'node',
    (port) => [path.join(__dirname, '..', 'oidc', 'provider.mjs'), String(port), CLIENT_ID, CLIENT_SECRET,
      'http://127.0.0.1/auth/oidc/callback'],
    '/.well-known/openid-configuration',
  );
  secretDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lk-oidc-secret-'));
  const secretFile = path.join(secretDir, 'client-secret');
  fs.writeFileSync(secretFile, CLIENT_SECRET, { mode: 0o600 });
  lk = await startLatchkey([
    '--oidc-issuer', provider.url, '--oidc-client-id', CLIENT_ID,
    '--oidc-client-secret-file', secretFile, '--oidc-button-label', LABEL, '--oidc-allow-private',
  ]);
});

test.afterAll(async () => {
  await lk?.stop();
  await provider?.stop();
  if (secretDir) fs.rmSync(secretDir, { recursive: true, force: true });
});

/** From Latchkey's sign-in page, through the provider's login and consent, as `login`. */
async function signInWithProvider(page: Page, login: string) {
  await page.goto(`${lk.url}/signin`);
  await hydrated(page);
  await page.getByRole('link', { name: LABEL }).click();
  await expect(page).toHaveURL(new RegExp(`^${provider.url}/interaction/`));
  await page.getByPlaceholder('Enter any login').fill(login);
  await page.getByPlaceholder('and password').fill('anything');
  await page.getByRole('button', { name: 'Sign-in' }).click();
  await page.getByRole('button', { name: 'Continue' }).click();
}

test('a member signs in with the provider (code + PKCE) and lands on their keys', async ({ page }) => {
  await signInWithProvider(page, 'owner@acme.test');
  await expect(page).toHaveURL(`${lk.url}/keys`);
  await hydrated(page);
  await expect(page.getByRole('heading', { name: 'API Keys' })).toBeVisible();
  // Signed in as the demo owner: the session says so.
  const session = await page.request.post(`${lk.url}/api/session`, {
    headers: { 'sec-fetch-site': 'same-origin', Accept: 'application/json' },
  });
  expect((await session.json()).email).toBe('owner@acme.test');
});

test('someone the provider knows but with no organisation is told to ask for an invitation', async ({ page }) => {
  await signInWithProvider(page, `nobody-${Date.now()}@nowhere.test`);
  await expect(page).toHaveURL(`${lk.url}/signin?sso=no-membership`);
  await expect(page.getByRole('heading', { name: 'No organisation yet' })).toBeVisible();
  await expect(page.getByText('Ask an owner of your organisation for an invitation')).toBeVisible();
  const session = await page.request.post(`${lk.url}/api/session`, {
    headers: { 'sec-fetch-site': 'same-origin', Accept: 'application/json' },
  });
  expect(await session.json()).toBeNull();
});

test('the sign-in page offers the provider beside the password form', async ({ page }) => {
  await page.goto(`${lk.url}/signin`);
  await hydrated(page);
  await expect(page.getByRole('link', { name: LABEL })).toHaveAttribute('href', '/auth/oidc/start');
  await expect(page.getByLabel('Password')).toBeVisible();
  await page.goto(`${lk.url}/signin?sso=failed`);
  await expect(page.getByRole('alert')).toHaveText('Single sign-on did not complete. Try again.');
});

import { test, expect, Page } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import * as crypto from 'crypto';
import * as http from 'http';
import { AddressInfo } from 'net';
import { hydrated, signIn, storageAndLog, USERS } from './helpers';

// Webhooks and leak response, as an owner sees them: an endpoint on a loopback receiver that
// checks every signature with Node's own HMAC (an implementation apart from the server's), a
// test event in the delivery log, and a key reported leaked through the API.

type Got = { id: string; type: string; verified: boolean; body: string };

/** A receiver on 127.0.0.1 answering 200 and checking Standard Webhooks signatures. */
async function startReceiver() {
  const got: Got[] = [];
  let secret = '';
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      const id = String(req.headers['webhook-id'] ?? '');
      const timestamp = String(req.headers['webhook-timestamp'] ?? '');
      const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
      const expected = crypto.createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
      const signatures = String(req.headers['webhook-signature'] ?? '').split(' ');
      const fresh = Math.abs(Date.now() / 1000 - Number(timestamp)) < 300;
      let type = '';
      try {
        type = JSON.parse(body).type;
      } catch {
        type = 'not json';
      }
      got.push({ id, type, verified: fresh && signatures.includes(`v1,${expected}`), body });
      res.writeHead(200);
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    got,
    setSecret: (s: string) => (secret = s),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function openWebhooks(page: Page) {
  await page.goto('/webhooks');
  await hydrated(page);
  await expect(page.getByRole('heading', { name: 'Webhooks', level: 1 })).toBeVisible();
}

/** Adds an endpoint through the dialog; returns its card and the signing secret shown once. */
async function addEndpoint(page: Page, url: string, events: string[]) {
  await page.getByRole('button', { name: 'Add endpoint' }).click();
  const dialog = page.getByTestId('endpoint-dialog');
  await dialog.getByLabel('Endpoint URL').fill(url);
  for (const e of events) await dialog.getByRole('checkbox', { name: e, exact: true }).check();
  await dialog.getByRole('button', { name: 'Add endpoint' }).click();
  const shown = dialog.getByTestId('signing-secret');
  await expect(shown).toHaveText(/^whsec_[A-Za-z0-9+/]{43}=$/);
  const secret = (await shown.textContent())!.trim();
  await dialog.getByRole('button', { name: 'Done' }).click();
  await expect(dialog).toBeHidden();
  return { card: page.getByTestId('endpoint').filter({ hasText: url }), secret };
}

async function removeEndpoint(page: Page, url: string) {
  await page.getByRole('button', { name: `Remove the endpoint ${url}` }).click();
  await page.getByRole('button', { name: 'Remove endpoint' }).click();
  await expect(page.getByTestId('endpoint').filter({ hasText: url })).toHaveCount(0);
}

test('the owner adds an endpoint, sends a test event and sees it delivered in the log', async ({ page }) => {
  const rx = await startReceiver();
  await signIn(page, USERS.owner);
  await page.getByTestId('nav-webhooks').click();
  await hydrated(page);
  await expect(page).toHaveURL(/\/webhooks$/);

  // https is required except on this machine.
  await page.getByRole('button', { name: 'Add endpoint' }).click();
  const dialog = page.getByTestId('endpoint-dialog');
  await dialog.getByLabel('Endpoint URL').fill('http://hooks.example.com/x');
  await dialog.getByRole('checkbox', { name: 'api_key.revoked', exact: true }).check();
  const violations = (await new AxeBuilder({ page }).include('[data-testid="endpoint-dialog"]').analyze()).violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => v.id);
  expect(violations).toEqual([]);
  await dialog.getByRole('button', { name: 'Add endpoint' }).click();
  await expect(dialog.getByText('Use https (plain http is allowed only to localhost).')).toBeVisible();
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(dialog).toBeHidden();

  const { card, secret } = await addEndpoint(page, rx.url, ['api_key.revoked', 'api_key.leaked']);
  rx.setSecret(secret);
  await expect(card).toContainText('Sends: api_key.revoked, api_key.leaked');
  await expect(card.getByTestId('no-attempts')).toBeVisible();

  await card.getByRole('button', { name: 'Send test event' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'queued' })).toBeVisible();
  const row = card.getByTestId('attempt-row').first();
  await expect(row).toContainText('webhook.test', { timeout: 15_000 });
  await expect(row).toContainText('Delivered (200)');
  await expect(row).toContainText(/\d+ ms/);
  expect(rx.got.map((g) => [g.type, g.verified])).toEqual([['webhook.test', true]]);

  // The signing secret is shown once: not on the page after a reload, nor in storage or logs.
  await page.reload();
  await hydrated(page);
  const raw = secret.slice('whsec_'.length);
  expect(await page.content()).not.toContain(raw);
  for (const [where, text] of storageAndLog()) {
    expect(text.includes(raw), `signing secret found in ${where}`).toBe(false);
  }
  await removeEndpoint(page, rx.url);
  await rx.close();
});

test('a key reported leaked through the API is refused at once and its page says so in red', async ({ page, request }) => {
  const rx = await startReceiver();
  await signIn(page, USERS.owner);
  await openWebhooks(page);
  const { secret: signing } = await addEndpoint(page, rx.url, ['api_key.leaked']);
  rx.setSecret(signing);

  await page.goto('/keys');
  await hydrated(page);
  const name = `E2E leaked ${Date.now()}`;
  await page.getByRole('button', { name: 'New key' }).click();
  const create = page.getByTestId('create-dialog');
  await create.getByLabel('Name', { exact: true }).fill(name);
  await create.getByRole('button', { name: 'Create key' }).click();
  const secret = (await create.getByTestId('new-secret').textContent())!.trim();
  await create.getByTestId('close-secret').click();
  await create.getByTestId('confirm-close').click();
  const id = (await page.getByTestId('key-row').filter({ hasText: name }).getAttribute('data-key-id'))!;
  const auth = { Authorization: `Bearer ${secret}` };
  expect((await request.get('/v1/whoami', { headers: auth })).status()).toBe(200);

  const foundAt = 'https://github.com/acme/app/blob/main/.env';
  const report = (token: string) =>
    request.post('/v1/leaks', { data: [{ token, type: 'latchkey_key', url: foundAt, source: 'commit' }] });
  const real = await report(secret);
  const junk = await report('lk_live_thisisnotakeyatallthisisnotakey00');
  expect(real.status()).toBe(200);
  expect(await real.text()).toBe(await junk.text());
  const refused = await request.get('/v1/whoami', { headers: auth });
  expect(refused.status()).toBe(401);
  expect((await refused.json()).error.code).toBe('key_revoked');

  await page.goto(`/keys/${id}`);
  await hydrated(page);
  const banner = page.getByTestId('leak-banner');
  await expect(banner).toHaveAttribute('role', 'alert');
  await expect(banner).toContainText(`Leaked — reported at ${foundAt}`);
  await expect(banner.getByRole('link', { name: foundAt })).toHaveAttribute('href', foundAt);

  // The endpoint heard of it, signed.
  await expect.poll(() => rx.got.map((g) => [g.type, g.verified]), { timeout: 15_000 }).toEqual([['api_key.leaked', true]]);
  const event = JSON.parse(rx.got[0].body);
  expect(event.data.key.id).toBe(id);
  expect(event.data.details.url).toBe(foundAt);
  expect(rx.got[0].body).not.toContain(secret);

  await openWebhooks(page);
  await removeEndpoint(page, rx.url);
  await rx.close();
});

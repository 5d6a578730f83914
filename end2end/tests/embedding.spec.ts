import { test, expect, Page } from '@playwright/test';
import { randomBytes } from 'crypto';
import * as http from 'http';
import { AddressInfo } from 'net';
import { Latchkey, startLatchkey } from './servers';

// Latchkey inside the SaaS's own page (issue 25, embedding). The SaaS's page is a tiny server on
// http://localhost:<port>, another site than Latchkey's http://127.0.0.1:<port>, so the frame is
// cross-site as in production: it needs CSP `frame-ancestors` to list the SaaS, and a session
// cookie that is `SameSite=None; Secure; Partitioned` (Chromium keeps Secure cookies from
// http://127.0.0.1 and http://localhost, so no TLS is needed here).

test.use({ permissions: ['clipboard-read', 'clipboard-write'] });

interface Host {
  origin: string;
  /** The SaaS page framing `src`, as a SaaS would embed Latchkey. */
  pageFor: (src: string) => string;
  close: () => Promise<void>;
}

/** The SaaS's page: `/?src=<url>` frames that URL with the clipboard allowed. */
async function startHost(): Promise<Host> {
  const server = http.createServer((req, res) => {
    const src = new URL(req.url ?? '/', 'http://localhost').searchParams.get('src') ?? '';
    const attr = src.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.end(`<!doctype html><html><head><title>Acme SaaS</title></head><body>
<h1>Acme SaaS settings</h1>
<iframe title="API keys" src="${attr}" allow="clipboard-write" width="1200" height="800"
  onload="document.body.dataset.framed = 'loaded'"></iframe>
</body></html>`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const origin = `http://localhost:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    pageFor: (src) => `${origin}/?src=${encodeURIComponent(src)}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

async function operator(lk: Latchkey, method: string, path: string, body: unknown) {
  const res = await fetch(lk.url + path, {
    method,
    headers: { Authorization: `Bearer ${lk.operatorToken}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  expect(res.status, `${method} ${path}: ${text}`).toBeLessThan(300);
  return JSON.parse(text || 'null');
}

/** A fresh tenant with one owner, both provisioned as the SaaS's backend would, and a link for them. */
async function portalLink(lk: Latchkey): Promise<string> {
  const id = randomBytes(6).toString('hex');
  const tenant = `embed-${id}`;
  const user = `user-${id}`;
  await operator(lk, 'PUT', `/v1/admin/tenants/${tenant}`, { name: `Embedded ${id}`, plan: 'professional' });
  await operator(lk, 'PUT', `/v1/admin/tenants/${tenant}/members/${user}`, {
    email: `embed-${id}@example.com`,
    name: `Embedded Owner ${id}`,
    role: 'owner',
  });
  const link = await operator(lk, 'POST', '/v1/admin/portal-links', { tenant, user });
  expect(link.url).toMatch(new RegExp(`^${lk.url}/portal#lkp_`));
  return link.url;
}

/** Opens the SaaS page framing `src`; resolves with the frame's own answer from Latchkey. */
async function openFramed(page: Page, host: Host, src: string, lk: Latchkey) {
  const answer = page.waitForResponse((r) => r.url().startsWith(`${lk.url}/portal`) && r.request().isNavigationRequest());
  await page.goto(host.pageFor(src));
  return answer;
}

test('a listed origin frames Latchkey: a portal link signs in, a key is created and copied', async ({ page }) => {
  const host = await startHost();
  const lk = await startLatchkey(['--frame-ancestors', host.origin]);
  try {
    const url = await portalLink(lk);
    const answer = await openFramed(page, host, url, lk);
    expect(answer.headers()['content-security-policy']).toContain(`frame-ancestors ${host.origin}`);
    expect(answer.headers()['x-frame-options']).toBeUndefined();

    // The portal page reads the fragment, signs in and lands on the keys page, all in the frame.
    const frame = page.frameLocator('iframe');
    await expect(frame.getByTestId('app')).toHaveAttribute('data-hydrated', 'true');
    await expect(frame.getByTestId('keys-ready')).toHaveAttribute('data-ready', 'true');
    await expect.poll(() => page.frames().map((f) => f.url())).toContain(`${lk.url}/keys`);
    expect(page.url()).toBe(host.pageFor(url));

    await frame.getByRole('button', { name: 'New key' }).click();
    const dialog = frame.getByTestId('create-dialog');
    await expect(dialog).toBeVisible();
    await dialog.getByLabel('Name', { exact: true }).fill('Embedded key');
    await dialog.getByRole('button', { name: 'Create key' }).click();
    const secretEl = dialog.getByTestId('new-secret');
    await expect(secretEl).toHaveText(/^lk_test_[0-9A-Za-z]{38}$/);
    const secret = (await secretEl.textContent())!.trim();

    // The clipboard is allowed to the frame by `allow="clipboard-write"` on the SaaS's iframe.
    await dialog.getByRole('button', { name: 'Copy key' }).click();
    await expect(dialog.getByTestId('copy-secret')).toHaveText('Copied');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);

    // The session rode the partitioned cookie: a reload of the frame stays signed in.
    await page.reload();
    await expect(frame.getByTestId('app')).toHaveAttribute('data-hydrated', 'true');
  } finally {
    await lk.stop();
    await host.close();
  }
});

test('without --frame-ancestors the frame is refused', async ({ page }) => {
  const host = await startHost();
  const lk = await startLatchkey();
  try {
    const url = await portalLink(lk);
    const answer = await openFramed(page, host, url, lk);
    expect(answer.headers()['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(answer.headers()['x-frame-options']).toBe('DENY');
    // The browser has finished with the frame, and it shows nothing of Latchkey.
    await expect(page.locator('body')).toHaveAttribute('data-framed', 'loaded');
    await expect(page.getByRole('heading', { name: 'Acme SaaS settings' })).toBeVisible();
    const frame = page.frameLocator('iframe');
    await expect(frame.getByTestId('app')).toHaveCount(0);
    await expect(frame.getByRole('heading')).toHaveCount(0);
    expect(page.frames().map((f) => f.url())).not.toContain(`${lk.url}/keys`);
  } finally {
    await lk.stop();
    await host.close();
  }
});

test('an origin that is not listed cannot frame Latchkey either', async ({ page }) => {
  const listed = await startHost();
  const other = await startHost();
  const lk = await startLatchkey(['--frame-ancestors', listed.origin]);
  try {
    const url = await portalLink(lk);
    const answer = await openFramed(page, other, url, lk);
    expect(answer.headers()['content-security-policy']).toContain(`frame-ancestors ${listed.origin}`);
    await expect(page.locator('body')).toHaveAttribute('data-framed', 'loaded');
    const frame = page.frameLocator('iframe');
    await expect(frame.getByTestId('app')).toHaveCount(0);
    await expect(frame.getByRole('heading')).toHaveCount(0);
  } finally {
    await lk.stop();
    await listed.close();
    await other.close();
  }
});

import { expect, test, APIRequestContext, request as newRequest } from '@playwright/test';
import { hydrated } from './helpers';
import { Latchkey, Started, startLatchkey, startProcess } from './servers';

// Portal links (issue 25): the SaaS backend mints a one-time link; the browser lands signed in,
// pinned to the tenant, with "← Back to …". A Latchkey of this spec's own carries the portal
// flags; a one-line node server stands for the SaaS (where "Back" and a fresh link lead).

const SAAS_PAGE = "require('http').createServer((q, s) => { s.setHeader('content-type', 'text/html'); " +
  "s.end('<h1>Acme SaaS: opening API keys again</h1>'); }).listen(+process.argv[1], '127.0.0.1')";
let SAAS: string;
let saas: Started;
let lk: Latchkey;
let api: APIRequestContext;

test.beforeAll(async () => {
  saas = await startProcess('saas', 'node', (port) => ['-e', SAAS_PAGE, String(port)], '/');
  SAAS = saas.url;
  lk = await startLatchkey([
    '--portal-return-origin', SAAS, '--portal-refresh-url', `${SAAS}/latchkey`,
    '--product-name', 'Acme SaaS',
  ]);
  api = await newRequest.newContext({
    baseURL: lk.url,
    extraHTTPHeaders: { Authorization: `Bearer ${lk.operatorToken}` },
  });
  // A SaaS customer who belongs to two tenants: the portal session must stay in one.
  for (const [ext, name] of [['portal-co', 'Portal Co'], ['other-co', 'Other Co']]) {
    expect((await api.put(`/v1/admin/tenants/${ext}`, { data: { name, plan: 'professional' } })).ok()).toBeTruthy();
    expect((await api.put(`/v1/admin/tenants/${ext}/members/cust-1`, {
      data: { email: 'cust-1@saas.test', name: 'Casey Customer', role: 'owner' },
    })).ok()).toBeTruthy();
  }
});

test.afterAll(async () => {
  await api?.dispose();
  await lk?.stop();
  await saas?.stop();
});

async function mint(extra: Record<string, unknown> = {}): Promise<string> {
  const res = await api.post('/v1/admin/portal-links', {
    data: { tenant: 'portal-co', user: 'cust-1', return_url: `${SAAS}/settings`, ...extra },
  });
  expect(res.status(), await res.text()).toBe(201);
  return (await res.json()).url;
}

test('a portal link lands on the keys page signed in, pinned, with the way back', async ({ page }) => {
  await page.goto(await mint());
  await expect(page).toHaveURL(/\/keys$/);
  await hydrated(page);
  await expect(page.getByTestId('tenant-name')).toHaveText('Portal Co');
  await expect(page.getByTestId('tenant-switcher')).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'New key' })).toBeVisible();
  const back = page.getByRole('link', { name: '← Back to Acme SaaS' });
  await expect(back).toHaveAttribute('href', `${SAAS}/settings`);
  // The fragment never reached the server: the address bar no longer holds the link either.
  expect(page.url()).not.toContain('lkp_');
});

test('a read-only link shows keys and no way to change them', async ({ page }) => {
  await page.goto(await mint({ read_only: true }));
  await expect(page).toHaveURL(/\/keys$/);
  await hydrated(page);
  await expect(page.getByTestId('user-role')).toHaveText('Member');
  await expect(page.getByRole('button', { name: 'New key' })).toHaveCount(0);
});

test('a link works once: the second browser is refused', async ({ page, browser }) => {
  const url = await mint();
  await page.goto(url);
  await expect(page).toHaveURL(/\/keys$/);
  const other = await browser.newContext();
  const second = await other.newPage();
  await second.goto(url);
  await expect(second.getByTestId('portal-refused')).toContainText("This sign-in link can't be used");
  await other.close();
});

test('an ended portal session goes back to the SaaS for a fresh link', async ({ page }) => {
  await page.goto(await mint());
  await expect(page).toHaveURL(/\/keys$/);
  const res = await api.post('/v1/admin/portal-sessions/expire', { data: { tenant: 'portal-co', user: 'cust-1' } });
  expect(res.ok()).toBeTruthy();
  await page.reload();
  await expect(page).toHaveURL(`${SAAS}/latchkey`);
  await expect(page.getByRole('heading', { name: 'Acme SaaS: opening API keys again' })).toBeVisible();
});

// `make bench`'s page figures: what a first load of each page costs, and how soon it answers,
// in Debian's Chromium under Lighthouse's "Slow 4G" throttle with a cold cache, signed in.
//
//   node end2end/bench/tti.mjs http://127.0.0.1:PORT [runs]
//
// The server must be a demo (`latchkey serve --demo`): the script signs in as the demo owner; the
// detail page is the first listed key's (one is created when there is none). Per page, the median of `runs` (3) loads, each in a fresh
// browser context (its own empty HTTP cache) carrying the session cookie:
//   html       the document's body bytes / bytes on the wire (headers included, as compressed)
//   wasm/js/css bytes on the wire for the bundle's files (CDP Network.loadingFinished)
//   tti        ms from navigation start until the page answers: on /keys, until "New key"
//              (clicked every 50 ms from the moment the page starts loading) has opened its
//              dialog and the page is hydrated (the dialog opens natively, but its "Create key"
//              posts only once the page script runs); elsewhere, until `[data-testid=app]`
//              says `data-hydrated="true"`.
// The table's last line names the content encodings the bundle came in (the server picks the
// precompressed copy the browser accepts).
import { chromium } from '@playwright/test';

const base = (process.argv[2] ?? '').replace(/\/$/, '');
const RUNS = Number(process.argv[3] ?? 3);
if (!/^https?:\/\//.test(base) || !(RUNS >= 1)) {
  console.error('usage: node end2end/bench/tti.mjs <base url> [runs]');
  process.exit(2);
}
const EMAIL = 'owner@acme.test';
const PASSWORD = 'latchkey-demo';
// Lighthouse's mobileSlow4G (150 ms RTT, 1.6 Mbps down, 750 Kbps up, CPU x4) as Lighthouse
// applies it through DevTools: request-level throttling gets the RTT x3.75 and the throughput
// x0.9, its stand-in for the TCP behaviour it does not model.
const SLOW_4G = {
  offline: false,
  latency: 150 * 3.75,
  downloadThroughput: (1.6 * 1024 * 1024 * 0.9) / 8,
  uploadThroughput: (750 * 1024 * 0.9) / 8,
};
const CPU_SLOWDOWN = 4;
// A page that never answers is a finding, not a hang: its run fails after this long.
const RUN_TIMEOUT_MS = 120_000;

// Runs in every document before its own scripts: notes (ms since navigation start) when the
// app marks itself hydrated and when the create dialog first opens, as the page sees them.
const OBSERVER = () => {
  const seen = { hydrated: null, dialog: null };
  window.__lkBench = seen;
  const check = () => {
    const now = performance.now();
    if (seen.hydrated === null && document.querySelector('[data-testid=app][data-hydrated=true]')) {
      seen.hydrated = now;
    }
    const dialog = document.querySelector('[data-testid=create-dialog]');
    if (seen.dialog === null && dialog && (dialog.open || dialog.checkVisibility?.())) {
      seen.dialog = now;
    }
  };
  new MutationObserver(check).observe(document, {
    subtree: true,
    childList: true,
    attributes: true,
    attributeFilter: ['data-hydrated', 'open', 'class', 'style'],
  });
};

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

async function hydrated(page) {
  await page.locator('[data-testid=app][data-hydrated=true]').waitFor({ timeout: 60_000 });
}

/** Signs in unthrottled; the session for every measured context. */
async function signIn(browser) {
  const context = await browser.newContext({ baseURL: base });
  const page = await context.newPage();
  await page.goto('/signin');
  await hydrated(page);
  await page.getByLabel('Email').fill(EMAIL);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => !url.pathname.startsWith('/signin'), { timeout: 60_000 });
  await hydrated(page);
  return { context, page };
}

/** The id of a key for the detail page: the first listed, else one created now; null if neither. */
async function someKeyId(context, page) {
  const firstId = async (p) => {
    await p.goto('/keys');
    await hydrated(p);
    const href = await p.locator('[data-testid=key-name]').first().getAttribute('href', { timeout: 5_000 }).catch(() => null);
    return href?.match(/^\/keys\/([^/?#]+)/)?.[1] ?? null;
  };
  const existing = await firstId(page);
  if (existing) return existing;
  try {
    await page.getByRole('button', { name: 'New key' }).click({ timeout: 10_000 });
    const dialog = page.getByTestId('create-dialog');
    await dialog.getByLabel('Name', { exact: true }).fill('Bench key', { timeout: 10_000 });
    await dialog.getByRole('button', { name: 'Create key' }).click();
    await dialog.getByTestId('new-secret').waitFor({ timeout: 30_000 });
  } catch (e) {
    console.error(`  (no key created, skipping the detail page: ${e.message.split('\n')[0]})`);
    return null;
  }
  // A fresh page: closing this one skips the reveal's "have you saved it?" guard.
  await page.close();
  return firstId(await context.newPage());
}

/** One cold, throttled load of `path`: its byte counts and when it answered. */
async function measure(browser, storageState, path) {
  const context = await browser.newContext({ baseURL: base, storageState });
  try {
    const page = await context.newPage();
    await page.addInitScript(OBSERVER);
    // A same-origin document first, so the throttled navigation stays in this renderer (and
    // its CDP session) rather than swapping process; it loads no asset, so the cache stays cold.
    await page.goto('/healthz');
    const cdp = await context.newCDPSession(page);
    const requests = new Map();
    cdp.on('Network.requestWillBeSent', (e) =>
      requests.set(e.requestId, { url: e.request.url, type: e.type, bytes: null, encoding: null }),
    );
    cdp.on('Network.responseReceived', (e) => {
      const r = requests.get(e.requestId);
      const h = Object.fromEntries(Object.entries(e.response.headers).map(([k, v]) => [k.toLowerCase(), v]));
      if (r) r.encoding = h['content-encoding'] ?? 'identity';
    });
    cdp.on('Network.loadingFinished', (e) => {
      const r = requests.get(e.requestId);
      if (r) r.bytes = e.encodedDataLength;
    });
    await cdp.send('Network.enable');
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
    await cdp.send('Network.emulateNetworkConditions', SLOW_4G);
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: CPU_SLOWDOWN });

    const url = base + path;
    const deadline = Date.now() + RUN_TIMEOUT_MS;
    const response = await page.goto(url, { waitUntil: 'commit', timeout: RUN_TIMEOUT_MS });
    const clicks = path === '/keys';
    const newKey = page.getByRole('button', { name: 'New key' });
    const key = clicks ? 'dialog' : 'hydrated';
    let tti = null;
    while (tti === null) {
      if (Date.now() > deadline) throw new Error(`${path}: no answer within ${RUN_TIMEOUT_MS / 1000} s`);
      if (clicks) {
        // force: a click on the server-rendered button before its island is live does
        // nothing, which is the point; only the first one that opens the dialog counts.
        await newKey.click({ force: true, timeout: 2_000, noWaitAfter: true }).catch(() => {});
      }
      tti = await page
        .evaluate((k) => {
          const seen = window.__lkBench;
          if (!seen || seen.hydrated === null || seen[k] === null) return null;
          return Math.max(seen.hydrated, seen[k]);
        }, key)
        .catch(() => null);
      if (tti === null) await sleep(50);
    }
    // Every asset of the first load in: its byte count is final.
    await page.waitForLoadState('load', { timeout: Math.max(1, deadline - Date.now()) });
    while ([...requests.values()].some((r) => r.bytes === null) && Date.now() < deadline) await sleep(50);

    const doc = [...requests.values()].find((r) => r.type === 'Document' && r.url === url);
    const body = response ? (await response.body()).length : 0;
    const wire = (ext) =>
      [...requests.values()]
        .filter((r) => new URL(r.url).pathname.endsWith(ext))
        .reduce((sum, r) => sum + (r.bytes ?? 0), 0);
    for (const r of requests.values()) {
      if (/\.(wasm|js|css)$/.test(new URL(r.url).pathname) && r.encoding) encodings.add(r.encoding);
    }
    return { html: body, htmlWire: doc?.bytes ?? 0, wasm: wire('.wasm'), js: wire('.js'), css: wire('.css'), tti };
  } finally {
    await context.close();
  }
}

// Content encodings the bundle's files arrived in, over every run.
const encodings = new Set();
const kb = (n) => `${(n / 1000).toFixed(1)} kB`;

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
let failed = false;
try {
  const { context, page } = await signIn(browser);
  const storageState = await context.storageState();
  const keyId = await someKeyId(context, page);
  await context.close();

  const pages = ['/keys', ...(keyId ? [`/keys/${keyId}`] : []), '/audit', '/members', '/webhooks', '/billing'];
  console.log(
    `Pages in Chromium, Lighthouse Slow 4G (150 ms RTT, 1.6 Mbps down, 750 Kbps up, CPU x${CPU_SLOWDOWN}), cold cache, signed in; median of ${RUNS}`,
  );
  console.log(`  ${'page'.padEnd(14)} ${'html body / wire'.padStart(20)} ${'wasm'.padStart(10)} ${'js'.padStart(9)} ${'css'.padStart(9)} ${'tti'.padStart(9)}`);
  for (const path of pages) {
    const label = path.startsWith('/keys/') ? '/keys/<id>' : path;
    const runs = [];
    try {
      for (let i = 0; i < RUNS; i++) runs.push(await measure(browser, storageState, path));
    } catch (e) {
      failed = true;
      console.log(`  ${label.padEnd(14)} failed: ${e.message.split('\n')[0]}`);
      continue;
    }
    const m = (k) => median(runs.map((r) => r[k]));
    const html = `${kb(m('html'))} / ${kb(m('htmlWire'))}`;
    console.log(
      `  ${label.padEnd(14)} ${html.padStart(20)} ${kb(m('wasm')).padStart(10)} ${kb(m('js')).padStart(9)} ${kb(m('css')).padStart(9)} ${`${Math.round(m('tti'))} ms`.padStart(9)}`,
    );
  }
  console.log(
    `  (html: body / on the wire with headers; wasm, js, css on the wire as ${[...encodings].join(', ') || 'nothing'}; ` +
      'tti: /keys until "New key" has opened its dialog and the page is hydrated, the others until it is hydrated)',
  );
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);

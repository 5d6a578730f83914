import { expect, Page } from '@playwright/test';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

export const PASSWORD = 'latchkey-demo';

export const USERS = {
  owner: 'owner@acme.test',
  admin: 'admin@acme.test',
  member: 'member@acme.test',
  viewer: 'viewer@acme.test',
  starterOwner: 'owner@starter.test',
  consultant: 'consultant@example.test',
};

/** Waits until the server-rendered page has hydrated and reacts to input. */
export async function hydrated(page: Page) {
  await expect(page.getByTestId('app')).toHaveAttribute('data-hydrated', 'true');
}

export async function signIn(page: Page, email: string, password = PASSWORD) {
  await page.goto('/signin');
  await hydrated(page);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).not.toHaveURL(/\/signin/);
  await hydrated(page);
}

/**
 * Where a secret must never be stored, as [where, text]: every file in the server's data
 * directory (the SQLite database and its WAL), a dump of the PostgreSQL database when the suite
 * runs against one (LATCHKEY_STORAGE_DUMP_URL, set by cluster.sh), and the server log.
 */
export function storageAndLog(): [string, string][] {
  const haystacks: [string, string][] = [];
  const dataDir = process.env.LATCHKEY_DATA_DIR;
  if (dataDir && fs.existsSync(dataDir)) {
    for (const f of fs.readdirSync(dataDir)) {
      const file = path.join(dataDir, f);
      if (fs.statSync(file).isFile()) haystacks.push([f, fs.readFileSync(file).toString('latin1')]);
    }
  }
  const dumpUrl = process.env.LATCHKEY_STORAGE_DUMP_URL;
  if (dumpUrl) {
    haystacks.push(['the PostgreSQL database', execFileSync('pg_dump', ['--data-only', dumpUrl], { maxBuffer: 1 << 30 }).toString('latin1')]);
  }
  const logFile = process.env.LATCHKEY_SERVER_LOG;
  if (logFile) haystacks.push(['server log', fs.readFileSync(logFile, 'utf8')]);
  return haystacks;
}

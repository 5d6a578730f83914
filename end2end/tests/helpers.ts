import { expect, Page } from '@playwright/test';

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

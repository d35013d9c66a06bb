/**
 * Email and password sign-in (PLATEN_PASSWORD_SIGN_IN=1) in headless Chromium: an admin adds a
 * person on the People page and gets a one-time link; the person sets a password there (which
 * signs them in) and signs in with their email later; a wrong password is refused in words, and
 * guessing one email's password is cut off whatever the address; a person turned off is signed out.
 * At desktop and phone widths, axe clean, error states included.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeViolations, scrollsSideways, WIDTHS } from '../support/axe.js';
import { toastOn, useBrowser } from '../support/browser.js';
import { cleanup } from '../support/files.js';
import { csrfOf, pageRequest } from '../support/pages.js';
import { startTestServer, type TestServer } from '../support/server.js';

const PASSWORD = 'harbour lights at dusk';

describe('email and password sign-in', () => {
  const browser = useBrowser();
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ env: { PLATEN_PASSWORD_SIGN_IN: '1' } });
  });

  afterAll(async () => {
    await server?.close();
    await cleanup();
  });

  async function open(viewport: { width: number; height: number }): Promise<Page> {
    const page = await (await browser.context(server.url)).newPage();
    await page.setViewportSize(viewport);
    return page;
  }

  const passwordForm = (page: Page) => page.getByRole('form', { name: /email and password/ });

  async function signInWithPassword(page: Page, email: string, password: string): Promise<void> {
    await page.goto('/sign-in');
    await passwordForm(page).getByLabel('Email').fill(email);
    await passwordForm(page).getByLabel('Password').fill(password);
    await passwordForm(page).getByRole('button', { name: 'Sign in' }).click();
  }

  for (const { name, ...viewport } of WIDTHS) {
    it(`adds a person who sets a password through their link and signs in with it (${name})`, async () => {
      const email = `chloe.${name}@harbor.example`;
      const chloe = `Chloé Köhler (${name})`;
      const admin = await open(viewport);
      await admin.goto('/sign-in');
      expect(await axeViolations(admin)).toEqual([]);
      const keyForm = admin.locator('form[action="/sign-in"]');
      await keyForm.getByLabel('API key').fill(server.adminKey);
      await keyForm.getByRole('button', { name: 'Sign in' }).click();
      await admin.waitForURL(/\/marketing$/);
      // The admin section's navigation (another part of the pages) leads here.
      await admin.goto('/admin/people');

      // A rep without a rep id is refused beside the form, which keeps what was typed.
      await admin.getByText('Add a person who signs in with a password').click();
      await admin.getByLabel('Name').fill(chloe);
      await admin.getByLabel('Email').fill(email);
      await admin.locator('#add-role').selectOption('rep');
      await admin.getByRole('button', { name: 'Add and make their link' }).click();
      await expect.poll(() => admin.getByRole('alert').textContent()).toBe('A rep needs a rep id.');
      expect(await admin.getByLabel('Email').inputValue()).toBe(email);
      expect(await axeViolations(admin)).toEqual([]);
      expect(await scrollsSideways(admin)).toBe(false);
      await admin.locator('#add-rep').fill(`chloe-${name}`);
      await admin.getByRole('button', { name: 'Add and make their link' }).click();
      const link = await admin.getByLabel('Link to set a password').inputValue();
      expect(link).toMatch(new RegExp(`^${server.url}/set-password/[A-Za-z0-9_-]{43}$`));
      const card = admin.locator('.person', { hasText: chloe });
      await expect.poll(() => card.textContent()).toContain('Has not set a password yet.');
      expect(await axeViolations(admin)).toEqual([]);
      expect(await scrollsSideways(admin)).toBe(false);

      // Chloé sets her password through the link: too short first, then one that will do.
      const person = await open(viewport);
      await person.goto(link);
      await expect
        .poll(() => person.getByRole('heading', { level: 1 }).textContent())
        .toBe('Set your password');
      expect(await axeViolations(person)).toEqual([]);
      await person.getByLabel('New password').fill('short');
      await person.getByLabel('The same password again').fill('short');
      // The browser's own check (minlength) is the first guard; the server's is the one that counts.
      await person.evaluate(() => {
        const { document } = globalThis as unknown as {
          document: { querySelector: (s: string) => { removeAttribute: (a: string) => void } };
        };
        document.querySelector('#password').removeAttribute('minlength');
      });
      await person.getByRole('button', { name: 'Set my password' }).click();
      await expect
        .poll(() => person.getByRole('alert').textContent())
        .toBe('Choose a password of at least 12 characters.');
      expect(await axeViolations(person)).toEqual([]);
      expect(await scrollsSideways(person)).toBe(false);
      await person.getByLabel('New password').fill(PASSWORD);
      await person.getByLabel('The same password again').fill(PASSWORD);
      await person.getByRole('button', { name: 'Set my password' }).click();
      await person.waitForURL(/\/gallery$/);
      await expect.poll(() => person.locator('.who').textContent()).toBe(`${chloe} rep`);

      // The link is spent.
      expect((await person.goto(link))!.status()).toBe(404);

      // Signing in later: a wrong password is refused in words; the right one lets her in.
      await person.goto('/gallery');
      await person.getByRole('button', { name: 'Sign out' }).click();
      await person.waitForURL(/\/sign-in$/);
      await signInWithPassword(person, email, 'not the password at all');
      await expect
        .poll(() => passwordForm(person).getByRole('alert').textContent())
        .toBe('That email and password do not match an account here.');
      expect(await axeViolations(person)).toEqual([]);
      expect(await scrollsSideways(person)).toBe(false);
      await signInWithPassword(person, email.toUpperCase(), PASSWORD);
      await person.waitForURL(/\/gallery$/);

      // Turned off, she is signed out at once, and her password no longer signs her in.
      await admin.goto('/admin/people');
      await admin
        .locator('.person', { hasText: chloe })
        .getByRole('button', { name: `Turn off ${chloe}` })
        .click();
      await expect.poll(() => toastOn(admin).textContent()).toBe(`Saved: ${chloe} is turned off.`);
      await person.reload();
      expect(new URL(person.url()).pathname).toBe('/sign-in');
      await signInWithPassword(person, email, PASSWORD);
      await expect.poll(() => passwordForm(person).getByRole('alert').textContent()).toMatch(/do not match/);
    });
  }

  it('cuts off guessing one email’s password, whatever the password', async () => {
    const form = await pageRequest(server.url, 'get', '/sign-in');
    const cookie = form.headers
      .getSetCookie()
      .find((c) => c.startsWith('platen_visitor='))!
      .split(';')[0]!;
    const attempt = (password: string) =>
      pageRequest(server.url, 'post', '/sign-in/password', {
        cookie,
        form: { email: 'nobody@harbor.example', password, _csrf: csrfOf(form.text) },
      });
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) statuses.push((await attempt(`guess number ${i}`)).status);
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
    expect(statuses[10]).toBe(429);
    // Another email from the same address is still heard.
    const other = await pageRequest(server.url, 'post', '/sign-in/password', {
      cookie,
      form: { email: 'someone.else@harbor.example', password: 'a guess', _csrf: csrfOf(form.text) },
    });
    expect(other.status).toBe(401);
  });
});

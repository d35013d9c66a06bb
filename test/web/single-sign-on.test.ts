/**
 * Single sign-on in headless Chromium against a real OpenID provider on loopback (oidc-provider, its
 * own login and consent pages): "Sign in with Harbor ID" → the provider → back at /auth/callback,
 * signed in with the role the provider's groups claim gives. A person without a role claim waits
 * until an admin gives them one on the People page; a person turned off is signed out at once and
 * cannot come back. A tampered state or nonce is refused. At desktop and phone widths, axe clean.
 */
import type { BrowserContext, Page, Route } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeViolations, scrollsSideways, WIDTHS } from '../support/axe.js';
import { toastOn, useBrowser } from '../support/browser.js';
import { cleanup } from '../support/files.js';
import { type IdentityProvider, startIdentityProvider } from '../support/identity-provider.js';
import { pageRequest } from '../support/pages.js';
import { startTestServer, type TestServer } from '../support/server.js';

const PROVIDER = 'Harbor ID';

/** Login names at the provider: `ada…` is in the admins' group, `cleo…` a rep by claim, others neither. */
function claimsOf(login: string): Record<string, unknown> {
  if (login.startsWith('ada')) return { platen_role: ['staff', 'platen-admins'] };
  if (login.startsWith('cleo')) return { platen_role: ['platen-reps'], platen_rep: login };
  return {};
}

describe('single sign-on', () => {
  const browser = useBrowser();
  let idp: IdentityProvider;
  let server: TestServer;

  beforeAll(async () => {
    idp = await startIdentityProvider(claimsOf);
    server = await startTestServer({
      env: {
        PLATEN_OIDC_ISSUER: idp.issuer,
        PLATEN_OIDC_CLIENT_ID: idp.clientId,
        PLATEN_OIDC_CLIENT_SECRET: idp.clientSecret,
        PLATEN_OIDC_NAME: PROVIDER,
        PLATEN_OIDC_ROLE_CLAIM: 'platen_role',
        PLATEN_OIDC_REP_CLAIM: 'platen_rep',
        PLATEN_OIDC_ROLE_VALUES: 'admin=platen-admins,marketing=platen-marketing,rep=platen-reps',
        // Passwords too: the sign-in page offers all three ways, and is checked with them.
        PLATEN_PASSWORD_SIGN_IN: '1',
      },
    });
    idp.register(`${server.url}/auth/callback`);
  });

  afterAll(async () => {
    await server?.close();
    await idp?.close();
    await cleanup();
  });

  async function person(viewport: { width: number; height: number }): Promise<Page> {
    const context: BrowserContext = await browser.context(server.url);
    const page = await context.newPage();
    await page.setViewportSize(viewport);
    return page;
  }

  /**
   * From Platen's sign-in page through the provider (its login and consent pages, unless this browser
   * has signed in and consented there before) back to Platen.
   */
  async function signInAt(page: Page, login: string): Promise<void> {
    await page.goto('/sign-in');
    await page.getByRole('link', { name: `Sign in with ${PROVIDER}` }).click();
    const name = page.locator('input[name=login]');
    const consent = page.getByRole('button', { name: 'Continue' });
    const onPlaten = () => page.url().startsWith(`${server.url}/`);
    for (;;) {
      await expect
        .poll(async () => onPlaten() || (await name.isVisible()) || (await consent.isVisible()))
        .toBe(true);
      if (onPlaten()) return;
      const at = page.url();
      if (await name.isVisible()) {
        await name.fill(login);
        await page.locator('input[name=password]').fill('any password will do');
        await page.getByRole('button', { name: 'Sign-in' }).click();
      } else await consent.click();
      await page.waitForURL((url) => url.href !== at);
    }
  }

  for (const { name, ...viewport } of WIDTHS) {
    it(`signs people in with their role, has those without one wait for an admin, and signs out those turned off (${name})`, async () => {
      // An admin by the provider's groups claim lands on the publishing desk.
      const admin = await person(viewport);
      await admin.goto('/sign-in');
      expect(await axeViolations(admin)).toEqual([]);
      expect(await scrollsSideways(admin)).toBe(false);
      await signInAt(admin, `ada-${name}`);
      expect(new URL(admin.url()).pathname).toBe('/marketing');
      await expect.poll(() => admin.locator('.who').textContent()).toBe(`Person ada-${name} admin`);

      // A rep by claim, with the rep id the claim names, lands on the gallery.
      const rep = await person(viewport);
      await signInAt(rep, `cleo-${name}`);
      expect(new URL(rep.url()).pathname).toBe('/gallery');

      // Someone the provider knows, but with no role claim, waits; the pages send them back to wait.
      const newcomer = await person(viewport);
      await signInAt(newcomer, `ben-${name}`);
      expect(new URL(newcomer.url()).pathname).toBe('/waiting');
      await expect
        .poll(() => newcomer.getByRole('heading', { level: 1 }).textContent())
        .toBe('Waiting for an admin');
      expect(await axeViolations(newcomer)).toEqual([]);
      expect(await scrollsSideways(newcomer)).toBe(false);
      await newcomer.goto('/gallery');
      expect(new URL(newcomer.url()).pathname).toBe('/waiting');

      // The admin finds them first on the People page, and gives them a role: a rep needs a rep id.
      // The admin section's navigation (another part of the pages) leads here.
      await admin.goto('/admin/people');
      const names = await admin.locator('.person .name').allTextContents();
      expect(names.indexOf(`Person ben-${name}`)).toBeLessThan(names.indexOf(`Person cleo-${name}`));
      const ben = admin.locator('.person', { hasText: `Person ben-${name}` });
      await expect.poll(() => ben.locator('.badge').textContent()).toBe('Waiting for a role');
      expect(await axeViolations(admin)).toEqual([]);
      expect(await scrollsSideways(admin)).toBe(false);
      await ben.getByLabel('Role').selectOption('rep');
      await ben.getByRole('button', { name: `Save Person ben-${name}` }).click();
      const refused = admin.locator('.person', { hasText: `Person ben-${name}` });
      await expect.poll(() => refused.getByRole('alert').textContent()).toBe('A rep needs a rep id.');
      expect(await axeViolations(admin)).toEqual([]);
      // The form keeps what was chosen; only the rep id is to add.
      expect(await refused.getByLabel('Role').inputValue()).toBe('rep');
      await refused.getByLabel(/Rep id/).fill(`ben-${name}`);
      await refused.getByRole('button', { name: `Save Person ben-${name}` }).click();
      await expect.poll(() => toastOn(admin).textContent()).toBe(`Saved: Person ben-${name} is a rep.`);

      // Now they get in, as that rep.
      await newcomer.getByRole('link', { name: 'Check again' }).click();
      await newcomer.waitForURL(/\/gallery$/);
      await expect.poll(() => newcomer.locator('.who').textContent()).toBe(`Person ben-${name} rep`);

      // The admin cannot turn themselves off; turning Ben off signs him out at once, for good.
      const self = admin.locator('.person', { hasText: `Person ada-${name}` });
      await expect.poll(() => self.textContent()).toContain('This is you');
      expect(await self.getByRole('button').count()).toBe(0);
      await admin
        .locator('.person', { hasText: `Person ben-${name}` })
        .getByRole('button', { name: `Turn off Person ben-${name}` })
        .click();
      await expect.poll(() => toastOn(admin).textContent()).toBe(`Saved: Person ben-${name} is turned off.`);
      await newcomer.reload();
      expect(new URL(newcomer.url()).pathname).toBe('/sign-in');
      await signInAt(newcomer, `ben-${name}`);
      expect(new URL(newcomer.url()).pathname).toBe('/auth/callback');
      await expect.poll(() => newcomer.getByRole('alert').first().textContent()).toMatch(/turned off/);
      expect(await axeViolations(newcomer)).toEqual([]);
      expect(await scrollsSideways(newcomer)).toBe(false);
    });
  }

  it('refuses a sign-in whose state or nonce was tampered with, that was stopped, or that this browser did not start', async () => {
    const page = await person({ width: 1366, height: 900 });
    const signedOut = async () => {
      await page.goto('/');
      expect(new URL(page.url()).pathname).toBe('/sign-in');
    };
    const refused = async () => {
      expect(new URL(page.url()).pathname).toBe('/auth/callback');
      await expect.poll(() => page.getByRole('alert').first().textContent()).toMatch(/did not work/);
      expect(await axeViolations(page)).toEqual([]);
    };

    // First, before this browser has signed in at the provider: stopping there brings the person
    // back, told so, and signed out.
    await page.goto('/sign-in');
    await page.getByRole('link', { name: `Sign in with ${PROVIDER}` }).click();
    await page.waitForURL((url) => url.href.startsWith(idp.issuer));
    await page.getByRole('link', { name: '[ Cancel ]' }).click();
    await page.waitForURL((url) => url.href.startsWith(`${server.url}/`));
    await expect
      .poll(() => page.getByRole('alert').first().textContent())
      .toBe(`You stopped signing in with ${PROVIDER}: sign in again when you are ready.`);
    await signedOut();

    // Platen's redirect to the provider is changed on its way: the state, then the nonce, is not the
    // one Platen keeps for this browser. The provider answers the state sent, and puts the nonce
    // sent in its ID token.
    const startSignIn = (url: URL) => url.origin === server.url && url.pathname === '/auth/sign-in';
    const tamper = (param: string) => async (route: Route) => {
      const response = await route.fetch({ maxRedirects: 0 });
      const location = new URL(response.headers().location!);
      location.searchParams.set(param, `${location.searchParams.get(param)}-changed`);
      await route.fulfill({ response, headers: { ...response.headers(), location: location.href } });
    };
    for (const param of ['state', 'nonce']) {
      await page.route(startSignIn, tamper(param));
      await signInAt(page, 'ada-tampered');
      await refused();
      await page.unroute(startSignIn);
      await signedOut();
    }

    // A callback this browser did not start (a link sent to someone) finds nothing to finish.
    const replay = await pageRequest(server.url, 'get', '/auth/callback?code=stolen&state=anything');
    expect(replay.status).toBe(400);
    expect(replay.headers.getSetCookie().some((c) => c.startsWith('platen_session='))).toBe(false);

    // The same browser, left alone, signs in.
    await signInAt(page, 'ada-tampered');
    expect(new URL(page.url()).pathname).toBe('/marketing');
  });
});

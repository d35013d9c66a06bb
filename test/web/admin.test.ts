/**
 * The admin area in headless Chromium against a real server, at a laptop's and a phone's width: an
 * admin makes an API key (shown once, copied with its button), sees when it was last used, and
 * revokes it after confirming; corrects a rep's profile; adds a webhook to a receiver on loopback,
 * reads its deliveries and deletes it; and turns on approval, which publishing then follows. Each
 * form's errors are in words beside their fields; axe finds nothing on any page, errors included; no
 * page scrolls sideways. Others have no way in.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeViolations, scrollsSideways, WIDTHS } from '../support/axe.js';
import { signIn, statusOf, toastOn, useBrowser } from '../support/browser.js';
import { cleanup } from '../support/files.js';
import { makePackage } from '../support/packages.js';
import { postcardRender } from '../support/records.js';
import { call, client, deskAndRep, startTestServer, type TestServer, uploadZip } from '../support/server.js';
import { zipFolder } from '../support/zips.js';

/** Checks what every admin page must be: axe clean, and nothing scrolling sideways. */
async function checkPage(page: Page): Promise<void> {
  expect(await axeViolations(page), page.url()).toEqual([]);
  expect(await scrollsSideways(page), `${page.url()} scrolls sideways`).toBe(false);
}

/** Saves the settings form, and waits for the redirect that says they are saved. */
async function saveSettings(page: Page): Promise<void> {
  const saved = page.waitForResponse((r) => r.request().method() === 'POST' && r.status() === 303);
  await page.getByRole('button', { name: 'Save settings' }).click();
  await saved;
  await page.waitForLoadState();
}

describe('the admin pages', () => {
  const browser = useBrowser();
  let server: TestServer;
  let marketingKey: string;
  let repKey: string;
  let receiver: Server;
  let receiverUrl: string;
  let received = 0;

  beforeAll(async () => {
    server = await startTestServer({ env: { PLATEN_WEBHOOK_RETRY_MS: '50' } });
    ({ marketingKey, repKey } = await deskAndRep(server));
    receiver = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        received++;
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/crm`;
  }, 60_000);

  afterAll(async () => {
    await server.close();
    await new Promise((resolve) => receiver.close(resolve));
    await cleanup();
  });

  async function adminPage(viewport: { width: number; height: number }): Promise<Page> {
    const context = await browser.context(server.url);
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    const page = await context.newPage();
    await page.setViewportSize(viewport);
    await signIn(page, server.adminKey, /\/marketing$/);
    return page;
  }

  for (const { name, ...viewport } of WIDTHS) {
    describe(`at ${viewport.width}×${viewport.height}`, () => {
      it('makes a key, shows it once with a copy button, shows its last use, and revokes it after asking', async () => {
        const page = await adminPage(viewport);
        await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin' }).click();
        await page.waitForURL(/\/admin$/);
        await checkPage(page);
        await page.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: 'API keys' }).click();
        await page.waitForURL(/\/admin\/keys$/);
        await checkPage(page);

        // Nothing chosen: each field says what it needs, in words.
        await page.getByLabel('Rep (rep keys only)').fill('not a rep id!');
        await page.getByRole('radio', { name: /^Rep:/ }).check();
        await page.getByRole('button', { name: 'Make the key' }).click();
        await expect
          .poll(() => page.locator('#key-name-error').textContent())
          .toContain('Give the key a name');
        expect(await page.locator('#key-rep-error').textContent()).toContain('letters, digits, dots');
        expect(await page.getByLabel('Name').getAttribute('aria-invalid')).toBe('true');
        await checkPage(page);

        const keyName = `CRM sync (${name})`;
        await page.getByLabel('Name').fill(keyName);
        await page.getByRole('radio', { name: /^Marketing:/ }).check();
        await page.getByRole('button', { name: 'Make the key' }).click();
        await expect.poll(() => toastOn(page).textContent()).toBe(`The key “${keyName}” is made.`);
        const secret = await page.getByLabel('The new key').inputValue();
        expect(secret).toMatch(/^platen_[A-Za-z0-9_-]{32}$/);
        await page.getByRole('button', { name: 'Copy' }).click();
        await expect
          .poll(() => page.locator('[data-copied-for=made-key]').textContent())
          .toBe('Copied to the clipboard.');
        expect(await page.evaluate<string>('navigator.clipboard.readText()')).toBe(secret);
        await checkPage(page);

        const row = page.getByRole('row').filter({ hasText: keyName });
        expect(await row.getByRole('cell').nth(3).textContent()).toBe('Never');
        // A machine uses the key; the list shows when.
        expect((await call(server.url, 'get', '/api/v1/templates', { key: secret })).status).toBe(200);
        await page.goto('/admin/keys');
        expect(await row.locator('time').nth(1).getAttribute('datetime')).toMatch(/^\d{4}-\d\d-\d\dT/);
        expect(await page.getByLabel('The new key').count()).toBe(0);

        await row.getByRole('link', { name: `Revoke ${keyName}` }).click();
        await page.waitForURL(/\/revoke$/);
        expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe(
          `Revoke the key “${keyName}”?`,
        );
        await checkPage(page);
        await page.getByRole('button', { name: 'Revoke the key' }).click();
        await page.waitForURL(/\/admin\/keys$/);
        expect(await toastOn(page).textContent()).toContain('The key is revoked');
        expect(await page.getByRole('row').filter({ hasText: keyName }).textContent()).toContain('Revoked');
        expect((await call(server.url, 'get', '/api/v1/templates', { key: secret })).status).toBe(401);
        await checkPage(page);
      });

      it('corrects a rep’s profile, with the same rules as the rep’s own', async () => {
        const page = await adminPage(viewport);
        await page.goto('/admin/reps');
        await checkPage(page);
        await page.getByRole('link', { name: 'Dana Whitcomb' }).click();
        await page.waitForURL(/\/admin\/reps\/dana$/);
        await page.getByLabel('Phone').fill('call me');
        await page.getByRole('button', { name: 'Save profile' }).click();
        // In the rep's own page's words: the summary names the field, the field says what to do.
        await expect.poll(() => page.locator('#error-summary h2').textContent()).toBe('One thing to fix');
        const problem = (await page.locator('#error-summary li').textContent())!;
        const beside = (await page.locator('#profile-phone-error').textContent())!;
        expect(problem.toLowerCase()).toBe(`phone: ${beside.toLowerCase()}`);
        expect(problem).not.toMatch(/rep\.phone|\^|\\d/);
        expect(await page.getByLabel('Phone').getAttribute('aria-invalid')).toBe('true');
        await checkPage(page);

        await page.getByLabel('Phone').fill('(207) 555-0199');
        await page.getByLabel('Title').fill(`Senior Advisor (${name})`);
        await page.getByRole('button', { name: 'Save profile' }).click();
        await expect.poll(() => toastOn(page).textContent()).toContain('The profile is saved');
        await checkPage(page);
        const profile = await call(server.url, 'get', '/api/v1/reps/me', { key: repKey });
        expect(profile.json).toMatchObject({ phone: '(207) 555-0199', title: `Senior Advisor (${name})` });
      });

      it('adds a webhook, shows its deliveries, and deletes it after asking', async () => {
        const page = await adminPage(viewport);
        await page.goto('/admin/webhooks');
        expect(await page.locator('.empty').textContent()).toContain('No address receives events yet');
        await checkPage(page);

        await page.getByLabel('Address', { exact: true }).fill('ftp://crm.example/hooks');
        await page.getByRole('button', { name: 'Add the webhook' }).click();
        await expect
          .poll(() => page.locator('#hook-url-error').textContent())
          .toContain('starting with https://');
        expect(await page.locator('#hook-events-error').textContent()).toBe(
          'Choose at least one event to send.',
        );
        await checkPage(page);

        await page.getByLabel('Address', { exact: true }).fill(receiverUrl);
        await page.getByRole('checkbox', { name: /^A piece is made/ }).check();
        await page.getByRole('button', { name: 'Add the webhook' }).click();
        await expect.poll(() => toastOn(page).textContent()).toBe('The webhook is added.');
        expect(await page.getByLabel('The signing secret').inputValue()).toMatch(/^whsec_/);
        await checkPage(page);

        // A rep makes a piece: the receiver hears of it, and the log says so.
        const before = received;
        const render = await call(server.url, 'post', '/api/v1/renders', {
          key: repKey,
          json: postcardRender(),
        });
        expect(render.status).toBe(201);
        await expect.poll(() => received, { timeout: 10_000 }).toBeGreaterThan(before);
        await page.goto('/admin/webhooks');
        await page.getByRole('link', { name: `Deliveries to ${receiverUrl}` }).click();
        await page.waitForURL(/\/admin\/webhooks\/[0-9a-f]{12}$/);
        const delivered = page.getByRole('row').filter({ hasText: 'A piece is made' }).first();
        expect(await delivered.textContent()).toContain('Delivered: The receiver answered 204');
        await checkPage(page);

        await page.getByRole('link', { name: 'Delete this webhook' }).click();
        await page.waitForURL(/\/delete$/);
        await checkPage(page);
        await page.getByRole('button', { name: 'Delete the webhook' }).click();
        await page.waitForURL(/\/admin\/webhooks\/[0-9a-f]{12}$/);
        expect(await toastOn(page).textContent()).toContain('The webhook is deleted');
        expect(await page.getByRole('row').filter({ hasText: 'A piece is made' }).count()).toBeGreaterThan(0);
        await page.goto('/admin/webhooks');
        expect(await page.locator('.empty').textContent()).toContain('No address receives events yet');
      });

      it('turns on approval, which publishing then follows', async () => {
        const page = await adminPage(viewport);
        await page.goto('/admin/settings');
        await checkPage(page);
        await page.getByRole('radio', { name: /^A second person approves/ }).check();
        await page.getByLabel('Keep recipients for (days)').fill('0');
        await page.getByRole('button', { name: 'Save settings' }).click();
        await expect.poll(() => page.locator('#retention-error').textContent()).toContain('from 1 to 36500');
        await checkPage(page);

        await page.getByLabel('Keep recipients for (days)').fill('365');
        await saveSettings(page);
        await expect
          .poll(() => toastOn(page).textContent())
          .toBe('The settings are saved. They apply from now on.');
        expect(await page.getByRole('radio', { name: /^A second person approves/ }).isChecked()).toBe(true);
        expect(await page.getByLabel('Keep recipients for (days)').inputValue()).toBe('365');
        await checkPage(page);

        const marketing = client(server.url, marketingKey);
        const id = `approval-${name}`;
        const upload = await uploadZip(
          marketing,
          await zipFolder(await makePackage(id, 'Approval postcard')),
        );
        expect(upload.status).toBe(201);
        const publish = await marketing('post', `/api/v1/templates/${id}/versions/1/publish`);
        expect(publish.status).toBe(409);

        await page.getByRole('radio', { name: /^Whoever manages templates/ }).check();
        await saveSettings(page);
        expect((await marketing('post', `/api/v1/templates/${id}/versions/1/publish`)).status).toBe(200);
      });
    });
  }

  it('has no way in for marketing or reps', async () => {
    for (const [key, landing] of [
      [marketingKey, /\/marketing$/],
      [repKey, /\/gallery$/],
    ] as const) {
      const page = await (await browser.context(server.url)).newPage();
      await signIn(page, key, landing);
      expect(await page.getByRole('link', { name: 'Admin' }).count()).toBe(0);
      for (const url of ['/admin', '/admin/keys', '/admin/reps', '/admin/webhooks', '/admin/settings'])
        expect(await statusOf(page, url)).toBe(403);
    }
  });
});

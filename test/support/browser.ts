/**
 * Headless Chromium (Debian's, driven by playwright-core) for the page tests: one browser per test
 * file, a fresh context (cookies, storage) per signed-in user, and a screenshot of every open page
 * in `test-results/` when a test fails.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import {
  chromium,
  type Browser,
  type BrowserContext,
  type BrowserContextOptions,
  type Locator,
  type Page,
} from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { REPO_ROOT } from './repo.js';

const RESULTS = path.join(REPO_ROOT, 'test-results');

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Registers the browser's lifecycle hooks for a test file; `browser()` is the running browser and
 * `context()` opens a fresh one whose pages are screenshot if the test fails.
 */
export function useBrowser() {
  let browser: Browser | null = null;
  const open: BrowserContext[] = [];

  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  });

  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail') {
      await mkdir(RESULTS, { recursive: true });
      const name = ctx.task.name.replace(/[^A-Za-z0-9]+/g, '-').slice(0, 80);
      let i = 0;
      for (const context of open) {
        for (const page of context.pages()) {
          await page
            .screenshot({ path: path.join(RESULTS, `${name}-${i++}.png`), fullPage: true })
            .catch(() => {});
        }
      }
    }
    await Promise.all(open.splice(0).map((c) => c.close()));
  });

  afterAll(async () => {
    await browser?.close();
  });

  return {
    async context(baseURL: string, options: BrowserContextOptions = {}): Promise<BrowserContext> {
      const context = await browser!.newContext({ baseURL, acceptDownloads: true, ...options });
      context.setDefaultTimeout(15_000);
      open.push(context);
      return context;
    },
  };
}

/** Signs in on the sign-in page with an API key and waits for the role's start page. */
export async function signIn(page: Page, key: string, landing: RegExp): Promise<void> {
  await page.goto('/sign-in');
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(landing);
}

/** A page's status code as it loads. */
export async function statusOf(page: Page, url: string): Promise<number> {
  const response = await page.goto(url);
  expect(response).not.toBeNull();
  return response!.status();
}

/** The toast's message: the site-wide confirmation a change leaves on the next page. */
export function toastOn(page: Page): Locator {
  return page.locator('[data-toast][role=status] .toast-text');
}

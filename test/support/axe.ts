/**
 * What every page test checks at both widths: axe-core's WCAG 2.2 A and AA rules, and that nothing
 * scrolls sideways.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { REPO_ROOT } from './repo.js';

const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];
const AXE = path.join(REPO_ROOT, 'node_modules/axe-core/axe.min.js');

/** The page's violations as it stands, one line each: the rule and the elements that break it. */
export async function axeViolations(page: Page): Promise<string[]> {
  // Evaluated through the debugging protocol: the pages' policy refuses inline scripts.
  await page.evaluate(await readFile(AXE, 'utf8'));
  return page.evaluate(async (tags) => {
    const axe = (
      globalThis as unknown as {
        axe: {
          run: (
            context: unknown,
            options: unknown,
          ) => Promise<{ violations: { id: string; nodes: { html: string }[] }[] }>;
        };
      }
    ).axe;
    const { violations } = await axe.run((globalThis as unknown as { document: unknown }).document, {
      runOnly: { type: 'tag', values: tags },
    });
    return violations.map((v) => `${v.id}: ${JSON.stringify(v.nodes.map((n) => n.html))}`);
  }, TAGS);
}

/** Whether the page scrolls sideways (content wider than its viewport). */
export async function scrollsSideways(page: Page): Promise<boolean> {
  return page.evaluate('document.documentElement.scrollWidth > document.documentElement.clientWidth');
}

/** The two widths every page is tested at: a laptop and a phone. */
export const WIDTHS = [
  { name: 'desktop', width: 1366, height: 900 },
  { name: 'phone', width: 390, height: 844 },
] as const;

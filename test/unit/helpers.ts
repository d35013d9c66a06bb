/**
 * Shared builders for the unit tests: a minimal valid manifest, the fonts bundled with the sample
 * templates, and a valid record for the insurance brochure.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadFontFace } from '../../src/assets/fonts.js';
import type { FontFamily } from '../../src/model/text.js';
import type { ManifestInput } from '../../src/model/manifest.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const TEMPLATES = path.join(ROOT, 'templates');
export const BROCHURE_DIR = path.join(TEMPLATES, 'insurance-brochure');
export const BROCHURE_FONTS = path.join(BROCHURE_DIR, 'fonts');

/** The smallest manifest the schema accepts: one font, one field, one text element showing it. */
export function minimalManifest(): ManifestInput {
  return {
    id: 'demo',
    name: 'Demo template',
    page: { size: 'letter' },
    fonts: { body: { regular: 'fonts/SourceSans3-Regular.ttf' } },
    fields: { headline: { type: 'text', required: true, maxLength: 40 } },
    pages: [
      {
        name: 'front',
        elements: [
          { type: 'text', name: 'headline', field: 'headline', x: 36, y: 36, w: 300, h: 40, size: 18 },
        ],
      },
    ],
  };
}

/** The body family of the bundled templates (Source Sans 3, all four styles) and DejaVu as fallback. */
export async function loadFamilies(): Promise<{
  body: FontFamily;
  dejavu: FontFamily;
  headline: FontFamily;
}> {
  const face = (file: string) => loadFontFace(path.join(BROCHURE_FONTS, file));
  return {
    body: {
      name: 'body',
      regular: await face('SourceSans3-Regular.ttf'),
      bold: await face('SourceSans3-Bold.ttf'),
      italic: await face('SourceSans3-Italic.ttf'),
      boldItalic: await face('SourceSans3-BoldItalic.ttf'),
    },
    dejavu: {
      name: 'fallback',
      regular: await face('DejaVuSans.ttf'),
      bold: await face('DejaVuSans-Bold.ttf'),
    },
    headline: { name: 'headline', regular: await face('Merriweather-Bold.ttf') },
  };
}

export interface BrochureRecord {
  rep: Record<string, unknown>;
  prospect: Record<string, unknown>;
  fields: Record<string, unknown>;
}

/** A valid record for templates/insurance-brochure; callers change one thing at a time. */
export function brochureRecord(productLine = 'auto'): BrochureRecord {
  return {
    rep: {
      name: 'Ann Lee',
      licenseNumber: 'ME-1234',
      phone: '(415) 555-0141',
      email: 'ann.lee@example.com',
    },
    prospect: { id: 'P-1001', firstName: 'Bo', lastName: 'Chen', productLine },
    fields: { message: 'Thanks for meeting me last week.' },
  };
}

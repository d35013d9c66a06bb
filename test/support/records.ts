/**
 * Records and manifests for tests: the smallest manifest the schema accepts, a valid record for the
 * brochure and the postcard (as a render request, as the rep's form posts it, and as a drop's CSV),
 * and the bundled templates' manifests and samples.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ManifestInput } from '../../src/model/manifest.js';
import { TEMPLATES_DIR } from './repo.js';
import type { JsonObject } from './request.js';

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

/** A valid postcard render request body. */
export function postcardRender(templateId = 'postcard-6x4', version?: number) {
  return {
    templateId,
    ...(version === undefined ? {} : { version }),
    prospect: {
      firstName: 'Chloé',
      lastName: 'Köhler',
      address1: '418 Birchwood Lane',
      city: 'Bangor',
      state: 'ME',
      zip: '04401',
    },
    fields: { message: 'Happy to review your coverage this week.' },
  };
}

/** The same record as the rep's form posts it: a field per input, named `prospect.firstName`. */
export function postcardFormValues(): Record<string, string> {
  const { prospect, fields } = postcardRender();
  return Object.fromEntries([
    ...Object.entries(prospect).map(([key, value]) => [`prospect.${key}`, value]),
    ...Object.entries(fields).map(([key, value]) => [`fields.${key}`, value]),
  ]);
}

/** The header of a postcard drop (see postcardDrop). */
const DROP_HEADER = ['First Name', 'Last Name', 'Street Address', 'City', 'State', 'ZIP'];

/**
 * A postcard drop of `rows` rows, as a CSV: row n (from 1) is prospect n; every `badEvery`th row has
 * a state the template refuses. Returns the list and its bad rows.
 */
export function postcardDrop(rows: number, badEvery = 0): { csv: string; bad: number[] } {
  const bad: number[] = [];
  const lines = [DROP_HEADER.join(',')];
  for (let n = 1; n <= rows; n++) {
    const isBad = badEvery > 0 && n % badEvery === 0;
    if (isBad) bad.push(n);
    lines.push(
      [`First${n}`, `Last${n}`, `${n} Harbor Rd`, 'Portland', isBad ? 'Maine' : 'ME', '04101'].join(','),
    );
  }
  return { csv: `${lines.join('\r\n')}\r\n`, bad };
}

export interface SampleRecord {
  rep: Record<string, string>;
  prospect: Record<string, string>;
  fields: Record<string, string>;
}

/** The bundled template's manifest, as JSON. */
export async function manifest(templateId: string): Promise<JsonObject> {
  return JSON.parse(
    await readFile(path.join(TEMPLATES_DIR, templateId, 'template.json'), 'utf8'),
  ) as JsonObject;
}

/** Sample `n` of a bundled template. */
export async function sampleRecord(templateId: string, n = 0): Promise<SampleRecord> {
  const m = await manifest(templateId);
  const sample = (m.samples as { record: SampleRecord }[])[n];
  if (!sample) throw new Error(`${templateId} has no sample ${n}`);
  return {
    rep: { ...sample.record.rep },
    prospect: { ...sample.record.prospect },
    fields: { ...sample.record.fields },
  };
}

import { z } from 'zod';
import { kindOf, elementSchema } from '../elements/registry.js';
import type { ManifestCheck } from '../elements/kind.js';
import { prototypeKeys } from '../errors.js';
import { manifestShape } from '../model/manifest.js';

/**
 * The template manifest (`template.json`) as compile reads it: the model's manifest shape with the
 * registry's elements, and the checks that need more than one key (fonts and fields declared, names
 * unique). `npm run schema` writes the JSON Schema of this file for editors.
 */
export const manifestObjectSchema = manifestShape(elementSchema).superRefine((m, ctx) => {
  const fontNames = new Set(Object.keys(m.fonts));
  const checkFont = (name: string | undefined, path: PropertyKey[]) => {
    if (name !== undefined && !fontNames.has(name)) {
      ctx.addIssue({
        code: 'custom',
        path,
        message: `unknown font "${name}" (declared: ${[...fontNames].join(', ')})`,
      });
    }
  };
  checkFont(m.defaultFont, ['defaultFont']);
  m.fallbackFonts.forEach((f, i) => checkFont(f, ['fallbackFonts', i]));
  const seen = new Set<string>();
  m.pages.forEach((page, p) =>
    page.elements.forEach((el, e) => {
      const path = ['pages', p, 'elements', e];
      if (seen.has(el.name))
        ctx.addIssue({
          code: 'custom',
          path: [...path, 'name'],
          message: `duplicate element name "${el.name}"`,
        });
      seen.add(el.name);
      if (el.role === 'Figure' && el.alt === undefined) {
        ctx.addIssue({ code: 'custom', path: [...path, 'alt'], message: 'a Figure needs alt text' });
      }
      const check: ManifestCheck = {
        font: (name, key) => checkFont(name, [...path, key]),
        hasField: (name) => name in m.fields,
        issue: (key, message) =>
          ctx.addIssue({ code: 'custom', path: key === '' ? path : [...path, key], message }),
      };
      kindOf(el.type).check?.(el, check);
    }),
  );
});

/**
 * zod's records drop a `__proto__` key (JSON.parse makes own ones) before their key schema sees it, so
 * a template naming an input `__proto__` would lose it silently: it is refused here, with its path.
 */
export const manifestSchema = z.preprocess((input, ctx) => {
  for (const path of prototypeKeys(input))
    ctx.addIssue({ code: 'custom', path, message: 'reserved name', input });
  return input;
}, manifestObjectSchema);

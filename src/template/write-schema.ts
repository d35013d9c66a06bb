import { mkdir, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import { manifestObjectSchema } from './manifest.js';

/** Writes the JSON Schema of template.json (for editors' autocompletion); run by `npm run build`. */
const schema = z.toJSONSchema(manifestObjectSchema, {
  io: 'input',
  target: 'draft-2020-12',
  unrepresentable: 'any',
});
await mkdir('schema', { recursive: true });
await writeFile(
  'schema/template.schema.json',
  `${JSON.stringify({ title: 'Platen template manifest', ...schema }, null, 2)}\n`,
);

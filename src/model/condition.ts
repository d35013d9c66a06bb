import { z } from 'zod';

/** When an element is drawn: a test of one record value (manifest `when`). */

/** A path into the record, `rep.name`, `prospect.industry`, `fields.headline`. */
export const recordPathSchema = z
  .string()
  .regex(/^(rep|prospect|fields)\.[A-Za-z][A-Za-z0-9_]*$/, 'expected rep.X, prospect.X or fields.X');

export const conditionSchema = z.union([
  z.strictObject({ path: recordPathSchema, equals: z.union([z.string(), z.boolean()]) }),
  z.strictObject({ path: recordPathSchema, in: z.array(z.string()).min(1) }),
  z.strictObject({ path: recordPathSchema, exists: z.boolean() }),
  z.strictObject({ path: recordPathSchema, truthy: z.boolean() }),
]);
export type Condition = z.output<typeof conditionSchema>;

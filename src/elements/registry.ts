import { z } from 'zod';
import type { CompiledBase, ElementDef, ElementInput, ElementType, ItemBase } from '../model/kinds.js';
import { address } from './address/index.js';
import { ellipse } from './ellipse/index.js';
import { image } from './image/index.js';
import { imb } from './imb/index.js';
import type { ElementKind, ElementSchema } from './kind.js';
import { line } from './line/index.js';
import { qr } from './qr/index.js';
import { rect } from './rect/index.js';
import { svg } from './svg/index.js';
import { text } from './text/index.js';

/**
 * Every element kind, by its manifest `type`, in the order the manifest's docs list them. The
 * manifest's element union, the model's element types and every step's per-kind call come from
 * here: adding a kind is its folder and one line below.
 */
export const KINDS = { text, image, rect, ellipse, line, svg, qr, address, imb };

type Kinds = typeof KINDS;
type TypesOf<K> =
  K extends ElementKind<infer Schema, infer Compiled, infer Item>
    ? { def: z.output<Schema>; input: z.input<Schema>; compiled: Compiled; item: Item }
    : never;

declare module '../model/kinds.js' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- the registry's kinds, merged into the model
  interface ElementKinds extends KindTypes {}
}
type KindTypes = { [T in keyof Kinds]: TypesOf<Kinds[T]> };

/** A kind as the steps call it: any of them, through its registry entry. */
export type AnyKind = ElementKind<ElementSchema, CompiledBase, ItemBase, ElementDef>;

/** The kind of a manifest element, a compiled element or a draw item (whose `kind` is the type that draws it). */
export function kindOf(type: ElementType): AnyKind {
  return KINDS[type] as AnyKind;
}

const [first, ...others] = Object.values(KINDS).map((kind): ElementSchema => kind.schema);

/**
 * A manifest element of any kind, told apart by `type`. Built from the list above, it is by
 * construction the union of the kinds' own schemas, as the model's ElementDef is.
 */
export const elementSchema = z.discriminatedUnion('type', [first!, ...others]) as unknown as z.ZodType<
  ElementDef,
  ElementInput
>;

import type { Box } from './geometry.js';
import type { Condition } from './condition.js';

/**
 * The element kinds' own types, by manifest `type`: each kind's manifest definition (`def`, and
 * `input` as written), its compiled form and the draw item it hands to the draw step. The registry
 * (src/elements/registry.ts) fills this in from its list of kinds, so the model names no kind and a
 * new kind reaches every step's types through its one registry line.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled in by declaration merging
export interface ElementKinds {}

export type ElementType = keyof ElementKinds;
export type ElementDef = ElementKinds[ElementType]['def'];
export type ElementInput = ElementKinds[ElementType]['input'];
export type CompiledElement = ElementKinds[ElementType]['compiled'] & CompiledBase;
/** What the kinds draw (an address draws as text: it adds none of its own). */
export type ElementItem = ElementKinds[ElementType]['item'];

/** What every compiled element has: its kind, name, box and condition. */
export interface CompiledBase {
  kind: string;
  name: string;
  box: Box;
  when?: Condition;
}

/** What every draw item has. Its `kind` is the element type of the kind that draws it. */
export interface ItemBase {
  kind: string;
  name: string;
  box: Box;
}

/** Locked, data-independent art: drawn once per document as a Form XObject, placed on every page. */
export interface StaticLayer {
  kind: 'static';
  /** Unique within the template, e.g. `S1`. */
  id: string;
  items: ElementItem[];
}
export type DrawItem = ElementItem | StaticLayer;

import type { ObjectStore } from './store.js';

/** Where a template version's package lives among the objects, whichever database keeps its row. */
export const packagePrefix = (templateId: string, version: number): string =>
  `packages/${templateId}/${version}/`;

/**
 * Removes the packages written before `writtenBefore` that have no version row (`stored` says which
 * have: a crash between storing a package and its row leaves one without); returns their prefixes.
 */
export async function sweepPackages(
  objects: ObjectStore,
  writtenBefore: number,
  stored: (templateId: string, version: number) => boolean,
): Promise<string[]> {
  const orphans = new Set<string>();
  for (const key of await objects.list('packages/', writtenBefore)) {
    const [, id, version] = key.split('/');
    if (/^[1-9][0-9]*$/.test(version!) && stored(id!, Number(version))) continue;
    orphans.add(`packages/${id}/${version}/`);
  }
  for (const prefix of orphans) await objects.deleteAll(prefix);
  return [...orphans];
}

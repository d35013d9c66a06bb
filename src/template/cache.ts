import type { CompiledTemplate } from '../model/template.js';

/**
 * Compiled templates by version, least recently used first out: a template is compiled once and
 * reused for every record, while memory stays bounded however many versions exist.
 */
export class TemplateCache {
  private readonly entries = new Map<string, Promise<CompiledTemplate>>();

  constructor(private readonly capacity: number) {}

  get(
    templateId: string,
    version: number,
    compile: () => Promise<CompiledTemplate>,
  ): Promise<CompiledTemplate> {
    const key = `${templateId}@${version}`;
    let entry = this.entries.get(key);
    if (entry) {
      this.entries.delete(key); // re-insert: most recently used last
    } else {
      entry = compile();
      // A failed compile is not cached: the next request tries again.
      entry.catch(() => this.entries.get(key) === entry && this.entries.delete(key));
    }
    this.entries.set(key, entry);
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
    return entry;
  }

  get size(): number {
    return this.entries.size;
  }
}

import type { ElementItem } from '../model/kinds.js';
import type { ElementTag } from '../model/template.js';
import type { Doc } from '../pdf/pdfkit.js';

/**
 * Tagged PDF for single on-screen pieces (the brochure a rep emails): every element drawn inside a
 * marked-content sequence, either a structure element under one Document root (a heading, a
 * paragraph, a figure with its alt text) or an artifact that screen readers skip. pdfkit writes the
 * structure tree, parent tree and MarkInfo; print files are not tagged.
 */
export interface TaggingOptions {
  tags: ReadonlyMap<string, ElementTag>;
  lang: string;
}

export class Tagger {
  private readonly root: PDFKit.PDFStructureElement;

  constructor(
    private readonly doc: Doc,
    private readonly tags: ReadonlyMap<string, ElementTag>,
  ) {
    // Ended by pdfkit when the document ends, once every element is added.
    this.root = this.doc.struct('Document');
    this.doc.addStructure(this.root);
  }

  /** Draws an item inside its tag; the drawing runs at once, on the current page. */
  draw(item: ElementItem, draw: () => void): void {
    const tag = this.tags.get(item.name);
    if (!tag || tag.role === 'Artifact') {
      this.artifact('Layout', draw);
      return;
    }
    this.root.add(this.doc.struct(tag.role, tag.alt !== undefined ? { alt: tag.alt } : {}, draw));
  }

  /** Draws what is no part of the content (decoration, printer's marks) as an artifact of this type. */
  artifact(type: 'Layout' | 'Page', draw: () => void): void {
    this.doc.markContent('Artifact', { type });
    draw();
    this.doc.endMarkedContent();
  }
}

import type { ElementItem } from '../model/kinds.js';
import type { ElementTag } from '../model/template.js';
import type { PlacedLine } from '../model/text.js';
import type { Doc } from '../pdf/pdfkit.js';

/**
 * Tagged PDF for single on-screen pieces (the brochure a rep emails), as PDF/UA-1 (ISO 14289-1) asks:
 * every element drawn inside a marked-content sequence, either a structure element under one
 * Document root (a heading, a paragraph, a list, a figure with its alt text, each with its own
 * language when it is not the document's) or an artifact that screen readers skip. Every role is a
 * standard one (ISO 32000-1, 14.8.4), so the tree needs no RoleMap. pdfkit writes the structure tree,
 * parent tree and MarkInfo; print files are not tagged.
 */
export interface TaggingOptions {
  tags: ReadonlyMap<string, ElementTag>;
  lang: string;
}

/** Draws some of a text item's lines (or parts of lines), at their places. */
export type DrawLines = (lines: PlacedLine[]) => void;

type Struct = PDFKit.PDFStructureElement;

export class Tagger {
  private readonly root: Struct;

  constructor(
    private readonly doc: Doc,
    private readonly tags: ReadonlyMap<string, ElementTag>,
  ) {
    // Ended by pdfkit when the document ends, once every element is added.
    this.root = this.doc.struct('Document');
    this.doc.addStructure(this.root);
  }

  /**
   * Draws an item inside its tag; the drawing runs at once, on the current page. A text's lines come
   * with `lines`: a text whose paragraphs start with bullets is then a list (see list).
   */
  draw(item: ElementItem, draw: () => void, lines?: { all: PlacedLine[]; draw: DrawLines }): void {
    const tag = this.tags.get(item.name);
    if (!tag || tag.role === 'Artifact') {
      this.artifact('Layout', draw);
      return;
    }
    const options = {
      ...(tag.alt !== undefined ? { alt: tag.alt } : {}),
      ...(tag.lang !== undefined ? { lang: tag.lang } : {}),
    };
    if (lines?.all.some((line) => line.bullet))
      this.root.add(this.list(tag.role, options, lines.all, lines.draw));
    else this.root.add(this.doc.struct(tag.role, options, draw));
  }

  /** Draws what is no part of the content (decoration, printer's marks) as an artifact of this type. */
  artifact(type: 'Layout' | 'Page', draw: () => void): void {
    this.doc.markContent('Artifact', { type });
    draw();
    this.doc.endMarkedContent();
  }

  /**
   * A text with bulleted paragraphs: a list (`L`) whose items (`LI`) hold the bullet as their label
   * (`Lbl`) and the rest as their body (`LBody`) (ISO 32000-1, 14.8.4.3.3). When paragraphs without
   * a bullet (in the text's own role) come before or after, the list and they go in one `Div`.
   */
  private list(role: string, options: { lang?: string }, all: PlacedLine[], draw: DrawLines): Struct {
    const paragraphs: PlacedLine[][] = [];
    const open: PlacedLine[] = [];
    for (const line of all) {
      if (line.bullet && open.length > 0) paragraphs.push(open.splice(0));
      open.push(line);
      if (line.endsParagraph) paragraphs.push(open.splice(0));
    }
    if (open.length > 0) paragraphs.push(open);

    const item = ([first, ...rest]: PlacedLine[]) =>
      this.doc.struct('LI', {}, [
        this.doc.struct('Lbl', {}, () => draw([{ ...first!, runs: first!.runs.slice(0, 1) }])),
        this.doc.struct('LBody', {}, () => draw([{ ...first!, runs: first!.runs.slice(1) }, ...rest])),
      ]);
    if (paragraphs.every((lines) => lines[0]!.bullet))
      return this.doc.struct('L', options, paragraphs.map(item));
    const parts: Struct[] = [];
    const items: Struct[] = [];
    const closeList = () => {
      if (items.length > 0) parts.push(this.doc.struct('L', {}, items.splice(0)));
    };
    for (const lines of paragraphs) {
      if (lines[0]!.bullet) {
        items.push(item(lines));
      } else {
        closeList();
        parts.push(this.doc.struct(role, {}, () => draw(lines)));
      }
    }
    closeList();
    return this.doc.struct('Div', options, parts);
  }
}

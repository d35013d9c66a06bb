/**
 * The machine-checkable rules of PDF/X-4 (ISO 15930-7:2010), PDF/X-1a (ISO 15930-4:2003) and
 * PDF/VT-1 (ISO 16612-2:2010) that Platen's checker knows, one entry each: where it comes from and
 * what it asks, in plain words.
 *
 * `clause` names the part of the standard the rule belongs to and, where one could be confirmed
 * from public text, the clause of ISO 32000 it leans on (the PDF/X and PDF/VT parts restrict PDF
 * features that ISO 32000 defines). The parts' own subclause numbers are not cited: the ISO texts
 * are not public, and the public rule lists seen disagree with one another on them (see the
 * preflight section of ARCHITECTURE.md). ISO 32000-2:2020, 14.12 is cited for the DPart rules: it
 * restates the document-part structure of ISO 16612-2 ("based on, and compatible with" it).
 */

const X4 = 'ISO 15930-7:2010';
const X1A = 'ISO 15930-4:2003';
const VT1 = 'ISO 16612-2:2010';

export const RULES = {
  // Both PDF/X parts
  'pdfx.trailer-id': {
    clause: `${X4}, ${X1A}; ISO 32000-1 7.5.5`,
    words: 'the trailer has a file identifier (ID)',
  },
  'pdfx.encrypt': { clause: `${X4}, ${X1A}; ISO 32000-1 7.6`, words: 'the file is not encrypted' },
  'pdfx.output-intent': {
    clause: `${X4}, ${X1A}; ISO 32000-1 14.11.5`,
    words: 'the catalog has exactly one output intent whose S is GTS_PDFX',
  },
  'pdfx.output-condition': {
    clause: `${X4}, ${X1A}; ISO 32000-1 14.11.5`,
    words: 'the PDF/X output intent names its OutputConditionIdentifier',
  },
  'pdfx.output-profile': {
    clause: `${X4}, ${X1A}; ISO 32000-1 14.11.5, ICC.1`,
    words:
      'the output profile is an ICC output (prtr) profile of a colour space the part allows, and N matches it',
  },
  'pdfx.media-box': {
    clause: `${X4}, ${X1A}; ISO 32000-1 14.11.2`,
    words: 'every page has a MediaBox',
  },
  'pdfx.trim-or-art': {
    clause: `${X4}, ${X1A}; ISO 32000-1 14.11.2`,
    words: 'every page has a TrimBox or an ArtBox, not both',
  },
  'pdfx.box-nesting': {
    clause: `${X4}, ${X1A}; ISO 32000-1 14.11.2`,
    words:
      'the boxes nest: BleedBox within the MediaBox, the TrimBox (or ArtBox) within the BleedBox, the CropBox and the MediaBox',
  },
  'pdfx.fonts': {
    clause: `${X4}, ${X1A}; ISO 32000-1 9.9`,
    words: 'every font is embedded (Type 3 fonts are their own programs)',
  },
  'pdfx.javascript': {
    clause: `${X4}, ${X1A}; ISO 32000-1 12.6.4.16`,
    words: 'no JavaScript',
  },
  'pdfx.actions': {
    clause: `${X4}, ${X1A}; ISO 32000-1 12.6`,
    words: 'no actions: none on annotations (A, AA), pages (AA) or the document (AA, an OpenAction action)',
  },
  'pdfx.annotations': {
    clause: `${X4}, ${X1A}; ISO 32000-1 12.5.3, 12.5.6.20`,
    words:
      'annotations that print stay off the page: printer’s marks outside the TrimBox (or ArtBox), others but trap networks outside the BleedBox',
  },
  'pdfx.trapnet': {
    clause: `${X4}, ${X1A}; ISO 32000-1 14.11.6`,
    words: 'a document with a TrapNet annotation says it is trapped (Trapped True)',
  },

  'pdfx.filters': {
    clause: `${X4}, ${X1A}; ISO 32000-1 7.4`,
    words:
      'streams use only the filters the part allows: no Crypt; no LZWDecode in PDF/X-4; no JBIG2Decode or JPXDecode in PDF/X-1a',
  },
  'pdfx.external-streams': {
    clause: `${X4}, ${X1A}; ISO 32000-1 7.3.8.2`,
    words: 'no stream keeps its data in an external file (F)',
  },
  'pdfx.postscript': {
    clause: `${X4}, ${X1A}; ISO 32000-1 8.8.2`,
    words: 'no PostScript XObjects',
  },
  'pdfx.alternate-images': {
    clause: `${X4}, ${X1A}; ISO 32000-1 8.9.5.4`,
    words: 'no alternate image is the default for printing',
  },
  'pdfx.transfer-halftone': {
    clause: `${X4}, ${X1A}; ISO 32000-1 8.4.5, 10.4, 10.5`,
    words:
      'graphics states set no transfer function (TR; TR2 only Default, and only in PDF/X-4), no HTP, and no halftone by name (HalftoneName)',
  },
  'pdfx.opi': {
    clause: `${X4}, ${X1A}; ISO 32000-1 14.11.7`,
    words: 'no OPI dictionaries (no images or forms stand in for others)',
  },

  // PDF/X-4
  'pdfx4.version': {
    clause: `${X4}; ISO 32000-1 7.5.2`,
    words: 'the PDF version (the header, and the catalog’s Version) is at most 1.6',
  },
  'pdfx4.xmp': {
    clause: `${X4}; ISO 32000-1 14.3.2`,
    words: 'the catalog has an XMP metadata stream that is well-formed XMP',
  },
  'pdfx4.xmp-version': {
    clause: `${X4}; ISO 32000-1 14.3.2`,
    words: 'the XMP says pdfxid:GTS_PDFXVersion "PDF/X-4"',
  },
  'pdfx4.xmp-dates': {
    clause: `${X4}; ISO 32000-1 14.3.2`,
    words: 'the XMP has xmp:CreateDate, xmp:ModifyDate and xmp:MetadataDate, as dates',
  },
  'pdfx4.xmp-ids': {
    clause: `${X4}; ISO 32000-1 14.3.2`,
    words: 'the XMP has xmpMM:DocumentID, xmpMM:VersionID and xmpMM:RenditionClass',
  },
  'pdfx4.xmp-title': {
    clause: `${X4}; ISO 32000-1 14.3.2`,
    words: 'the XMP has a title (dc:title)',
  },
  'pdfx4.trapped': {
    clause: `${X4}; ISO 32000-1 14.3.3, 14.11.6`,
    words: 'the XMP says pdf:Trapped True or False (not Unknown), and Info’s Trapped, if present, agrees',
  },
  'pdfx4.info-xmp': {
    clause: `${X4}; ISO 32000-1 14.3.3`,
    words: 'the Info dictionary agrees with the XMP (Title, CreationDate, ModDate, GTS_PDFXVersion)',
  },
  'pdfx4.output-profile-embedded': {
    clause: `${X4}; ISO 32000-1 14.11.5`,
    words: 'the PDF/X output intent embeds its profile (DestOutputProfile)',
  },
  'pdfx4.device-color': {
    clause: `${X4}; ISO 32000-1 8.6.4, 8.6.5.6`,
    words:
      'device colour matches the output intent: DeviceRGB only with an RGB intent or a DefaultRGB, DeviceCMYK only with a CMYK intent or a DefaultCMYK',
  },
  'pdfx4.blend-mode': {
    clause: `${X4}; ISO 32000-1 11.3.5`,
    words: 'blend modes are the standard ones ISO 32000-1 names',
  },

  // PDF/X-1a
  'pdfx1a.version': {
    clause: `${X1A}; ISO 32000-1 7.5.2`,
    words: 'the PDF version is 1.3 or 1.4',
  },
  'pdfx1a.identification': {
    clause: `${X1A}; ISO 32000-1 14.3.3`,
    words:
      'Info says GTS_PDFXVersion "PDF/X-1a:2003", or "PDF/X-1:2001" with GTS_PDFXConformance "PDF/X-1a:2001"',
  },
  'pdfx1a.info': {
    clause: `${X1A}; ISO 32000-1 14.3.3`,
    words: 'Info has a Title, a CreationDate and a ModDate',
  },
  'pdfx1a.trapped': {
    clause: `${X1A}; ISO 32000-1 14.3.3, 14.11.6`,
    words: 'Info says Trapped True or False (not Unknown)',
  },
  'pdfx1a.output-profile-needed': {
    clause: `${X1A}; ISO 32000-1 14.11.5`,
    words:
      'the output intent embeds a profile unless its condition is a registered one (a RegistryName and an identifier other than Custom)',
  },
  'pdfx1a.color': {
    clause: `${X1A}; ISO 32000-1 8.6`,
    words:
      'colour is CMYK, gray or spot only: no RGB, CalRGB, CalGray, Lab or ICCBased colour spaces, in content, images, shadings, patterns or forms',
  },
  'pdfx1a.transparency': {
    clause: `${X1A}; ISO 32000-1 11.3.5, 11.6.4.4, 11.6.5`,
    words:
      'no transparency: no soft masks, no opacity under 1, blend modes Normal or Compatible only, no transparency groups',
  },
  'pdfx1a.optional-content': {
    clause: `${X1A}; ISO 32000-1 8.11`,
    words: 'no optional content (a PDF 1.5 feature)',
  },

  // PDF/VT-1
  'pdfvt1.xmp-version': {
    clause: `${VT1}; ISO 32000-1 14.3.2`,
    words: 'the XMP says pdfvtid:GTS_PDFVTVersion "PDF/VT-1"',
  },
  'pdfvt1.dpart-root': {
    clause: `${VT1}; ISO 32000-2 14.12.2, 14.12.4`,
    words:
      'the catalog’s DPartRoot is an indirect DPartRoot dictionary whose DPartRootNode is an indirect DPart whose Parent is the DPartRoot',
  },
  'pdfvt1.node-name-list': {
    clause: `${VT1}; ISO 32000-2 14.12.4`,
    words: 'the DPartRoot has a NodeNameList of XML names, one for each level of the DPart tree',
  },
  'pdfvt1.dpart-tree': {
    clause: `${VT1}; ISO 32000-2 14.12.2, 14.12.4`,
    words:
      'each DPart has one parent, named by its Parent, and either DParts (a non-empty array of arrays) or Start (and End when it spans pages), not both',
  },
  'pdfvt1.dpart-pages': {
    clause: `${VT1}; ISO 32000-2 14.12.2, 14.12.3`,
    words:
      'each page is in the range of exactly one DPart leaf, leaves cover the pages in page-tree order, and each page’s DPart refers to its leaf',
  },
  'pdfvt1.dpm': {
    clause: `${VT1}; ISO 32000-2 14.12.4.2`,
    words:
      'DPM keys are XML names and DPM values are text strings, dates, numbers, booleans, arrays or dictionaries (no names, no null)',
  },
} as const satisfies Record<string, { clause: string; words: string }>;

export type RuleId = keyof typeof RULES;

/** One rule broken, where (when it is about a page) and what was found. */
export interface Violation {
  rule: RuleId;
  clause: string;
  /** The rule's words and, after a colon, what was found. */
  message: string;
  /** From 1, when the rule is about a page. */
  page?: number;
}

export function violation(rule: RuleId, found: string, page?: number): Violation {
  const { clause, words } = RULES[rule];
  return { rule, clause, message: `${words}: ${found}`, ...(page === undefined ? {} : { page }) };
}

/** "clause — words: what was found (page 3) [rule]", one line a rule broken. */
export function formatViolation(v: Violation): string {
  return `${v.clause} — ${v.message}${v.page === undefined ? '' : ` (page ${v.page})`} [${v.rule}]`;
}

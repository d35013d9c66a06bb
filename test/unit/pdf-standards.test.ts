/**
 * The PDF/X-4, PDF/X-1a and PDF/VT-1 checker over hand-written files: a file that keeps every rule
 * passes, and each file that breaks one rule is reported for exactly that rule.
 */
import { deflateSync, inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { pdfDate } from '../../src/preflight/standards/document.js';
import { checkStandard, formatViolation, RULES, type Standard } from '../../src/preflight/standards/index.js';
import { readXmp, XmpError, xmpDate, xmpKey } from '../../src/preflight/standards/xmp.js';
import { type HandPdf, OBJ, pdfVt1Parts, pdfX4Parts, writeHandPdf } from '../support/minimal-pdfx.js';

/** The rules a file breaks, each once, in the order the checker reports them. */
const rulesBroken = (pdf: HandPdf, standard: Standard) => [
  ...new Set(checkStandard(writeHandPdf(pdf), standard).map((v) => v.rule)),
];

/** The PDF/X-4 sample made a PDF/X-1a:2003 file: version 1.4, identified in Info. */
function pdfX1aParts(): HandPdf {
  const pdf = pdfX4Parts();
  pdf.header = '%PDF-1.4';
  info(pdf).set('GTS_PDFXVersion', '(PDF/X-1a:2003)');
  return pdf;
}

const o = (pdf: HandPdf, n: number) => pdf.objects.get(n)!.dict;
const info = (pdf: HandPdf) => o(pdf, OBJ.info);
const page = (pdf: HandPdf) => o(pdf, OBJ.page);
const catalog = (pdf: HandPdf) => o(pdf, OBJ.catalog);
/** Appends operators to the page's content. */
const paint = (pdf: HandPdf, operators: string) => {
  const content = pdf.objects.get(OBJ.content)!;
  content.stream = Buffer.concat([content.stream!, Buffer.from(`${operators}\n`, 'latin1')]);
};
/** Adds an object (a dictionary and, for a stream, its data) under a free number. */
const add = (pdf: HandPdf, dict: Record<string, string>, stream?: string): number => {
  const n = Math.max(...pdf.objects.keys()) + 1;
  pdf.objects.set(n, {
    dict: new Map(Object.entries(dict)),
    ...(stream === undefined ? {} : { stream: Buffer.from(stream, 'latin1') }),
  });
  return n;
};
/** Sets the ICC profile's header bytes at `at` (its device class at 12, its colour space at 16). */
const profileHeader = (pdf: HandPdf, at: number, text: string) => {
  const profile = pdf.objects.get(OBJ.profile)!;
  const bytes = inflateSync(profile.stream!);
  bytes.write(text, at, 'latin1');
  profile.stream = deflateSync(bytes);
};

describe('the hand-written samples', () => {
  it('keep every rule of their standards', () => {
    expect(rulesBroken(pdfX4Parts(), 'PDF/X-4')).toEqual([]);
    expect(rulesBroken(pdfX1aParts(), 'PDF/X-1a')).toEqual([]);
    expect(rulesBroken(pdfVt1Parts(), 'PDF/VT-1')).toEqual([]);
    expect(rulesBroken(pdfVt1Parts(), 'PDF/X-4')).toEqual([]);
  });

  it('are told apart: a PDF/X-4 file is not PDF/X-1a or PDF/VT-1', () => {
    expect(rulesBroken(pdfX4Parts(), 'PDF/X-1a')).toEqual(['pdfx1a.version', 'pdfx1a.identification']);
    expect(rulesBroken(pdfX4Parts(), 'PDF/VT-1')).toEqual(['pdfvt1.xmp-version', 'pdfvt1.dpart-root']);
  });
});

type Case = [name: string, standard: Standard, edit: (pdf: HandPdf) => void, broken: string[]];

const X4_CASES: Case[] = [
  ['a PDF 1.7 header', 'PDF/X-4', (p) => (p.header = '%PDF-1.7'), ['pdfx4.version']],
  ['a catalog Version 1.7', 'PDF/X-4', (p) => catalog(p).set('Version', '/1.7'), ['pdfx4.version']],
  ['no trailer ID', 'PDF/X-4', (p) => p.trailer.delete('ID'), ['pdfx.trailer-id']],
  ['an ID of one string', 'PDF/X-4', (p) => p.trailer.set('ID', '[<00ff>]'), ['pdfx.trailer-id']],
  [
    'encryption',
    'PDF/X-4',
    (p) => p.trailer.set('Encrypt', `${add(p, { Filter: '/Standard' })} 0 R`),
    ['pdfx.encrypt'],
  ],
  ['no XMP metadata', 'PDF/X-4', (p) => catalog(p).delete('Metadata'), ['pdfx4.xmp']],
  [
    'XMP that is not XML',
    'PDF/X-4',
    (p) => (p.objects.get(OBJ.metadata)!.stream = Buffer.from('<x:xmpmeta><rdf:RDF></x:xmpmeta>')),
    ['pdfx4.xmp'],
  ],
  [
    'no GTS_PDFXVersion',
    'PDF/X-4',
    (p) => {
      p.xmp.delete('pdfxid:GTS_PDFXVersion');
      info(p).delete('GTS_PDFXVersion');
    },
    ['pdfx4.xmp-version'],
  ],
  [
    'GTS_PDFXVersion PDF/X-3:2002',
    'PDF/X-4',
    (p) => {
      p.xmp.set('pdfxid:GTS_PDFXVersion', 'PDF/X-3:2002');
      info(p).delete('GTS_PDFXVersion');
    },
    ['pdfx4.xmp-version'],
  ],
  ['no xmp:MetadataDate', 'PDF/X-4', (p) => p.xmp.delete('xmp:MetadataDate'), ['pdfx4.xmp-dates']],
  [
    'an xmp:MetadataDate that is no date',
    'PDF/X-4',
    (p) => p.xmp.set('xmp:MetadataDate', 'yesterday'),
    ['pdfx4.xmp-dates'],
  ],
  ['no xmpMM:VersionID', 'PDF/X-4', (p) => p.xmp.delete('xmpMM:VersionID'), ['pdfx4.xmp-ids']],
  ['no xmpMM:RenditionClass', 'PDF/X-4', (p) => p.xmp.delete('xmpMM:RenditionClass'), ['pdfx4.xmp-ids']],
  ['no xmpMM:DocumentID', 'PDF/X-4', (p) => p.xmp.delete('xmpMM:DocumentID'), ['pdfx4.xmp-ids']],
  [
    'no title',
    'PDF/X-4',
    (p) => {
      p.xmp.delete('dc:title');
      info(p).delete('Title');
    },
    ['pdfx4.xmp-title'],
  ],
  [
    'Trapped Unknown',
    'PDF/X-4',
    (p) => {
      p.xmp.set('pdf:Trapped', 'Unknown');
      info(p).set('Trapped', '/Unknown');
    },
    ['pdfx4.trapped'],
  ],
  ['no pdf:Trapped', 'PDF/X-4', (p) => p.xmp.delete('pdf:Trapped'), ['pdfx4.trapped']],
  ['Info Trapped True, XMP False', 'PDF/X-4', (p) => info(p).set('Trapped', '/True'), ['pdfx4.trapped']],
  [
    'an Info Title the XMP does not say',
    'PDF/X-4',
    (p) => info(p).set('Title', '(Another title)'),
    ['pdfx4.info-xmp'],
  ],
  [
    'an Info ModDate a day off',
    'PDF/X-4',
    (p) => info(p).set('ModDate', '(D:20261207120000Z)'),
    ['pdfx4.info-xmp'],
  ],
  ['no output intent', 'PDF/X-4', (p) => catalog(p).delete('OutputIntents'), ['pdfx.output-intent']],
  [
    'two PDF/X output intents',
    'PDF/X-4',
    (p) => catalog(p).set('OutputIntents', `[${OBJ.intent} 0 R ${OBJ.intent} 0 R]`),
    ['pdfx.output-intent'],
  ],
  [
    'an output intent of PDF/A',
    'PDF/X-4',
    (p) => o(p, OBJ.intent).set('S', '/GTS_PDFA1'),
    ['pdfx.output-intent'],
  ],
  [
    'no OutputConditionIdentifier',
    'PDF/X-4',
    (p) => o(p, OBJ.intent).delete('OutputConditionIdentifier'),
    ['pdfx.output-condition'],
  ],
  [
    'no embedded profile',
    'PDF/X-4',
    (p) => o(p, OBJ.intent).delete('DestOutputProfile'),
    ['pdfx4.output-profile-embedded'],
  ],
  ['a display-class profile', 'PDF/X-4', (p) => profileHeader(p, 12, 'mntr'), ['pdfx.output-profile']],
  ['N 3 for a CMYK profile', 'PDF/X-4', (p) => o(p, OBJ.profile).set('N', '3'), ['pdfx.output-profile']],
  [
    'a profile that is not ICC',
    'PDF/X-4',
    (p) => (p.objects.get(OBJ.profile)!.stream = Buffer.from('not a profile')),
    ['pdfx.output-profile'],
  ],
  ['no MediaBox', 'PDF/X-4', (p) => page(p).delete('MediaBox'), ['pdfx.media-box']],
  ['no TrimBox or ArtBox', 'PDF/X-4', (p) => page(p).delete('TrimBox'), ['pdfx.trim-or-art']],
  [
    'both TrimBox and ArtBox',
    'PDF/X-4',
    (p) => page(p).set('ArtBox', '[18 18 432 288]'),
    ['pdfx.trim-or-art'],
  ],
  [
    'a TrimBox past the BleedBox',
    'PDF/X-4',
    (p) => page(p).set('TrimBox', '[0 18 432 288]'),
    ['pdfx.box-nesting'],
  ],
  [
    'a BleedBox past the MediaBox',
    'PDF/X-4',
    (p) => page(p).set('BleedBox', '[9 9 441 320]'),
    ['pdfx.box-nesting'],
  ],
  [
    'a TrimBox past the CropBox',
    'PDF/X-4',
    (p) => page(p).set('CropBox', '[20 20 430 286]'),
    ['pdfx.box-nesting'],
  ],
  ['a font not embedded', 'PDF/X-4', (p) => o(p, OBJ.descriptor).delete('FontFile2'), ['pdfx.fonts']],
  [
    'a standard font without a descriptor',
    'PDF/X-4',
    (p) => {
      const helvetica = add(p, { Type: '/Font', Subtype: '/Type1', BaseFont: '/Helvetica' });
      page(p).set('Resources', `<< /Font << /F1 ${OBJ.font} 0 R /F2 ${helvetica} 0 R >> >>`);
    },
    ['pdfx.fonts'],
  ],
  ['DeviceRGB fill colour', 'PDF/X-4', (p) => paint(p, '1 0 0 rg 0 0 9 9 re f'), ['pdfx4.device-color']],
  [
    'a DeviceRGB shading',
    'PDF/X-4',
    (p) => {
      page(p).set(
        'Resources',
        `<< /Font << /F1 ${OBJ.font} 0 R >> /Shading << /Sh1 << /ShadingType 2 /ColorSpace /DeviceRGB /Coords [0 0 1 0] /Function << /FunctionType 2 /Domain [0 1] /C0 [1 0 0] /C1 [0 0 1] /N 1 >> >> >> >>`,
      );
      paint(p, '/Sh1 sh');
    },
    ['pdfx4.device-color'],
  ],
  [
    'an RGB image inside a form',
    'PDF/X-4',
    (p) => {
      const image = add(
        p,
        {
          Type: '/XObject',
          Subtype: '/Image',
          Width: '1',
          Height: '1',
          ColorSpace: '/DeviceRGB',
          BitsPerComponent: '8',
        },
        '\xff\x00\x00',
      );
      const form = add(
        p,
        {
          Type: '/XObject',
          Subtype: '/Form',
          BBox: '[0 0 1 1]',
          Resources: `<< /XObject << /Im1 ${image} 0 R >> >>`,
        },
        '/Im1 Do',
      );
      page(p).set('Resources', `<< /Font << /F1 ${OBJ.font} 0 R >> /XObject << /Fm1 ${form} 0 R >> >>`);
      paint(p, 'q 9 0 0 9 20 20 cm /Fm1 Do Q');
    },
    ['pdfx4.device-color'],
  ],
  [
    'DeviceCMYK with an RGB output intent',
    'PDF/X-4',
    (p) => {
      profileHeader(p, 16, 'RGB ');
      o(p, OBJ.profile).set('N', '3');
    },
    ['pdfx4.device-color'],
  ],
  [
    'an RGB inline image',
    'PDF/X-4',
    (p) => paint(p, 'q 9 0 0 9 20 20 cm BI /W 1 /H 1 /CS /RGB /BPC 8 ID \xff\x00\x00 EI Q'),
    ['pdfx4.device-color'],
  ],
  [
    'a blend mode no standard names',
    'PDF/X-4',
    (p) => {
      page(p).set(
        'Resources',
        `<< /Font << /F1 ${OBJ.font} 0 R >> /ExtGState << /G1 << /BM /Dissolve >> >> >>`,
      );
      paint(p, '/G1 gs');
    },
    ['pdfx4.blend-mode'],
  ],
  [
    'a JavaScript name tree',
    'PDF/X-4',
    (p) => catalog(p).set('Names', `<< /JavaScript ${add(p, { Names: '[]' })} 0 R >>`),
    ['pdfx.javascript'],
  ],
  [
    'a JavaScript open action',
    'PDF/X-4',
    (p) => catalog(p).set('OpenAction', '<< /S /JavaScript /JS (print) >>'),
    ['pdfx.actions', 'pdfx.javascript'],
  ],
  [
    'a page with additional actions',
    'PDF/X-4',
    (p) => page(p).set('AA', '<< /O << /S /Named /N /NextPage >> >>'),
    ['pdfx.actions'],
  ],
  [
    'a hidden link with an action',
    'PDF/X-4',
    (p) =>
      page(p).set(
        'Annots',
        `[${add(p, { Type: '/Annot', Subtype: '/Link', Rect: '[20 20 60 60]', F: '0', A: '<< /S /URI /URI (https://example.com) >>' })} 0 R]`,
      ),
    ['pdfx.actions'],
  ],
  [
    'a printing note inside the trim',
    'PDF/X-4',
    (p) =>
      page(p).set(
        'Annots',
        `[${add(p, { Type: '/Annot', Subtype: '/Text', Rect: '[20 20 60 60]', F: '4' })} 0 R]`,
      ),
    ['pdfx.annotations'],
  ],
  [
    'a trap network in a file that says it is not trapped',
    'PDF/X-4',
    (p) =>
      page(p).set(
        'Annots',
        `[${add(p, { Type: '/Annot', Subtype: '/TrapNet', Rect: '[0 0 450 306]', F: '4' })} 0 R]`,
      ),
    ['pdfx.trapnet'],
  ],
  [
    'a printer’s mark whose appearance paints in RGB',
    'PDF/X-4',
    (p) => {
      const look = add(p, { Type: '/XObject', Subtype: '/Form', BBox: '[0 0 9 9]' }, '1 0 0 rg 0 0 9 9 re f');
      const mark = add(p, {
        Type: '/Annot',
        Subtype: '/PrinterMark',
        Rect: '[0 0 9 9]',
        F: '4',
        AP: `<< /N ${look} 0 R >>`,
      });
      page(p).set('Annots', `[${mark} 0 R]`);
    },
    ['pdfx4.device-color'],
  ],
  [
    'an LZW stream',
    'PDF/X-4',
    (p) => add(p, { Filter: '/LZWDecode' }, '\x80\x0b\x60\x50\x22\x0c\x0c\x85\x01'),
    ['pdfx.filters'],
  ],
  [
    'a stream in an external file',
    'PDF/X-4',
    (p) => add(p, { F: '(data.bin)' }, ''),
    ['pdfx.external-streams'],
  ],
  [
    'a PostScript XObject',
    'PDF/X-4',
    (p) => add(p, { Type: '/XObject', Subtype: '/PS' }, 'showpage'),
    ['pdfx.postscript'],
  ],
  [
    'an OPI proxy',
    'PDF/X-4',
    (p) =>
      add(
        p,
        {
          Type: '/XObject',
          Subtype: '/Form',
          BBox: '[0 0 1 1]',
          OPI: '<< /2.0 << /Type /OPI /Version 2.0 /F (hi.tif) /Inks /full_color >> >>',
        },
        '',
      ),
    ['pdfx.opi'],
  ],
  [
    'an alternate image printed by default',
    'PDF/X-4',
    (p) => {
      const alternate = add(
        p,
        {
          Type: '/XObject',
          Subtype: '/Image',
          Width: '1',
          Height: '1',
          ColorSpace: '/DeviceCMYK',
          BitsPerComponent: '8',
        },
        '\x00\x00\x00\xff',
      );
      add(
        p,
        {
          Type: '/XObject',
          Subtype: '/Image',
          Width: '1',
          Height: '1',
          ColorSpace: '/DeviceCMYK',
          BitsPerComponent: '8',
          Alternates: `[<< /Image ${alternate} 0 R /DefaultForPrinting true >>]`,
        },
        '\x00\x00\x00\xff',
      );
    },
    ['pdfx.alternate-images'],
  ],
  [
    'a printer’s mark on the trim',
    'PDF/X-4',
    (p) =>
      page(p).set(
        'Annots',
        `[${add(p, { Type: '/Annot', Subtype: '/PrinterMark', Rect: '[10 10 30 30]', F: '4' })} 0 R]`,
      ),
    ['pdfx.annotations'],
  ],
  [
    'a printing note in the bleed',
    'PDF/X-4',
    (p) =>
      page(p).set(
        'Annots',
        `[${add(p, { Type: '/Annot', Subtype: '/Text', Rect: '[10 10 15 15]', F: '4' })} 0 R]`,
      ),
    ['pdfx.annotations'],
  ],
  [
    'a transfer function',
    'PDF/X-4',
    (p) => {
      page(p).set(
        'Resources',
        `<< /Font << /F1 ${OBJ.font} 0 R >> /ExtGState << /G1 << /TR /Identity >> >> >>`,
      );
      paint(p, '/G1 gs');
    },
    ['pdfx.transfer-halftone'],
  ],
];

describe('PDF/X-4: each rule broken is named', () => {
  it.each(X4_CASES)('%s', (_name, standard, edit, broken) => {
    const pdf = pdfX4Parts();
    edit(pdf);
    expect(rulesBroken(pdf, standard)).toEqual(broken);
  });

  it('allows what it should: inherited boxes, a DefaultRGB, a printer’s mark in the trim, RGB words in a string, JPEG 2000, transparency, TR2 Default', () => {
    const pdf = pdfX4Parts();
    add(pdf, { Type: '/XObject', Subtype: '/Image', Width: '1', Height: '1', Filter: '/JPXDecode' }, '');
    o(pdf, OBJ.pages).set('MediaBox', '[0 0 450 306]');
    page(pdf).delete('MediaBox');
    const srgb = add(pdf, { N: '3' }, 'an RGB profile');
    page(pdf).set(
      'Resources',
      `<< /Font << /F1 ${OBJ.font} 0 R >> /ColorSpace << /DefaultRGB [/ICCBased ${srgb} 0 R] >> /ExtGState << /G1 << /TR2 /Default /BM /Multiply /ca 0.5 >> >> >>`,
    );
    paint(pdf, '1 0 0 rg 0 0 9 9 re f BT /F1 9 Tf (1 0 0 rg) Tj ET /G1 gs');
    page(pdf).set(
      'Annots',
      `[${add(pdf, { Type: '/Annot', Subtype: '/PrinterMark', Rect: '[9 9 17 17]', F: '4' })} 0 R]`,
    );
    expect(rulesBroken(pdf, 'PDF/X-4')).toEqual([]);
  });

  it('says what it found, by clause and page', () => {
    const pdf = pdfX4Parts();
    paint(pdf, '0 0 1 RG 0 0 9 9 re S');
    const [found] = checkStandard(writeHandPdf(pdf), 'PDF/X-4');
    expect(found).toMatchObject({
      rule: 'pdfx4.device-color',
      page: 1,
      clause: RULES['pdfx4.device-color'].clause,
    });
    expect(formatViolation(found!)).toBe(
      `ISO 15930-7:2010; ISO 32000-1 8.6.4, 8.6.5.6 — ${RULES['pdfx4.device-color'].words}: DeviceRGB in the page (page 1) [pdfx4.device-color]`,
    );
  });
});

const X1A_CASES: Case[] = [
  ['a PDF 1.5 header', 'PDF/X-1a', (p) => (p.header = '%PDF-1.5'), ['pdfx1a.version']],
  ['no GTS_PDFXVersion', 'PDF/X-1a', (p) => info(p).delete('GTS_PDFXVersion'), ['pdfx1a.identification']],
  [
    'PDF/X-1:2001 without its conformance',
    'PDF/X-1a',
    (p) => info(p).set('GTS_PDFXVersion', '(PDF/X-1:2001)'),
    ['pdfx1a.identification'],
  ],
  ['no ModDate', 'PDF/X-1a', (p) => info(p).delete('ModDate'), ['pdfx1a.info']],
  ['Trapped Unknown', 'PDF/X-1a', (p) => info(p).set('Trapped', '/Unknown'), ['pdfx1a.trapped']],
  [
    'optional content',
    'PDF/X-1a',
    (p) => catalog(p).set('OCProperties', '<< /OCGs [] /D << >> >>'),
    ['pdfx1a.optional-content'],
  ],
  [
    'a custom condition without a profile',
    'PDF/X-1a',
    (p) => {
      o(p, OBJ.intent).delete('DestOutputProfile');
      o(p, OBJ.intent).set('OutputConditionIdentifier', '(Custom)');
    },
    ['pdfx1a.output-profile-needed'],
  ],
  [
    'an RGB output profile',
    'PDF/X-1a',
    (p) => {
      profileHeader(p, 16, 'RGB ');
      o(p, OBJ.profile).set('N', '3');
    },
    ['pdfx.output-profile'],
  ],
  [
    'a JPEG 2000 image',
    'PDF/X-1a',
    (p) => add(p, { Type: '/XObject', Subtype: '/Image', Width: '1', Height: '1', Filter: '/JPXDecode' }, ''),
    ['pdfx.filters'],
  ],
  ['DeviceRGB', 'PDF/X-1a', (p) => paint(p, '1 0 0 rg 0 0 9 9 re f'), ['pdfx1a.color']],
  [
    'an ICCBased colour space',
    'PDF/X-1a',
    (p) => {
      page(p).set(
        'Resources',
        `<< /Font << /F1 ${OBJ.font} 0 R >> /ColorSpace << /CS1 [/ICCBased ${OBJ.profile} 0 R] >> >>`,
      );
      paint(p, '/CS1 cs 0 0 0 1 scn 0 0 9 9 re f');
    },
    ['pdfx1a.color'],
  ],
  [
    'a Lab colour space',
    'PDF/X-1a',
    (p) => {
      page(p).set(
        'Resources',
        `<< /Font << /F1 ${OBJ.font} 0 R >> /ColorSpace << /CS1 [/Lab << /WhitePoint [0.9642 1 0.8249] >>] >> >>`,
      );
      paint(p, '/CS1 cs 50 0 0 scn 0 0 9 9 re f');
    },
    ['pdfx1a.color'],
  ],
  [
    'opacity under 1',
    'PDF/X-1a',
    (p) => {
      page(p).set('Resources', `<< /Font << /F1 ${OBJ.font} 0 R >> /ExtGState << /G1 << /ca 0.5 >> >> >>`);
      paint(p, '/G1 gs 0 0 9 9 re f');
    },
    ['pdfx1a.transparency'],
  ],
  [
    'a Multiply blend',
    'PDF/X-1a',
    (p) => {
      page(p).set(
        'Resources',
        `<< /Font << /F1 ${OBJ.font} 0 R >> /ExtGState << /G1 << /BM /Multiply >> >> >>`,
      );
      paint(p, '/G1 gs 0 0 9 9 re f');
    },
    ['pdfx1a.transparency'],
  ],
  [
    'a soft-masked image',
    'PDF/X-1a',
    (p) => {
      const mask = add(
        p,
        {
          Type: '/XObject',
          Subtype: '/Image',
          Width: '1',
          Height: '1',
          ColorSpace: '/DeviceGray',
          BitsPerComponent: '8',
        },
        '\x80',
      );
      const image = add(
        p,
        {
          Type: '/XObject',
          Subtype: '/Image',
          Width: '1',
          Height: '1',
          ColorSpace: '/DeviceCMYK',
          BitsPerComponent: '8',
          SMask: `${mask} 0 R`,
        },
        '\x00\x00\x00\xff',
      );
      page(p).set('Resources', `<< /Font << /F1 ${OBJ.font} 0 R >> /XObject << /Im1 ${image} 0 R >> >>`);
      paint(p, 'q 9 0 0 9 20 20 cm /Im1 Do Q');
    },
    ['pdfx1a.transparency'],
  ],
  [
    'a page transparency group',
    'PDF/X-1a',
    (p) => page(p).set('Group', '<< /S /Transparency /CS /DeviceCMYK >>'),
    ['pdfx1a.transparency'],
  ],
];

describe('PDF/X-1a: each rule broken is named', () => {
  it.each(X1A_CASES)('%s', (_name, standard, edit, broken) => {
    const pdf = pdfX1aParts();
    edit(pdf);
    expect(rulesBroken(pdf, standard)).toEqual(broken);
  });

  it('takes PDF/X-1a:2001’s identification and a registered condition without a profile', () => {
    const pdf = pdfX1aParts();
    pdf.header = '%PDF-1.3';
    info(pdf).set('GTS_PDFXVersion', '(PDF/X-1:2001)');
    info(pdf).set('GTS_PDFXConformance', '(PDF/X-1a:2001)');
    o(pdf, OBJ.intent).delete('DestOutputProfile');
    expect(rulesBroken(pdf, 'PDF/X-1a')).toEqual([]);
  });
});

const VT1_CASES: Case[] = [
  [
    'no GTS_PDFVTVersion',
    'PDF/VT-1',
    (p) => p.xmp.delete('pdfvtid:GTS_PDFVTVersion'),
    ['pdfvt1.xmp-version'],
  ],
  ['a PDF/X-4 rule broken', 'PDF/VT-1', (p) => (p.header = '%PDF-1.7'), ['pdfx4.version']],
  ['no DPartRoot', 'PDF/VT-1', (p) => catalog(p).delete('DPartRoot'), ['pdfvt1.dpart-root']],
  [
    'a root node without Parent',
    'PDF/VT-1',
    (p) => o(p, OBJ.rootNode).delete('Parent'),
    ['pdfvt1.dpart-root'],
  ],
  [
    'no NodeNameList',
    'PDF/VT-1',
    (p) => o(p, OBJ.dpartRoot).delete('NodeNameList'),
    ['pdfvt1.node-name-list'],
  ],
  [
    'a NodeNameList one level short',
    'PDF/VT-1',
    (p) => o(p, OBJ.dpartRoot).set('NodeNameList', '[/Record]'),
    ['pdfvt1.node-name-list'],
  ],
  [
    'a leaf whose Parent is the root',
    'PDF/VT-1',
    (p) => o(p, OBJ.leaf2).set('Parent', `${OBJ.dpartRoot} 0 R`),
    ['pdfvt1.dpart-tree'],
  ],
  [
    'a node with both DParts and Start',
    'PDF/VT-1',
    (p) => o(p, OBJ.leaf1).set('DParts', `[[${OBJ.leaf2} 0 R]]`),
    ['pdfvt1.dpart-tree'],
  ],
  ['a page without its DPart', 'PDF/VT-1', (p) => o(p, OBJ.page2).delete('DPart'), ['pdfvt1.dpart-pages']],
  [
    'leaves out of page order',
    'PDF/VT-1',
    (p) => o(p, OBJ.rootNode).set('DParts', `[[${OBJ.leaf2} 0 R ${OBJ.leaf1} 0 R]]`),
    ['pdfvt1.dpart-pages'],
  ],
  [
    'a record hash as a name',
    'PDF/VT-1',
    (p) => o(p, OBJ.leaf1).set('DPM', `<< /RecordSHA256 /${'a1'.repeat(32)} >>`),
    ['pdfvt1.dpm'],
  ],
];

describe('PDF/VT-1: each rule broken is named', () => {
  it.each(VT1_CASES)('%s', (_name, standard, edit, broken) => {
    const pdf = pdfVt1Parts();
    edit(pdf);
    expect(rulesBroken(pdf, standard)).toEqual(broken);
  });
});

describe('the rule table', () => {
  it('cites a standard for every rule, and ISO 32000 for what it leans on', () => {
    for (const [id, rule] of Object.entries(RULES)) {
      expect(rule.clause, id).toMatch(/^ISO (15930-7:2010|15930-4:2003|16612-2:2010)/);
      expect(rule.clause, id).toMatch(/ISO 32000-[12] \d+(\.\d+)*/);
    }
  });
});

describe('the XMP reader', () => {
  it('reads properties written as attributes, and a language alternative’s first item', () => {
    const packet = `<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:pdfxid="http://www.npes.org/pdfx/ns/id/" pdfxid:GTS_PDFXVersion="PDF/X-4"/>
<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title><rdf:Alt>
<rdf:li xml:lang="x-default">First</rdf:li><rdf:li xml:lang="de">Erste</rdf:li></rdf:Alt></dc:title></rdf:Description>
</rdf:RDF></x:xmpmeta><?xpacket end="r"?>`;
    const xmp = readXmp(packet);
    expect(xmp.get(xmpKey('pdfxid', 'GTS_PDFXVersion'))).toBe('PDF/X-4');
    expect(xmp.get(xmpKey('dc', 'title'))).toBe('First');
    expect(() => readXmp('<x:xmpmeta>')).toThrow(XmpError);
  });

  it('reads XMP dates with a zone and PDF dates with an offset as the same instant', () => {
    expect(xmpDate('2026-12-06T13:00:00+01:00')).toBe(Date.UTC(2026, 11, 6, 12));
    expect(pdfDate("D:20261206130000+01'00'")).toBe(Date.UTC(2026, 11, 6, 12));
    expect(xmpDate('yesterday')).toBeNull();
  });
});

/**
 * SVG art (#15 item 11) is checked before anything draws it: well-formed XML without a DOCTYPE, no
 * reference to anything outside the file, and within its limits once `<use>`, patterns, clip paths,
 * masks and markers are expanded. An amplifying file is refused from its structure, before it is
 * expanded or drawn; every refusal names the file and the limit.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PRINT_PPI } from '../../src/assets/images.js';
import { SVG_LIMITS } from '../../src/assets/svg.js';
import { validateTemplate } from '../../src/validate.js';
import { EL, el, makePackage } from '../support/base-package.js';
import { cleanup, TempDirs, truncated } from '../support/files.js';
import { pngBytes } from '../support/images.js';
import { type Expected, expectProblems } from '../support/problems.js';
import {
  client,
  createKey,
  problem,
  startTestServer,
  type TestServer,
  uploadZip,
} from '../support/server.js';
import { zipFolder } from '../support/zips.js';

const temp = new TempDirs();
afterAll(() => temp.cleanup());

const MARK = `${el(EL.mark)}.src`;
const svg = (body: string, head = ''): string =>
  `${head}<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 10 10">${body}</svg>\n`;

/** The base package with its mark (a 40 × 40 pt box) drawn by this SVG. */
async function withMark(text: string): Promise<string> {
  const dir = await makePackage(temp);
  await writeFile(path.join(dir, 'art/mark.svg'), text);
  return dir;
}

/** `levels` of groups, each drawing the one below `fanout` times: fanout^levels rectangles. */
function nestedUse(levels: number, fanout: number): string {
  let defs = '<rect id="l0" width="1" height="1"/>';
  for (let i = 1; i <= levels; i++) {
    defs += `<g id="l${i}">${`<use href="#l${i - 1}"/>`.repeat(fanout)}</g>`;
  }
  return svg(`<defs>${defs}</defs><use href="#l${levels}"/>`);
}

const dataUrl = (type: string, bytes: Buffer): string => `data:${type};base64,${bytes.toString('base64')}`;
const image = (href: string, attrs = ''): string => `<image ${attrs} width="10" height="10" href="${href}"/>`;

interface Case {
  name: string;
  art: () => Promise<string> | string;
  expected: Expected;
}

const external = (what: string): Expected => ({ path: MARK, rule: 'svg_external', message: what });

const cases: Case[] = [
  // amplification ---------------------------------------------------------------------------
  {
    name: 'a 1 KB file of nested <use>: 100,000 rectangles',
    art: () => nestedUse(5, 10),
    expected: { path: MARK, rule: 'svg_too_complex', message: /^art\/mark\.svg: more than 5,000 elements/ },
  },
  {
    name: 'nested <use> of 10^18 rectangles (the walk stops at the limit)',
    art: () => nestedUse(18, 10),
    expected: { path: MARK, rule: 'svg_too_complex', message: 'more than 5,000 elements' },
  },
  {
    name: 'a marker on every vertex of a long path',
    art: () =>
      svg(
        `<defs><marker id="m">${'<circle r="1"/>'.repeat(20)}</marker></defs>` +
          `<path marker-mid="url(#m)" d="M0 0 ${'L1 1 '.repeat(1000)}"/>`,
      ),
    expected: { path: MARK, rule: 'svg_too_complex', message: 'markers' },
  },
  {
    name: 'a pattern set by a style sheet on many shapes',
    art: () =>
      svg(
        `<style>.p { fill: url(#pat) }</style><defs><pattern id="pat">${'<rect width="1" height="1"/>'.repeat(100)}</pattern></defs>` +
          '<rect class="p" width="1" height="1"/>'.repeat(100),
      ),
    expected: { path: MARK, rule: 'svg_too_complex', message: 'patterns' },
  },
  {
    name: 'a pattern fill inherited from a group by its shapes',
    art: () =>
      svg(
        `<defs><pattern id="pat">${'<rect width="1" height="1"/>'.repeat(100)}</pattern></defs>` +
          `<g fill="url(#pat)">${'<rect width="1" height="1"/>'.repeat(100)}</g>`,
      ),
    expected: { path: MARK, rule: 'svg_too_complex', message: 'elements' },
  },
  {
    name: 'more elements than the limit, without any reference',
    art: () => svg('<rect width="1" height="1"/>'.repeat(SVG_LIMITS.maxElements + 1)),
    expected: { path: MARK, rule: 'svg_too_complex', message: 'elements' },
  },
  {
    name: 'groups nested 100 deep',
    art: () => svg(`${'<g>'.repeat(100)}<rect width="1" height="1"/>${'</g>'.repeat(100)}`),
    expected: { path: MARK, rule: 'svg_too_deep', message: `more than ${SVG_LIMITS.maxDepth} deep` },
  },
  {
    name: 'a chain of 100 <use>, each of the one before',
    art: () =>
      svg(
        `<defs><rect id="u0" width="1" height="1"/>${Array.from({ length: 100 }, (_, i) => `<use id="u${i + 1}" href="#u${i}"/>`).join('')}</defs><use href="#u100"/>`,
      ),
    expected: { path: MARK, rule: 'svg_too_deep', message: 'deep' },
  },
  {
    name: 'a group that draws itself',
    art: () => svg('<g id="a"><rect width="1" height="1"/><use xlink:href="#a"/></g>'),
    expected: { path: MARK, rule: 'svg_reference_loop', message: '#a refers' },
  },
  // outside references ----------------------------------------------------------------------
  {
    name: 'a fill of url(http://…) (a 500 at publish before)',
    art: () => svg('<rect width="10" height="10" fill="url(http://example.com/paint.svg#g)"/>'),
    expected: external('url(http://example.com/paint.svg#g)'),
  },
  {
    name: 'a stroke of another file’s #id, without url()',
    art: () => svg('<rect width="10" height="10" stroke="paint.svg#g"/>'),
    expected: external('paint.svg#g'),
  },
  {
    name: 'a url() in a style attribute',
    art: () => svg('<rect width="10" height="10" style="fill: url(\'https://example.com/x#g\')"/>'),
    expected: external('https://example.com/x#g'),
  },
  {
    name: 'a url() in a style sheet',
    art: () => svg('<style>rect { clip-path: url(/etc/clip.svg#c) }</style><rect width="10" height="10"/>'),
    expected: external('url(…) in a <style>'),
  },
  {
    name: 'an @import',
    art: () => svg('<style>@import "https://example.com/brand.css";</style><rect width="10" height="10"/>'),
    expected: external('@import'),
  },
  {
    name: 'an xml-stylesheet instruction',
    art: () => svg('<rect width="10" height="10"/>', '<?xml-stylesheet href="https://example.com/a.css"?>'),
    expected: external('xml-stylesheet'),
  },
  {
    name: '<use> of another file',
    art: () => svg('<use href="brand.svg#logo"/>'),
    expected: external('<use href="brand.svg#logo">'),
  },
  {
    name: 'an image read from a local file',
    art: () => svg(image('/etc/platen/logo.png')),
    expected: external('/etc/platen/logo.png'),
  },
  {
    name: 'an image whose data: URL pdfkit would read as a file name',
    art: () => svg(image('data:image/png,../../../../etc/hosts')),
    expected: external('data:image/png,../../../../etc/hosts'),
  },
  {
    name: 'a link to a web page',
    art: () => svg('<a xlink:href="https://example.com/"><rect width="10" height="10"/></a>'),
    expected: external('https://example.com/'),
  },
  {
    name: 'a DOCTYPE declaring entities',
    art: () =>
      svg(
        '<text>&lol2;</text>',
        '<!DOCTYPE svg [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>',
      ),
    expected: { path: MARK, rule: 'svg_doctype', message: 'delete the <!DOCTYPE' },
  },
  {
    name: 'an external entity',
    art: () => svg('<rect width="10" height="10"/>', '<!DOCTYPE svg SYSTEM "file:///etc/passwd">'),
    expected: { path: MARK, rule: 'svg_doctype', message: 'DOCTYPE' },
  },
  // not SVG ---------------------------------------------------------------------------------
  {
    name: 'XML that is not well-formed',
    art: () => svg('<g><rect width="10" height="10"></g>'),
    expected: { path: MARK, rule: 'svg_xml', message: 'not well-formed XML' },
  },
  {
    name: 'an unknown entity',
    art: () => svg('<rect width="10" height="10" fill="&brand;"/>'),
    expected: { path: MARK, rule: 'svg_xml', message: 'not well-formed XML' },
  },
  {
    name: 'HTML, not SVG',
    art: () => '<html><body><svg viewBox="0 0 10 10"/></body></html>\n',
    expected: { path: MARK, rule: 'svg_xml', message: 'not <svg>' },
  },
  {
    name: 'a file over the size limit',
    art: () => svg(`<!--${'x'.repeat(SVG_LIMITS.maxBytes)}--><rect width="10" height="10"/>`),
    expected: { path: MARK, rule: 'svg_too_big', message: '2 MB' },
  },
  // embedded images -------------------------------------------------------------------------
  {
    name: 'an embedded image larger than its box prints at 600 ppi',
    art: async () => svg(image(dataUrl('image/png', await pngBytes(1000, 1000)))),
    expected: { path: MARK, rule: 'svg_image_pixels', message: `${PRINT_PPI} ppi` },
  },
  {
    name: 'a small embedded image drawn 100 times through <use>',
    art: async () =>
      svg(
        `<defs>${image(dataUrl('image/png', await pngBytes(100, 100)), 'id="i"')}</defs>${'<use href="#i"/>'.repeat(100)}`,
      ),
    expected: { path: MARK, rule: 'svg_image_pixels', message: 'pixels in all' },
  },
  {
    name: 'an embedded WebP (pdfkit draws only PNG and JPEG)',
    art: async () =>
      svg(
        image(
          `data:image/png;base64,${(
            await sharp({ create: { width: 4, height: 4, channels: 3, background: '#000' } })
              .webp()
              .toBuffer()
          ).toString('base64')}`,
        ),
      ),
    expected: { path: MARK, rule: 'svg_image', message: 'webp' },
  },
  {
    name: 'an embedded truncated PNG',
    art: async () => {
      const noisy = await sharp({
        create: {
          width: 64,
          height: 64,
          channels: 3,
          background: '#000',
          noise: { type: 'gaussian', mean: 128, sigma: 40 },
        },
      })
        .png()
        .toBuffer();
      return svg(image(dataUrl('image/png', truncated(noisy, 0.6))));
    },
    expected: { path: MARK, rule: 'svg_image', message: 'cannot be read' },
  },
];

describe.concurrent.each(cases)('SVG art with $name', ({ art, expected }) => {
  it('is refused, naming the file', async () => {
    const { problems } = await validateTemplate(await withMark(await art()));
    expectProblems(problems, [expected]);
    expect(problems[0]!.message.startsWith('art/mark.svg: ')).toBe(true);
  });
});

describe('art within the limits', () => {
  it('with <use>, a gradient, a pattern, markers, a clip path, a style sheet and an embedded image is accepted', async () => {
    const png = dataUrl('image/png', await pngBytes(200, 200));
    const art = svg(
      `<style>.a { fill: url(#g) } .b { stroke: #1F3A5F }</style>` +
        `<defs><linearGradient id="g"><stop offset="0" stop-color="#fff"/><stop offset="1" stop-color="#000"/></linearGradient>` +
        `<pattern id="p" width="2" height="2"><rect width="1" height="1"/></pattern>` +
        `<marker id="m"><circle r="0.2"/></marker><clipPath id="c"><rect width="5" height="5"/></clipPath>` +
        `<symbol id="s"><rect class="a" width="3" height="3"/></symbol></defs>` +
        `<use href="#s"/><use xlink:href="#s" x="5"/><rect fill="url(#p)" clip-path="url(#c)" width="10" height="10"/>` +
        `<path class="b" marker-mid="url(#m)" d="M0 0 L5 5 L10 0"/>${image(png, 'x="6" y="6"')}`,
      '<?xml version="1.0" encoding="UTF-8"?>\n<!-- brand mark -->\n',
    );
    const { problems } = await validateTemplate(await withMark(art));
    expect(problems).toEqual([]);
  });
});

describe('over HTTP', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
    await cleanup();
  });

  it('an upload whose art fills with url(http…) is a 422 naming the file (it was a 500 at publish)', async () => {
    const marketing = client(server.url, (await createKey(server, 'marketing', 'Marketing Mia')).key);
    const dir = await withMark(svg('<rect width="10" height="10" fill="url(http://example.com/x.svg#g)"/>'));
    const res = await uploadZip(marketing, await zipFolder(dir));
    expect(res.status, res.bytes.toString()).toBe(422);
    expect(problem(res).errors).toEqual([
      expect.objectContaining({
        path: MARK,
        rule: 'svg_external',
        message: expect.stringContaining('art/mark.svg'),
      }),
    ]);
  });
});

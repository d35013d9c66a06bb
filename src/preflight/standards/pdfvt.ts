import { type Dict, Ref, type Value } from '../../pdf/syntax.js';
import { kindOf, nameOf, type StandardsDocument } from './document.js';
import { checkPdfX4 } from './pdfx.js';
import { type RuleId, type Violation, violation } from './rules.js';
import { xmpKey } from './xmp.js';

/**
 * PDF/VT-1 (ISO 16612-2:2010): a PDF/X-4 file (every PDF/X-4 rule applies) that says it is PDF/VT-1
 * in its XMP and records its document parts in a DPart tree: from the catalog's DPartRoot, a tree of
 * DPart nodes whose leaves cover the pages in order, each page pointing back at its leaf, with
 * document part metadata (DPM) of the value types ISO 32000-2, 14.12.4.2 allows.
 */
export function checkPdfVt1(doc: StandardsDocument): Violation[] {
  const out = checkPdfX4(doc);
  const add = (rule: RuleId, found: string) => out.push(violation(rule, found));
  const version =
    'properties' in doc.xmp ? doc.xmp.properties.get(xmpKey('pdfvtid', 'GTS_PDFVTVersion')) : undefined;
  if (version !== 'PDF/VT-1')
    add('pdfvt1.xmp-version', version === undefined ? 'missing' : `it says "${version}"`);

  const rootRef = doc.catalog.get('DPartRoot');
  const root = doc.dict(rootRef);
  if (!(rootRef instanceof Ref) || !root || (root.has('Type') && nameOf(root.get('Type')) !== 'DPartRoot')) {
    add(
      'pdfvt1.dpart-root',
      rootRef === undefined
        ? 'the catalog has no DPartRoot'
        : 'the DPartRoot is not an indirect DPartRoot dictionary',
    );
    return out;
  }
  const nodeRef = root.get('DPartRootNode');
  const node = doc.dict(nodeRef);
  if (!(nodeRef instanceof Ref) || !node) {
    add('pdfvt1.dpart-root', 'DPartRootNode is not an indirect DPart dictionary');
    return out;
  }
  const parent = node.get('Parent');
  if (!(parent instanceof Ref) || parent.n !== rootRef.n)
    add(
      'pdfvt1.dpart-root',
      parent === undefined ? 'the root node has no Parent' : 'the root node’s Parent is not the DPartRoot',
    );

  const tree = walkTree(doc, nodeRef.n, node);
  for (const problem of tree.problems) add('pdfvt1.dpart-tree', problem);

  const names = doc.array(root.get('NodeNameList'));
  if (!names) add('pdfvt1.node-name-list', 'the DPartRoot has no NodeNameList');
  else {
    const bad = names.filter((v) => !XML_NAME.test(nameOf(v) ?? ''));
    if (bad.length > 0)
      add('pdfvt1.node-name-list', `${bad.length} of its entries are not names that are XML names`);
    if (names.length !== tree.levels)
      add('pdfvt1.node-name-list', `it names ${names.length} levels, the tree has ${tree.levels}`);
  }

  for (const problem of checkPageRanges(doc, tree.leaves)) add('pdfvt1.dpart-pages', problem);
  const dpm = new Set<string>();
  for (const part of tree.parts) {
    const metadata = part.dict.get('DPM');
    if (metadata !== undefined) checkDpm(doc, metadata, 'DPM', dpm, 0);
  }
  for (const problem of [...dpm].slice(0, 5)) add('pdfvt1.dpm', problem);
  if (dpm.size > 5) add('pdfvt1.dpm', `and ${dpm.size - 5} more`);
  return out;
}

/** An XML Name token (XML 1.0, production 5), for the ASCII and non-ASCII letters names use. */
const XML_NAME = /^[A-Za-z_:\u00C0-\uFFEF][\w.\-:\u00B7\u00C0-\uFFEF]*$/;

interface Part {
  n: number;
  dict: Dict;
}

interface Tree {
  /** Every DPart node, root first, depth first. */
  parts: Part[];
  /** The leaves (nodes with Start), depth first. */
  leaves: Part[];
  /** How many levels of nodes the tree has: the root alone is one. */
  levels: number;
  problems: string[];
}

function walkTree(doc: StandardsDocument, rootN: number, root: Dict): Tree {
  const tree: Tree = { parts: [], leaves: [], levels: 0, problems: [] };
  const problems = new Map<string, number>();
  const problem = (text: string) => problems.set(text, (problems.get(text) ?? 0) + 1);
  const seen = new Set<number>([rootN]);
  // Depth first, without recursion: a drop has a leaf per record, tens of thousands of them.
  const stack: { n: number; dict: Dict; level: number }[] = [{ n: rootN, dict: root, level: 1 }];
  while (stack.length > 0) {
    const { n, dict, level } = stack.pop()!;
    tree.parts.push({ n, dict });
    tree.levels = Math.max(tree.levels, level);
    const kids = dict.get('DParts');
    const hasStart = dict.has('Start');
    if (kids !== undefined && hasStart) problem('a DPart has both DParts and Start');
    if (hasStart) {
      if (!(dict.get('Start') instanceof Ref))
        problem('a DPart’s Start is not an indirect reference to a page');
      if (dict.has('End') && !(dict.get('End') instanceof Ref))
        problem('a DPart’s End is not an indirect reference to a page');
      tree.leaves.push({ n, dict });
      continue;
    }
    if (dict.has('End')) problem('a DPart has End without Start');
    const groups = doc.array(kids);
    if (!groups || groups.length === 0) {
      problem('a DPart has neither Start nor a non-empty DParts');
      continue;
    }
    const children: { n: number; dict: Dict }[] = [];
    for (const group of groups) {
      const refs = doc.array(group);
      if (!refs || refs.length === 0) {
        problem('a DParts entry is not a non-empty array of references');
        continue;
      }
      for (const ref of refs) {
        const child = doc.dict(ref);
        if (!(ref instanceof Ref) || !child) {
          problem('a DParts entry is not a reference to a DPart dictionary');
          continue;
        }
        if (seen.has(ref.n)) {
          problem('a DPart is the child of more than one node');
          continue;
        }
        seen.add(ref.n);
        const parent = child.get('Parent');
        if (!(parent instanceof Ref) || parent.n !== n)
          problem('a DPart’s Parent is not the node whose DParts list it');
        children.push({ n: ref.n, dict: child });
      }
    }
    for (const child of children.reverse()) stack.push({ ...child, level: level + 1 });
  }
  tree.problems = [...problems].map(([text, count]) => (count > 1 ? `${text} (${count} times)` : text));
  return tree;
}

function checkPageRanges(doc: StandardsDocument, leaves: Part[]): string[] {
  const index = new Map<number, number>();
  doc.pages.forEach((page, i) => {
    if (page.ref !== null) index.set(page.ref, i);
  });
  const problems: string[] = [];
  const wrongBackReference: number[] = [];
  let next = 0;
  for (const leaf of leaves) {
    const start = leaf.dict.get('Start');
    const end = leaf.dict.get('End') ?? start;
    const s = start instanceof Ref ? index.get(start.n) : undefined;
    const e = end instanceof Ref ? index.get(end.n) : undefined;
    if (s === undefined || e === undefined) {
      problems.push(`DPart ${leaf.n}’s Start or End is not a page of the page tree`);
      continue;
    }
    if (e < s) problems.push(`DPart ${leaf.n} ends (page ${e + 1}) before it starts (page ${s + 1})`);
    else if (s !== next)
      problems.push(
        s < next
          ? `DPart ${leaf.n} starts at page ${s + 1}, inside the range of the leaf before it`
          : `pages ${next + 1} to ${s} are in no DPart leaf`,
      );
    for (let i = s; i <= e; i++) {
      const back = doc.pages[i]!.dict.get('DPart');
      if (!(back instanceof Ref) || back.n !== leaf.n) wrongBackReference.push(i + 1);
    }
    next = Math.max(next, e + 1);
  }
  if (next < doc.pages.length) problems.push(`pages ${next + 1} to ${doc.pages.length} are in no DPart leaf`);
  if (wrongBackReference.length > 0) {
    const [first] = wrongBackReference;
    const more = wrongBackReference.length - 1;
    problems.push(
      `page ${first}’s DPart does not refer to the leaf whose range it is in${more > 0 ? ` (and ${more} more pages)` : ''}`,
    );
  }
  return problems.slice(0, 10);
}

/** Adds to `problems` what in a DPM value is not of a type DPM allows, by its key path. */
function checkDpm(
  doc: StandardsDocument,
  value: Value,
  path: string,
  problems: Set<string>,
  depth: number,
): void {
  if (depth > 16 || problems.size > 50) return;
  const resolved = value instanceof Ref ? doc.resolve(value) : value;
  if (resolved === undefined) return void problems.add(`${path} refers to nothing`);
  const kind = kindOf(resolved);
  if (kind === 'dict') {
    for (const [key, child] of resolved as Dict) {
      if (!XML_NAME.test(key)) problems.add(`${path} has the key ${key}, not an XML name`);
      checkDpm(doc, child, `${path}/${key}`, problems, depth + 1);
    }
  } else if (kind === 'array') {
    (resolved as Value[]).forEach((child, i) => checkDpm(doc, child, `${path}[${i}]`, problems, depth + 1));
  } else if (kind === 'name' || kind === 'null') problems.add(`${path} is a ${kind}`);
}

import Handlebars from 'handlebars';
import type { MergeContext, TextFn } from '../model/record.js';

/**
 * The Handlebars environment for PDF text: isolated, with dangerous built-ins removed, only our
 * helpers known, and every data path checked against the template's declared inputs at compile
 * time (PDF-NOTES.md). Web pages use a separate environment with HTML escaping.
 */

/** Markers that emphasis in the template source becomes; records can never contain them (see record-schema). */
export const BOLD_TOGGLE = '\uE000';
export const ITALIC_TOGGLE = '\uE001';

const env = Handlebars.create();
for (const name of ['lookup', 'log', 'with', 'each', 'helperMissing', 'blockHelperMissing']) {
  env.unregisterHelper(name);
}

type Value = unknown;
const text = (v: Value): string => (v === undefined || v === null ? '' : String(v));

const DATE_FORMATS: Record<string, Intl.DateTimeFormatOptions> = {
  long: { year: 'numeric', month: 'long', day: 'numeric', timeZone: 'UTC' },
  short: { year: 'numeric', month: 'short', day: 'numeric', timeZone: 'UTC' },
};

/** Our helpers: small, pure, and safe on any input. Arity is checked at compile time. */
const HELPERS: Record<string, { arity: number; fn: (...args: Value[]) => Value }> = {
  upper: { arity: 1, fn: (v) => text(v).toUpperCase() },
  lower: { arity: 1, fn: (v) => text(v).toLowerCase() },
  default: { arity: 2, fn: (v, fallback) => (text(v) === '' ? text(fallback) : text(v)) },
  url: { arity: 1, fn: (v) => encodeURIComponent(text(v)) },
  eq: { arity: 2, fn: (a, b) => a === b },
  date: {
    arity: 2,
    fn: (v, format) => {
      const s = text(v);
      if (s === '' || format === 'iso') return s;
      const d = new Date(`${s}T00:00:00Z`);
      return Number.isNaN(d.getTime())
        ? s
        : d.toLocaleDateString('en-US', DATE_FORMATS[text(format)] ?? DATE_FORMATS.long);
    },
  },
};
for (const [name, { fn }] of Object.entries(HELPERS)) {
  env.registerHelper(name, (...args: Value[]) => fn(...args.slice(0, -1)));
}
const BLOCK_HELPERS = new Set(['if', 'unless']);
const KNOWN_HELPERS = Object.fromEntries([...Object.keys(HELPERS), ...BLOCK_HELPERS].map((h) => [h, true]));

const COMPILE_OPTIONS = {
  strict: true,
  knownHelpersOnly: true,
  knownHelpers: KNOWN_HELPERS,
  noEscape: true,
};
const RUNTIME_OPTIONS = { allowProtoPropertiesByDefault: false, allowProtoMethodsByDefault: false };

export class TemplateSyntaxError extends Error {}

/**
 * Compiles one piece of template text. `declared` answers whether a path such as `prospect.firstName`
 * is a declared input. Returns the render function, the paths it reads and the styles it uses.
 * With `emphasis`, `**bold**` and `*italic*` (and `\*` for a literal star) become toggle markers
 * before Handlebars sees the text, so only the template, never the data, can switch styles.
 */
export function compileText(
  source: string,
  declared: (path: string) => boolean,
  { emphasis = false } = {},
): { render: TextFn; paths: Set<string>; styles: { bold: boolean; italic: boolean } } {
  const prepared = emphasis ? markEmphasis(source) : source;
  // Which styles the template itself switches to: its fonts must have them.
  const styles = { bold: prepared.includes(BOLD_TOGGLE), italic: prepared.includes(ITALIC_TOGGLE) };
  let ast: hbs.AST.Program;
  try {
    ast = env.parse(prepared);
  } catch (error) {
    throw new TemplateSyntaxError(`template syntax: ${firstLine(error)}`);
  }
  const paths = new Set<string>();
  checkProgram(ast, declared, paths);
  // Compile now (Handlebars compiles lazily) so errors surface at template compile time.
  const compiled = env.compile(prepared, COMPILE_OPTIONS);
  try {
    compiled(emptyContext(paths), RUNTIME_OPTIONS);
  } catch (error) {
    throw new TemplateSyntaxError(`template: ${firstLine(error)}`);
  }
  const render: TextFn = (context) => compiled(context, RUNTIME_OPTIONS);
  return { render, paths, styles };
}

function emptyContext(paths: Set<string>): MergeContext {
  const ctx: MergeContext = { rep: {}, prospect: {}, fields: {}, piece: {} };
  for (const p of paths) {
    const [scope, key] = p.split('.') as [keyof MergeContext, string];
    ctx[scope][key] = '';
  }
  return ctx;
}

function firstLine(error: unknown): string {
  return String(error instanceof Error ? error.message : error).split('\n')[0] ?? '';
}

/** Replaces emphasis outside `{{…}}` with toggle markers. */
function markEmphasis(source: string): string {
  let out = '';
  let i = 0;
  while (i < source.length) {
    if (source.startsWith('{{', i)) {
      const end = source.indexOf('}}', i + 2);
      const stop = end < 0 ? source.length : end + 2;
      out += source.slice(i, stop);
      i = stop;
    } else if (source.startsWith('\\*', i)) {
      out += '*';
      i += 2;
    } else if (source.startsWith('**', i)) {
      out += BOLD_TOGGLE;
      i += 2;
    } else if (source[i] === '*') {
      out += ITALIC_TOGGLE;
      i += 1;
    } else {
      out += source[i];
      i += 1;
    }
  }
  return out;
}

type Node = hbs.AST.Node;

function checkProgram(program: hbs.AST.Program, declared: (p: string) => boolean, paths: Set<string>): void {
  for (const statement of program.body) checkNode(statement, declared, paths);
}

function checkNode(node: Node, declared: (p: string) => boolean, paths: Set<string>): void {
  switch (node.type) {
    case 'ContentStatement':
    case 'CommentStatement':
      return;
    case 'MustacheStatement':
    case 'SubExpression': {
      const call = node as hbs.AST.MustacheStatement | hbs.AST.SubExpression;
      checkCall(call, false, declared, paths);
      return;
    }
    case 'BlockStatement': {
      const block = node as hbs.AST.BlockStatement;
      checkCall(block, true, declared, paths);
      if (block.program) checkProgram(block.program, declared, paths);
      if (block.inverse) checkProgram(block.inverse, declared, paths);
      return;
    }
    case 'PathExpression':
      checkPath(node as hbs.AST.PathExpression, declared, paths);
      return;
    case 'StringLiteral':
    case 'NumberLiteral':
    case 'BooleanLiteral':
    case 'UndefinedLiteral':
    case 'NullLiteral':
      return;
    default:
      throw new TemplateSyntaxError(
        `${node.type.replace(/Statement$/, '').toLowerCase()}s are not allowed in templates`,
      );
  }
}

function checkCall(
  call: hbs.AST.MustacheStatement | hbs.AST.SubExpression | hbs.AST.BlockStatement,
  isBlock: boolean,
  declared: (p: string) => boolean,
  paths: Set<string>,
): void {
  if (call.hash && call.hash.pairs.length > 0)
    throw new TemplateSyntaxError('hash arguments (key=value) are not allowed');
  const head = call.path;
  if (head.type !== 'PathExpression') throw new TemplateSyntaxError('a helper name or a path is expected');
  const name = (head as hbs.AST.PathExpression).original;
  const params = call.params;
  if (isBlock) {
    if (!BLOCK_HELPERS.has(name))
      throw new TemplateSyntaxError(`unknown block helper "${name}" (allowed: if, unless)`);
    if (params.length !== 1) throw new TemplateSyntaxError(`{{#${name}}} takes one argument`);
  } else if (params.length > 0 || call.type === 'SubExpression') {
    const helper = HELPERS[name];
    if (!helper)
      throw new TemplateSyntaxError(`unknown helper "${name}" (allowed: ${Object.keys(HELPERS).join(', ')})`);
    if (params.length !== helper.arity) {
      throw new TemplateSyntaxError(
        `helper "${name}" takes ${helper.arity} argument(s), got ${params.length}`,
      );
    }
  } else {
    checkPath(head as hbs.AST.PathExpression, declared, paths);
  }
  for (const param of params) checkNode(param, declared, paths);
}

function checkPath(path: hbs.AST.PathExpression, declared: (p: string) => boolean, paths: Set<string>): void {
  const original = path.original;
  if (
    path.data ||
    path.depth > 0 ||
    path.parts.length !== 2 ||
    original.includes('/') ||
    // Handlebars drops `this.` from parts: `this.prospect.x` would otherwise pass as `prospect.x`.
    original.startsWith('this') ||
    // Only the record's scopes and the piece: `constructor.assign` or `__proto__.x` must never reach a context.
    !['rep', 'prospect', 'fields', 'piece'].includes(path.parts[0] ?? '')
  ) {
    throw new TemplateSyntaxError(
      `"${original}" is not a record path (use rep.X, prospect.X, fields.X, piece.url or piece.code)`,
    );
  }
  if (original.startsWith('piece.') && !declared(original)) {
    throw new TemplateSyntaxError(`"${original}" is not part of a piece: use piece.url or piece.code`);
  }
  if (!declared(original)) {
    throw new TemplateSyntaxError(`"${original}" is not declared in the template's prospect, rep or fields`);
  }
  paths.add(original);
}

/**
 * One problem with an input: where it is (`fields.headline`, `pages[0].elements[2].src`, `row 12`),
 * which rule it broke (a stable code a program can switch on), and a message a person can act on.
 */
export interface Problem {
  path: string;
  rule: string;
  message: string;
}

/** Thrown when an input is rejected; carries every problem found, not just the first. */
export class PlatenError extends Error {
  constructor(
    readonly code: string,
    readonly problems: Problem[],
  ) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'PlatenError';
  }
}

export function formatProblem(p: Problem): string {
  return `${p.path || '(root)'}: ${p.message}`;
}

interface ZodIssueLike {
  path: readonly PropertyKey[];
  code: string;
  message: string;
  params?: Record<string, unknown>;
}

/**
 * Turns zod issues into problems under a path prefix. The rule is zod's code, or for our own
 * refinements the name they give in `params.rule` (`choice`, …).
 */
export function problemsFromZod(issues: readonly ZodIssueLike[], prefix = ''): Problem[] {
  return issues.map((issue) => ({
    path: joinPath(prefix, issue.path),
    rule: typeof issue.params?.rule === 'string' ? issue.params.rule : issue.code,
    message: issue.message,
  }));
}

/** Paths of own `__proto__` keys anywhere in parsed JSON, which zod's records would silently drop. */
export function prototypeKeys(value: unknown, path: PropertyKey[] = []): PropertyKey[][] {
  if (typeof value !== 'object' || value === null) return [];
  const found: PropertyKey[][] = Object.hasOwn(value, '__proto__') ? [[...path, '__proto__']] : [];
  for (const [key, child] of Object.entries(value)) {
    found.push(...prototypeKeys(child, [...path, Array.isArray(value) ? Number(key) : key]));
  }
  return found;
}

export function joinPath(prefix: string, path: readonly PropertyKey[]): string {
  let out = prefix;
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out;
}

/** A thing that does not exist, or that this caller may not know exists. */
export class NotFoundError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** A request that contradicts the state of what it names (a retired version, a second publish). */
export class ConflictError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** A caller whose role may not do this (see the role policy, src/service/policy.ts). */
export class ForbiddenError extends Error {
  readonly code = 'forbidden';
}

/** A failure of our own storage: never the client's fault, and not a reason to give up for good. */
export interface StorageFault {
  /** 507 when space ran out (retry once an operator frees some), 503 for an I/O fault. */
  status: 503 | 507;
  code: 'storage_full' | 'storage_unavailable';
  detail: string;
  /** Seconds before a retry could succeed: an operator has to act first. */
  retryAfter: number;
}

const FULL = new Set(['ENOSPC', 'EDQUOT', 'SQLITE_FULL']);
const UNAVAILABLE =
  /^(EIO|EROFS|EMFILE|ENFILE|SQLITE_IOERR|SQLITE_READONLY|SQLITE_CANTOPEN|SQLITE_BUSY|OBJECT_STORAGE_UNAVAILABLE)/;

/**
 * Whether an error (or an error it wraps as its `cause`) is a storage failure: a full disk or quota,
 * an I/O error, a read-only or unopenable database, object storage that fails. Such errors are answered 507 or 503, never as a
 * problem with the input, and a job they interrupt waits rather than failing its rows.
 */
export function storageFault(error: unknown): StorageFault | null {
  for (let e = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code !== 'string') continue;
    if (FULL.has(code)) {
      return {
        status: 507,
        code: 'storage_full',
        detail: 'the server has run out of storage space; nothing was saved. Try again later.',
        retryAfter: 60,
      };
    }
    if (UNAVAILABLE.test(code)) {
      return {
        status: 503,
        code: 'storage_unavailable',
        detail: 'the server could not read or write its storage; nothing was saved. Try again later.',
        retryAfter: 60,
      };
    }
  }
  return null;
}

import { NotFoundError, PlatenError } from '../errors.js';
import { choiceInputs, type Manifest } from '../model/manifest.js';
import {
  type ApiKey,
  type Channel,
  OUTCOMES,
  type Outcome,
  type Store,
  type StoredPiece,
} from '../store/store.js';
import { authorize } from './policy.js';

/** What marketing can group a template's pieces by. */
export const DIMENSIONS = ['version', 'choice', 'rep', 'channel', 'job', 'variant'] as const;
export type Dimension = (typeof DIMENSIONS)[number];

/** The outcomes that count as a piece having worked: the measure of lift against a holdout. */
export const POSITIVE: readonly Outcome[] = ['meeting_booked', 'quote_sent', 'won'];

/** Groups with fewer pieces than this are marked too small to judge. */
export const TOO_SMALL = 10;

/** A share with its 95 % Wilson score interval. */
export interface Rate {
  rate: number;
  low: number;
  high: number;
}

/**
 * The Wilson score interval of a binomial proportion (Wilson 1927): unlike the textbook p ± z·se, it
 * stays within [0, 1] and keeps honest width for small groups and for rates near 0 or 1, which is
 * what response rates mostly are. Null for n = 0, where there is nothing to estimate.
 */
export function wilson(successes: number, n: number, z = 1.96): Rate | null {
  if (n === 0) return null;
  const p = successes / n;
  const z2 = z * z;
  const denominator = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denominator;
  const half = (z / denominator) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return { rate: p, low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

/** One group of a template's pieces, as marketing compares them. */
export interface ResultGroup {
  /** The group's raw value (a version number, a choice, a rep or job id, a channel, a variant); null for none. */
  key: string | null;
  /** The group named for people. */
  label: string;
  /** The rows a batch held out: recorded, never printed, the baseline for lift. */
  heldOut: boolean;
  /** Pieces made (for the held-out group: rows held out). */
  pieces: number;
  /** Pieces with at least one response. */
  responded: number;
  responseRate: Rate | null;
  /** Median minutes from a piece being made to its first response; null without responses. */
  medianMinutesToResponse: number | null;
  outcomes: Record<Outcome, number>;
  /** Pieces whose outcome is positive (meeting booked, quote sent, won). */
  positive: number;
  positiveRate: Rate | null;
  tooSmall: boolean;
}

/** How often reps change one rep field from its default. */
export interface FieldUse {
  field: string;
  label: string;
  edited: number;
  atDefault: number;
  shareEdited: number;
}

export interface Results {
  templateId: string;
  name: string;
  by: Dimension;
  /** The choice input grouped by (by = choice), with its label. */
  input: { key: string; label: string } | null;
  from: string | null;
  to: string | null;
  groups: ResultGroup[];
  /** The template's rep fields, the most edited first. */
  fields: FieldUse[];
}

/** What a results query names; dates are YYYY-MM-DD, both days included. */
export interface ResultsQuery {
  templateId: string;
  by: Dimension;
  input?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
}

/** One piece someone responded to, as a CRM matches it back to its recipient. */
export interface ResponseRow {
  recipientRef: string | null;
  code: string;
  templateId: string;
  version: number;
  repId: string | null;
  channel: Channel;
  jobId: string | null;
  row: number | null;
  variant: string | null;
  firstResponseAt: string | null;
  responses: number;
  outcome: Outcome | null;
  outcomeAt: string | null;
}

const CHANNELS: Record<Channel, string> = {
  form: 'Rep’s form',
  api: 'API',
  batch: 'Batch job',
};

/** A group as it is counted, piece by piece. */
interface Tally {
  key: string | null;
  heldOut: boolean;
  pieces: number;
  responded: number;
  minutes: number[];
  outcomes: Record<Outcome, number>;
}

const HELD_OUT = '\u0000held out';

/**
 * What worked: a template's pieces, with their responses and the outcomes reps reported, grouped as
 * marketing asks (by version, by a choice input's value, by rep, channel, job or a batch's split arm),
 * and how reps use its fields. For marketing and admins.
 */
export class ResultsService {
  constructor(private readonly store: Store) {}

  /**
   * A template's results. Pieces are read as a stream and counted into one tally per group. Rows a
   * batch held out form their own group, "held out", whatever the grouping, so every comparison has
   * its baseline beside it; they count in no other group, having never been printed.
   */
  async results(caller: ApiKey, query: ResultsQuery): Promise<Results> {
    authorize(caller, 'results.read');
    const versions = await this.versions(query.templateId);
    const manifests = versions.map((v) => v.manifest);
    const latest = manifests.at(-1)!;
    const input = query.by === 'choice' ? choiceInput(manifests, query.input) : null;
    const keyOf = (piece: StoredPiece): string | null => {
      switch (query.by) {
        case 'version':
          return String(piece.version);
        case 'choice':
          return piece.choices[input!.key] ?? null;
        case 'rep':
          return piece.repId;
        case 'channel':
          return piece.channel;
        case 'job':
          return piece.jobId;
        case 'variant':
          return piece.variant;
      }
    };

    const tallies = new Map<string | null, Tally>();
    const fields = new Map<string, { edited: number; atDefault: number }>();
    const fieldsOf = new Map(versions.map((v) => [v.version, Object.keys(v.manifest.fields)]));
    for await (const piece of this.store.pieces.made(range(query))) {
      const key = piece.holdout ? HELD_OUT : keyOf(piece);
      let tally = tallies.get(key);
      if (!tally) {
        tally = {
          key,
          heldOut: piece.holdout,
          pieces: 0,
          responded: 0,
          minutes: [],
          outcomes: Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>,
        };
        tallies.set(key, tally);
      }
      tally.pieces++;
      if (piece.firstResponseAt) {
        tally.responded++;
        // Responses are kept to the minute: one in the minute a piece was made reads as before it.
        const minutes = (Date.parse(piece.firstResponseAt) - Date.parse(piece.createdAt)) / 60_000;
        tally.minutes.push(Math.max(0, minutes));
      }
      if (piece.outcome) tally.outcomes[piece.outcome]++;
      if (piece.holdout) continue;
      for (const field of fieldsOf.get(piece.version) ?? []) {
        const use = fields.get(field) ?? { edited: 0, atDefault: 0 };
        if (piece.edited.includes(field)) use.edited++;
        else use.atDefault++;
        fields.set(field, use);
      }
    }

    const groups: ResultGroup[] = [];
    for (const tally of tallies.values()) {
      groups.push(summarize(tally, await this.label(query.by, tally)));
    }
    groups.sort(byGroup);
    return {
      templateId: query.templateId,
      name: latest.name,
      by: query.by,
      input,
      from: query.from ?? null,
      to: query.to ?? null,
      groups,
      fields: [...fields]
        .map(([field, use]) => ({
          field,
          label: labelOf(manifests, 'fields', field),
          ...use,
          shareEdited: use.edited / (use.edited + use.atDefault),
        }))
        .sort((a, b) => b.shareEdited - a.shareEdited || a.label.localeCompare(b.label)),
    };
  }

  /**
   * Every piece of a template someone responded to, oldest first, keyed by its recipient: what a
   * CRM matches back: a small share of the pieces made, answered in one piece.
   */
  async responses(caller: ApiKey, query: Omit<ResultsQuery, 'by' | 'input'>): Promise<ResponseRow[]> {
    authorize(caller, 'results.read');
    await this.versions(query.templateId);
    const rows: ResponseRow[] = [];
    for await (const p of this.store.pieces.made(range(query))) {
      if (p.responses === 0) continue;
      rows.push({
        recipientRef: p.recipientRef,
        code: p.code,
        templateId: p.templateId,
        version: p.version,
        repId: p.repId,
        channel: p.channel,
        jobId: p.jobId,
        row: p.row,
        variant: p.variant,
        firstResponseAt: p.firstResponseAt,
        responses: p.responses,
        outcome: p.outcome,
        outcomeAt: p.outcomeAt,
      });
    }
    return rows;
  }

  /** The choice inputs of a template (every version's), by key, with their labels: what `input` may name. */
  async choiceInputs(caller: ApiKey, templateId: string): Promise<{ key: string; label: string }[]> {
    authorize(caller, 'results.read');
    return choiceInputsOf((await this.versions(templateId)).map((v) => v.manifest));
  }

  /** Every version of a template with its manifest, oldest first; NotFoundError for no template. */
  private async versions(templateId: string): Promise<{ version: number; manifest: Manifest }[]> {
    const versions = await this.store.templates.versions(templateId);
    if (versions.length === 0) throw new NotFoundError('not_found', `No template ${templateId}.`);
    // The template service stored each manifest as it validated it.
    return versions.map((v) => ({ version: v.version, manifest: v.manifest as Manifest }));
  }

  private async label(by: Dimension, tally: Tally): Promise<string> {
    if (tally.heldOut) return 'Held out';
    const key = tally.key;
    switch (by) {
      case 'version':
        return `Version ${key}`;
      case 'choice':
        return key ?? 'No value';
      case 'rep': {
        if (key === null) return 'No rep';
        const name = (await this.store.reps.get(key))?.name;
        return name ? name : key;
      }
      case 'channel':
        return CHANNELS[key as Channel];
      case 'job': {
        if (key === null) return 'Not from a batch job';
        const job = await this.store.jobs.get(key);
        return job ? `Job of ${job.createdAt.slice(0, 10)} (${key})` : `Job ${key}`;
      }
      case 'variant':
        return key === null ? 'Not split' : `Arm ${key}`;
    }
  }
}

function summarize(tally: Tally, label: string): ResultGroup {
  const positive = POSITIVE.reduce((sum, o) => sum + tally.outcomes[o], 0);
  return {
    key: tally.heldOut ? null : tally.key,
    label,
    heldOut: tally.heldOut,
    pieces: tally.pieces,
    responded: tally.responded,
    responseRate: wilson(tally.responded, tally.pieces),
    medianMinutesToResponse: median(tally.minutes),
    outcomes: tally.outcomes,
    positive,
    positiveRate: wilson(positive, tally.pieces),
    tooSmall: tally.pieces < TOO_SMALL,
  };
}

/** Groups in their natural order (versions by number, others by label); "none" and "held out" last. */
function byGroup(a: ResultGroup, b: ResultGroup): number {
  const rank = (g: ResultGroup) => (g.heldOut ? 2 : g.key === null ? 1 : 0);
  return (
    rank(a) - rank(b) ||
    a.label.localeCompare(b.label, 'en', { numeric: true }) ||
    (a.key ?? '').localeCompare(b.key ?? '')
  );
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = values.sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The store's [from, to) range of times for the days from and to, both included. */
function range(query: { templateId: string; from?: string | undefined; to?: string | undefined }) {
  const dayAfter = (day: string) => new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString();
  return {
    templateId: query.templateId,
    ...(query.from ? { from: `${query.from}T00:00:00.000Z` } : {}),
    ...(query.to ? { to: dayAfter(query.to) } : {}),
  };
}

type Scope = 'prospect' | 'rep' | 'fields';

/** An input's label in the newest version that has it; its key when it has none. */
function labelOf(manifests: Manifest[], scope: Scope, key: string): string {
  for (const m of manifests.toReversed()) {
    const def = m[scope][key];
    if (def) return def.label ?? key;
  }
  return key;
}

function choiceInputsOf(manifests: Manifest[]): { key: string; label: string }[] {
  const keys = new Set<string>();
  for (const m of manifests)
    for (const { path } of choiceInputs({ prospect: m.prospect, rep: m.rep, fields: m.fields }))
      keys.add(path);
  return [...keys].map((path) => {
    const [scope, key] = path.split('.') as [Scope, string];
    return { key: path, label: labelOf(manifests, scope, key) };
  });
}

/** The choice input `input` names, or a PlatenError saying which ones there are. */
function choiceInput(manifests: Manifest[], input: string | undefined): { key: string; label: string } {
  const inputs = choiceInputsOf(manifests);
  const found = inputs.find((i) => i.key === input);
  if (found) return found;
  const known =
    inputs.length === 0
      ? 'this template has no choice inputs to compare'
      : `one of ${inputs.map((i) => `${i.key} (${i.label})`).join(', ')}`;
  throw new PlatenError('invalid_request', [
    {
      path: 'input',
      rule: input === undefined ? 'required' : 'choice',
      message:
        input === undefined
          ? `name the choice input to compare when grouping by choice: ${known}`
          : `not a choice input of this template: ${known}`,
    },
  ]);
}

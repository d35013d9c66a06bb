import type { Problem } from '../errors.js';
import type {
  ApiKey,
  Delivery,
  DeliveryAttempt,
  DeliveryState,
  EnteredValues,
  Job,
  JobKind,
  JobSpec,
  JobState,
  NewPiece,
  NewVersion,
  Outcome,
  Person,
  RenderRecord,
  RepProfile,
  Role,
  StoredPiece,
  StoredVersion,
  VersionState,
  Webhook,
  WebhookEventType,
} from './store.js';

/*
 * The rows the SQLite and PostgreSQL adapters read, and how each becomes the store's model: one
 * table, one row type and one mapper for both. The two databases hand over every column alike but
 * two kinds: a JSON document comes as text from SQLite and parsed from PostgreSQL's `json` (by pg),
 * a flag as 0/1 from SQLite and a boolean from PostgreSQL. A row with such columns names its
 * database, and its mapper is made with that database's way of reading them.
 */

type Dialect = 'sqlite' | 'postgres';

/** A JSON column holding a T, as the database hands it over. */
type Json<D extends Dialect, T> = D extends 'sqlite' ? string : T;

/** A yes-or-no column, as the database hands it over. */
type Flag<D extends Dialect> = D extends 'sqlite' ? number : boolean;

/** How one database's JSON and flag columns are read. */
interface Reading<D extends Dialect> {
  json<T>(column: Json<D, T>): T;
  flag(column: Flag<D>): boolean;
}

export const SQLITE: Reading<'sqlite'> = {
  json: (column) => JSON.parse(column),
  flag: (column) => column === 1,
};

export const POSTGRES: Reading<'postgres'> = {
  json: (column) => column,
  flag: (column) => column,
};

export interface KeyRow {
  id: string;
  name: string;
  role: Role;
  rep_id: string | null;
  created_at: string;
  revoked_at: string | null;
  last_used_at: string | null;
}

export const toKey = (r: KeyRow): ApiKey => ({
  id: r.id,
  name: r.name,
  role: r.role,
  repId: r.rep_id,
  createdAt: r.created_at,
  revokedAt: r.revoked_at,
  lastUsedAt: r.last_used_at,
});

export interface PersonRow {
  id: string;
  name: string;
  email: string;
  role: Role | null;
  rep_id: string | null;
  issuer: string | null;
  subject: string | null;
  password_hash: string | null;
  created_at: string;
  last_sign_in_at: string | null;
  disabled_at: string | null;
}

export const toPerson = (r: PersonRow): Person => ({
  id: r.id,
  name: r.name,
  email: r.email,
  role: r.role,
  repId: r.rep_id,
  issuer: r.issuer,
  subject: r.subject,
  hasPassword: r.password_hash !== null,
  createdAt: r.created_at,
  lastSignInAt: r.last_sign_in_at,
  disabledAt: r.disabled_at,
});

export interface RepRow {
  id: string;
  name: string;
  title: string;
  phone: string;
  email: string;
  license_number: string;
  photo_sha256: string | null;
  updated_at: string;
}

export const toProfile = (r: RepRow): RepProfile => ({
  id: r.id,
  name: r.name,
  title: r.title,
  phone: r.phone,
  email: r.email,
  licenseNumber: r.license_number,
  photoSha256: r.photo_sha256,
  updatedAt: r.updated_at,
});

export interface RenderRow {
  id: string;
  key_id: string;
  rep_id: string | null;
  template_id: string;
  version: number;
  record_sha256: string;
  output_sha256: string;
  bytes: number;
  piece_code: string | null;
  created_at: string;
}

export const toRecord = (r: RenderRow): RenderRecord => ({
  id: r.id,
  keyId: r.key_id,
  repId: r.rep_id,
  templateId: r.template_id,
  version: r.version,
  recordSha256: r.record_sha256,
  outputSha256: r.output_sha256,
  bytes: r.bytes,
  pieceCode: r.piece_code,
  createdAt: r.created_at,
});

export interface VersionRow<D extends Dialect> {
  template_id: string;
  version: number;
  name: string;
  state: VersionState;
  manifest: Json<D, unknown>;
  report: Json<D, Problem[]>;
  created_by: string;
  created_at: string;
  published_by: string | null;
  published_at: string | null;
  retired_by: string | null;
  retired_at: string | null;
  approved_by: string | null;
  approved_at: string | null;
}

export const versionReader =
  <D extends Dialect>(read: Reading<D>) =>
  (r: VersionRow<D>): StoredVersion => ({
    templateId: r.template_id,
    version: r.version,
    name: r.name,
    state: r.state,
    manifest: read.json<unknown>(r.manifest),
    report: read.json<Problem[]>(r.report),
    createdBy: r.created_by,
    createdAt: r.created_at,
    publishedBy: r.published_by,
    publishedAt: r.published_at,
    retiredBy: r.retired_by,
    retiredAt: r.retired_at,
    approvedBy: r.approved_by,
    approvedAt: r.approved_at,
  });

/** The columns a new version is stored with, in order; one published as it is stored names its publisher. */
export const NEW_VERSION_COLUMNS =
  'template_id, version, name, state, manifest, report, created_by, created_at, published_by, published_at';

/** A new version's values for NEW_VERSION_COLUMNS. */
export function newVersionValues(input: NewVersion, version: number, at: string): unknown[] {
  const published = input.state === 'published';
  return [
    input.templateId,
    version,
    input.name,
    input.state,
    JSON.stringify(input.manifest),
    JSON.stringify(input.report),
    input.createdBy,
    at,
    published ? input.createdBy : null,
    published ? at : null,
  ];
}

export interface JobRow<D extends Dialect> {
  id: string;
  key_id: string;
  rep_id: string | null;
  template_id: string;
  version: number;
  kind: JobKind;
  state: JobState;
  spec: Json<D, JobSpec>;
  total: number | null;
  done: number;
  rendered: number;
  rejected: number;
  held_out: number;
  error: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  owner: string | null;
}

export const jobReader =
  <D extends Dialect>(read: Reading<D>) =>
  (r: JobRow<D>): Job => ({
    id: r.id,
    keyId: r.key_id,
    repId: r.rep_id,
    templateId: r.template_id,
    version: r.version,
    kind: r.kind,
    state: r.state,
    spec: read.json<JobSpec>(r.spec),
    total: r.total,
    done: r.done,
    rendered: r.rendered,
    rejected: r.rejected,
    heldOut: r.held_out,
    error: r.error,
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    owner: r.owner,
  });

/** The prospect and fields entered on a piece's page, less the prospect's name (a column of its own). */
type Entered = Omit<EnteredValues, 'prospectName'>;

export interface PieceRow<D extends Dialect> {
  number: number;
  code: string;
  template_id: string;
  version: number;
  rep_id: string | null;
  key_id: string;
  channel: NewPiece['channel'];
  job_id: string | null;
  row: number | null;
  recipient_ref: string | null;
  landing_url: string | null;
  choices: Json<D, Record<string, string>>;
  variant: string | null;
  holdout: Flag<D>;
  edited: Json<D, string[]>;
  created_at: string;
  responses: number;
  first_response_at: string | null;
  outcome: Outcome | null;
  outcome_note: string | null;
  outcome_at: string | null;
  prospect_name: string | null;
  entered: Json<D, Entered> | null;
}

export const pieceReader =
  <D extends Dialect>(read: Reading<D>) =>
  (r: PieceRow<D>): StoredPiece => ({
    number: r.number,
    code: r.code,
    templateId: r.template_id,
    version: r.version,
    repId: r.rep_id,
    keyId: r.key_id,
    channel: r.channel,
    jobId: r.job_id,
    row: r.row,
    recipientRef: r.recipient_ref,
    landingUrl: r.landing_url,
    choices: read.json<Record<string, string>>(r.choices),
    variant: r.variant,
    holdout: read.flag(r.holdout),
    edited: read.json<string[]>(r.edited),
    createdAt: r.created_at,
    responses: r.responses,
    firstResponseAt: r.first_response_at,
    outcome: r.outcome,
    outcomeNote: r.outcome_note,
    outcomeAt: r.outcome_at,
    entered:
      r.entered === null ? null : { prospectName: r.prospect_name ?? '', ...read.json<Entered>(r.entered) },
  });

/**
 * The origin of a URL ("https://example.com/"): what a piece's landing URL keeps once retention cuts
 * it from its recipient.
 */
export function originOf(url: string): string {
  try {
    return `${new URL(url).origin}/`;
  } catch {
    return url;
  }
}

export interface WebhookRow<D extends Dialect> {
  id: string;
  url: string;
  events: Json<D, WebhookEventType[]>;
  created_at: string;
  deleted_at: string | null;
}

export const webhookReader =
  <D extends Dialect>(read: Reading<D>) =>
  (r: WebhookRow<D>): Webhook => ({
    id: r.id,
    url: r.url,
    events: read.json<WebhookEventType[]>(r.events),
    createdAt: r.created_at,
    deletedAt: r.deleted_at,
  });

export interface OutboxRow {
  id: number;
  webhook_id: string;
  event_id: string;
  type: WebhookEventType;
  body: string;
  attempts: number;
  next_attempt_at: number;
  state: DeliveryState;
  created_at: string;
}

export const toDelivery = (r: OutboxRow): Delivery => ({
  id: r.id,
  webhookId: r.webhook_id,
  eventId: r.event_id,
  type: r.type,
  body: r.body,
  attempts: r.attempts,
  nextAttemptAt: r.next_attempt_at,
  state: r.state,
  createdAt: r.created_at,
});

export interface AttemptRow {
  event_id: string;
  type: WebhookEventType;
  attempt: number;
  at: string;
  status: number | null;
  error: string | null;
  duration_ms: number;
}

export const toAttempt = (r: AttemptRow): DeliveryAttempt => ({
  eventId: r.event_id,
  type: r.type,
  attempt: r.attempt,
  at: r.at,
  status: r.status,
  error: r.error,
  durationMs: r.duration_ms,
});

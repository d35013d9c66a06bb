import type { Readable, Writable } from 'node:stream';
import type { Problem } from '../errors.js';

/**
 * What the services keep, as interfaces: the services depend on these only, and one place
 * (service/platen.ts) chooses the adapters behind them (SQLite and local files by default). Every
 * method may be asynchronous, as a networked store's are; test/store/contract.test.ts pins the
 * behaviour an adapter must have.
 */
export interface Store {
  readonly keys: KeyStore;
  readonly sessions: SessionStore;
  readonly people: PeopleStore;
  readonly reps: RepStore;
  readonly templates: TemplateStore;
  readonly renders: RenderStore;
  readonly uploads: UploadStore;
  readonly jobs: JobStore;
  readonly pieces: PieceStore;
  readonly webhooks: WebhookStore;
  readonly settings: SettingsStore;
  readonly blobs: BlobStore;
  /** Named files shared by every node: template packages, jobs' lists, outputs and reports. */
  readonly objects: ObjectStore;
  readonly rateLimits: RateLimitStore;
  /**
   * Runs `work` holding the lock named `name`, which every process on this store shares (API nodes on
   * one database, processes on one SQLite file): while one holds it the others wait. A holder that
   * dies lets it go (PostgreSQL: with its connection; SQLite: when the lease it renews runs out).
   */
  exclusively<T>(name: string, work: () => Promise<T>): Promise<T>;
  /**
   * Removes what a crash (a kill, a power cut) leaves half done: temporary files of blobs, and
   * packages without their version row written before `writtenBefore` (epoch ms; see SWEEP_AFTER_MS).
   * Returns what was removed. At start-up, before anything else runs.
   */
  sweep(writtenBefore: number): Promise<string[]>;
  close(): Promise<void>;
}

/**
 * How long objects written before their row (a template version's package, a job's list) are left
 * alone by a sweep where several nodes share the store: on another node that row may be a moment
 * away, and only an object this old without one is what a crash left.
 */
export const SWEEP_AFTER_MS = 60 * 60 * 1000;

export const ROLES = ['admin', 'marketing', 'rep'] as const;
export type Role = (typeof ROLES)[number];

export interface ApiKey {
  id: string;
  name: string;
  role: Role;
  repId: string | null;
  createdAt: string;
  revokedAt: string | null;
  /** When the key last signed in or called the API, to the minute (see KeyStore.used); null if never. */
  lastUsedAt: string | null;
}

/** API keys, by the hash of their secret (the secret itself is never stored). */
export interface KeyStore {
  /** Stores a new live key (a fresh id) under the hash of its secret; the hash is unique. */
  create(input: { role: Role; name: string; repId: string | null }, keyHash: string): Promise<ApiKey>;
  /** The live key with this hash, or null (unknown or revoked). Every API request asks this. */
  findLive(keyHash: string): Promise<ApiKey | null>;
  /** Revokes a live key and, atomically, ends every session signed in with it; false if none was live. */
  revoke(id: string): Promise<boolean>;
  /** Every key, revoked ones included, oldest first. */
  list(): Promise<ApiKey[]>;
  count(): Promise<number>;
  /** Records that a key was used at `at` (an ISO time). */
  used(id: string, at: string): Promise<void>;
}

/**
 * The organisation's settings that admins change at run time, by name; each value as JSON. The
 * service that reads them knows their shapes and defaults; the store keeps what was set.
 */
export interface SettingsStore {
  /** Every stored setting by name. */
  all(): Promise<Record<string, unknown>>;
  /** Stores the values given (others stay as they are), in one step, saying who set them. */
  set(values: Record<string, unknown>, by: string): Promise<void>;
}

/**
 * A signed-in session of the pages: the live key it signed in with, or the enabled person it belongs
 * to (exactly one of the two).
 */
export interface StoredSession {
  /** When it ends, ms since the epoch. */
  expires: number;
  key: ApiKey | null;
  person: Person | null;
}

/** Whose a session is: a key's (signed in with its secret) or a person's. */
export type SessionOwner = { keyId: string } | { personId: string };

/** Sessions of the pages, by the hash of their id (the id itself is never stored). */
export interface SessionStore {
  /**
   * Stores a session until `expires` (ms since the epoch); in the same step deletes every session
   * that has expired, so the store holds at most one session lifetime's worth.
   */
  start(idHash: string, owner: SessionOwner, expires: number): Promise<void>;
  /**
   * The session while it lasts and its key is live (or its person enabled), else null. Every page
   * request asks this.
   */
  find(idHash: string): Promise<StoredSession | null>;
  end(idHash: string): Promise<void>;
  /**
   * A secret the service keeps for itself under `name` (the pages' signing secret), the same for
   * every node on the store: the stored one, or else `make()`'s, stored atomically, so of nodes
   * asking at once for the first time one stores its secret and every one gets that.
   */
  secret(name: string, make: () => Buffer): Promise<Buffer>;
}

/**
 * A person who signs in to the pages, through the organisation's identity provider or with an email
 * and password, and acts with a role (and a rep id) as a key of that role would. Without a role yet
 * they wait for an admin.
 */
export interface Person {
  id: string;
  name: string;
  email: string;
  role: Role | null;
  repId: string | null;
  /** Who vouches for them: the OpenID issuer, and the subject it knows them by; null for a password. */
  issuer: string | null;
  subject: string | null;
  /** Whether they have set a password (only those an admin made, without an issuer, have one). */
  hasPassword: boolean;
  createdAt: string;
  lastSignInAt: string | null;
  disabledAt: string | null;
}

/** What an identity provider says of a person as they sign in. */
export interface Identity {
  issuer: string;
  subject: string;
  name: string;
  email: string;
  /** From the provider's claims: replaces what is stored. Absent: what is stored stays. */
  role?: Role;
  repId?: string;
}

export interface PeopleStore {
  /**
   * The person an identity provider vouches for, made (without a role unless the identity has one)
   * on their first sign-in; records the sign-in, and takes their name, email and any role and rep
   * id the identity carries. A disabled person is returned as they are, and nothing changes.
   */
  signIn(identity: Identity): Promise<Person>;
  get(id: string): Promise<Person | null>;
  /** Everyone, those waiting for a role first, then by name. */
  list(): Promise<Person[]>;
  /** Sets a person's role and rep id; null if there is no such person. */
  assign(id: string, role: Role, repId: string | null): Promise<Person | null>;
  /** Disables an enabled person and, atomically, ends every session of theirs; false if none was. */
  disable(id: string): Promise<boolean>;
  /**
   * Makes a person who signs in with their email and a password (none yet); null if someone who
   * signs in with a password has that email (whatever its case) already.
   */
  create(input: {
    name: string;
    email: string;
    role: Role | null;
    repId: string | null;
  }): Promise<Person | null>;
  /**
   * Keeps the hash of a one-time link to set an enabled password person's password, until `expires`
   * (ms since the epoch), in place of any earlier link; false if there is no such person.
   */
  setPasswordLink(id: string, linkHash: string, expires: number): Promise<boolean>;
  /** The enabled person a live link is for, or null. */
  findByPasswordLink(linkHash: string): Promise<Person | null>;
  /**
   * Sets the password of the enabled person a live link is for: the link is used up and, in the same
   * step, every session of theirs ends. Returns the person, or null (no such live link).
   */
  setPassword(linkHash: string, passwordHash: string): Promise<Person | null>;
  /** The enabled person with a password who signs in with this email (whatever its case), and its hash. */
  findPassword(email: string): Promise<{ person: Person; passwordHash: string } | null>;
  /** Records a sign-in with a password. */
  signedIn(id: string): Promise<void>;
}

/** A rep's own details: the only source of the `rep` part of every record they render. */
export interface RepProfile {
  id: string;
  name: string;
  title: string;
  phone: string;
  email: string;
  licenseNumber: string;
  photoSha256: string | null;
  updatedAt: string;
}

export type RepProfileUpdate = Partial<Omit<RepProfile, 'id' | 'updatedAt'>>;

/** What a profile puts on a piece. */
export type RepDetails = Omit<RepProfile, 'id' | 'updatedAt'>;

export interface RepStore {
  get(id: string): Promise<RepProfile | null>;
  /** The profile, made (empty) if there is none, so a rep key always has one. */
  ensure(id: string): Promise<RepProfile>;
  /** Applies an update (making the profile first if needed) and returns the profile as stored. */
  update(id: string, update: RepProfileUpdate): Promise<RepProfile>;
  /** Every profile, by id. */
  list(): Promise<RepProfile[]>;
}

export type VersionState = 'draft' | 'published' | 'retired';

/**
 * One immutable version of a template: its package never changes after it is stored. The store
 * keeps the manifest as the service validated it, without reading it.
 */
export interface StoredVersion {
  templateId: string;
  version: number;
  name: string;
  state: VersionState;
  manifest: unknown;
  /** Validation problems found when the version was stored (a draft may have some; published ones none). */
  report: Problem[];
  createdBy: string;
  createdAt: string;
  publishedBy: string | null;
  publishedAt: string | null;
  retiredBy: string | null;
  retiredAt: string | null;
  /** Who approved the version for publishing (where the organisation's settings require it), and when. */
  approvedBy: string | null;
  approvedAt: string | null;
}

/** A template version to store: its package staged as a folder, and its row. */
export interface NewVersion {
  templateId: string;
  name: string;
  stagedDir: string;
  manifest: unknown;
  report: Problem[];
  createdBy: string;
  state: VersionState;
}

/** Template versions and their packages. */
export interface TemplateStore {
  /**
   * Stores a package (a folder, unpacked in the staging folder) as the next version of its template,
   * numbered from 1: the package and the row appear together or not at all, and the staged folder is
   * taken (moved, or removed once copied).
   */
  addVersion(input: NewVersion): Promise<StoredVersion>;
  /**
   * A local folder holding a stored version's package, to compile from. An adapter that keeps
   * packages elsewhere (object storage) fetches it into a local cache first.
   */
  packageDir(templateId: string, version: number): Promise<string>;
  get(templateId: string, version: number): Promise<StoredVersion | null>;
  latestPublished(templateId: string): Promise<StoredVersion | null>;
  /** Every version of a template, oldest first. */
  versions(templateId: string): Promise<StoredVersion[]>;
  /** Every template, by id, with its latest version (any state) and latest published version. */
  list(): Promise<{ id: string; latest: StoredVersion; published: StoredVersion | null }[]>;
  /**
   * Moves a version into a state it is not already in, atomically: of two concurrent publishes, one
   * wins. Publishing a retired version again clears its retirement. Returns null when the version
   * does not exist or is already in that state.
   */
  setState(
    templateId: string,
    version: number,
    state: 'published' | 'retired',
    by: string,
  ): Promise<StoredVersion | null>;
  /**
   * Records who approved a draft, once: null when the version does not exist, is not a draft, or
   * is approved already.
   */
  approve(templateId: string, version: number, by: string): Promise<StoredVersion | null>;
}

/** The audit trail: who rendered what, when, from which template version and record. */
export interface RenderRecord {
  id: string;
  keyId: string;
  repId: string | null;
  templateId: string;
  version: number;
  recordSha256: string;
  outputSha256: string;
  bytes: number;
  /** The response code of the piece the render made. */
  pieceCode: string | null;
  createdAt: string;
}

export interface RenderStore {
  /** Records a render under a fresh id, created now. */
  add(input: Omit<RenderRecord, 'id' | 'createdAt'>): Promise<RenderRecord>;
  get(id: string): Promise<RenderRecord | null>;
  /** Newest first (ties by id); a filter left out matches every render. */
  list(filter: { templateId?: string; repId?: string; limit: number }): Promise<RenderRecord[]>;
  /** Renders per version of a template: how much reps actually use each. */
  usage(templateId: string): Promise<Map<number, number>>;
  /** The renders that made these pieces (by piece code). */
  ofPieces(codes: string[]): Promise<RenderRecord[]>;
}

/** Who uploaded which image (a blob), until when: what lets its uploader, and only them, name it. */
export interface UploadStore {
  /**
   * Records (or renews) an upload of `sha256` by `owner` until `expires` (ms since the epoch); in the
   * same step deletes the uploads that have expired.
   */
  add(sha256: string, owner: string, expires: number): Promise<void>;
  /** Whether `owner` uploaded `sha256` and the upload has not expired. */
  owns(sha256: string, owner: string): Promise<boolean>;
}

export type JobState = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';
export type JobKind = 'pdf' | 'zip' | 'check';

/** What a job needs to run again from its input after a restart: fixed when it is created. */
export interface JobSpec {
  /** CSV header → prospect input overrides. */
  map: Record<string, string>;
  /**
   * The rep on every piece (or on rows that name none, with a rep column): their profile as it was
   * when the job was created; null when every row must name its rep.
   */
  rep: RepDetails | null;
  /** Who `rep` is (kept to run a job's rejected rows again). */
  repId?: string | null;
  /** A rep column: its header, and the profiles its rows name, as they were when the job was created. */
  reps?: { column: string; profiles: Record<string, RepDetails> };
  /** Only these rows of the list: a job's rejected rows, run again as corrected. */
  onlyRows?: number[];
  /** Print set-up asked for: marks on every piece; imposition on sheets of this size (points). */
  marks?: boolean;
  impose?: { width: number; height: number };
  chunkRows: number;
  /**
   * The piece number of the job's row 1 (row N's is `firstNumber + N - 1`), allocated when the job is
   * created, so a resumed or re-rendered row prints the same code. Jobs stored before pieces had
   * codes have none: their rows print the sample code and record no pieces.
   */
  firstNumber?: number;
  /** The secret each row's split arm and holdout are drawn from, the same on every run. Never shown. */
  pieceSeed?: string;
  /** The service's public address when the job was created: its tracked URLs start with it. */
  publicUrl?: string;
  /** The CSV column naming each row's recipient; by default the record's `prospect.id`. */
  recipientColumn?: string;
  /** A choice input split across the rows at random: each row shows one of the arms. */
  split?: { input: string; label: string; arms: string[] };
  /** The percentage of rows held out: recorded as pieces, never printed. */
  holdout?: number;
}

export interface Job {
  id: string;
  keyId: string;
  repId: string | null;
  templateId: string;
  version: number;
  kind: JobKind;
  state: JobState;
  spec: JobSpec;
  total: number | null;
  done: number;
  rendered: number;
  rejected: number;
  /** Rows held out of the print run: recorded as pieces, validated, not printed. */
  heldOut: number;
  error: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  /** The node holding the job's lease (see JobStore.claim), or null: none has, or its last let go. */
  owner: string | null;
}

/** Batch jobs and their checkpoints (finished chunks): job state lives here, not in process memory. */
export interface JobStore {
  /** Stores a new job, queued, under the id given; an id already stored is refused. */
  create(
    input: Pick<Job, 'id' | 'keyId' | 'repId' | 'templateId' | 'version' | 'kind' | 'spec' | 'total'>,
  ): Promise<Job>;
  get(id: string): Promise<Job | null>;
  /** Newest first (ties by id); without a rep, every rep's; `withoutChecks`: no preflight (`check`) jobs. */
  list(filter: { repId?: string; withoutChecks?: boolean; limit: number }): Promise<Job[]>;
  /** Jobs still queued or running (a restart picks them up again), oldest first. */
  unfinished(): Promise<Job[]>;
  /**
   * Makes `node` the one running an unfinished job until `leaseMs` from now: when no node holds it,
   * when the lease of the node holding it has run out (it died), when `node` holds it already, or
   * when `dead` does (a node known to have died before its lease ran out). False when another node's
   * lease holds, or the job has ended.
   */
  claim(id: string, node: string, leaseMs: number, dead?: string): Promise<boolean>;
  /** Extends to `leaseMs` from now the lease of every unfinished job `node` holds; returns their ids. */
  renew(node: string, leaseMs: number): Promise<string[]>;
  /** Lets go of every job `node` holds (it is stopping): any node may take them at once. */
  release(node: string): Promise<void>;
  /** Marks a job running; its first start time is kept. */
  started(id: string): Promise<void>;
  progress(
    id: string,
    p: { done: number; rendered: number; rejected: number; heldOut: number },
  ): Promise<void>;
  /** Ends a job that is still queued or running; false when it had ended already (say, cancelled). */
  finish(id: string, state: Exclude<JobState, 'queued' | 'running'>, error?: string | null): Promise<boolean>;
  /** Keeps a finished chunk's result (JSON), replacing one saved before for the same index. */
  saveChunk(id: string, index: number, result: unknown): Promise<void>;
  /** A job's saved chunk results by index, as saved. */
  chunks(id: string): Promise<Map<number, unknown>>;
  /** Drops a job's checkpoints (a finished job's output holds them). */
  dropChunks(id: string): Promise<void>;
  /** Drops the checkpoints of every ended job: those a crash (or a full disk) kept from being dropped. */
  dropEndedChunks(): Promise<void>;
  /**
   * Keeps the columns a list fed a template's prospect inputs with (input → CSV header), as one
   * owner last ran it, replacing what they kept for that template before.
   */
  saveMapping(templateId: string, owner: string, columns: Record<string, string>): Promise<void>;
  /** The columns an owner last ran a template with; null if they never did. */
  mapping(templateId: string, owner: string): Promise<Record<string, string> | null>;
}

/** Requests counted per key in fixed windows, shared by every node on the store: rate limits. */
export interface RateLimitStore {
  /**
   * Counts one request of `key` in the current window (windows of `windowMs` from the epoch, so every
   * node agrees on them), or takes one back (`by` -1: a request that turned out not to count; never
   * below none); returns the window's count so far and when it ends (epoch ms).
   */
  hit(key: string, windowMs: number, by?: 1 | -1): Promise<{ hits: number; resetAt: number }>;
}

/** How a piece was made: on the rep's form, through the API, or as a batch row. */
export type Channel = 'form' | 'api' | 'batch';
export const OUTCOMES = ['contacted', 'meeting_booked', 'quote_sent', 'won', 'lost', 'no_response'] as const;
export type Outcome = (typeof OUTCOMES)[number];
export type ResponseKind = 'scan' | 'visit';
export type DeviceClass = 'phone' | 'tablet' | 'desktop' | 'other';

/** A piece as it is made: what it can be traced back to when a response comes. */
export interface NewPiece {
  /** Its number, allocated by `PieceStore.reserve`: the piece's id. */
  number: number;
  /** Its response code: the number under the installation's key (see model/piece-code.ts). */
  code: string;
  templateId: string;
  version: number;
  repId: string | null;
  keyId: string;
  channel: Channel;
  jobId: string | null;
  row: number | null;
  /** Who received it: the record's `prospect.id` or a mapped column; null when the record names no one. */
  recipientRef: string | null;
  /** Where its tracked URL leads, rendered with its record; null when the template prints none. */
  landingUrl: string | null;
  /** The value of each choice input on the piece: which approved headline, which offer. */
  choices: Record<string, string>;
  /** The arm of a batch's split the row fell in; null outside a split (and for a held-out row). */
  variant: string | null;
  /** Held out of a batch's print run: recorded to compare against, never printed. */
  holdout: boolean;
  /** The rep fields the rep changed from their default. */
  edited: string[];
  /**
   * What its maker entered, for a piece made on its own (the form, the API): who it went to, and
   * the values to make another like it. Batch rows keep none: their values are the job's list.
   */
  entered?: EnteredValues | null;
}

/** The values a piece was made with, as its maker entered them (image inputs name their uploads). */
export interface EnteredValues {
  /** The prospect's name as people read it ("Winifred Quayle"); '' when the record names no one. */
  prospectName: string;
  prospect: Record<string, unknown>;
  fields: Record<string, unknown>;
}

export interface StoredPiece extends NewPiece {
  /** Null for a batch row, and once the piece is cut from its recipient or was made without them. */
  entered: EnteredValues | null;
  createdAt: string;
  /** Responses counted (scans and visits), and the minute of the first. */
  responses: number;
  firstResponseAt: string | null;
  outcome: Outcome | null;
  outcomeNote: string | null;
  outcomeAt: string | null;
}

/** A response to a piece: the minute it came, scan or visit, the device class. */
export interface PieceResponse {
  at: string;
  kind: ResponseKind;
  device: DeviceClass;
}

/** The pieces Platen made and the responses and outcomes traced to them. */
export interface PieceStore {
  /** The installation's secret key for piece codes (32 bytes), made on first use and kept for good. */
  codeKey(): Promise<Buffer>;
  /** Allocates `count` consecutive piece numbers, never handed out before; returns the first. */
  reserve(count: number): Promise<number>;
  /** Stores pieces; one whose number is stored already is left as it was. */
  add(pieces: NewPiece[]): Promise<void>;
  get(number: number): Promise<StoredPiece | null>;
  /** Newest first (ties by number, highest first); a filter left out matches every piece. */
  list(filter: {
    repId?: string;
    templateId?: string;
    jobId?: string;
    /**
     * Pieces any of these match: their prospect's name or code contains `text` (in any case), they
     * are of one of the templates, or they are the piece of that number.
     */
    match?: { text: string; templateIds: string[]; number: number | null };
    limit: number;
  }): Promise<StoredPiece[]>;
  /** Records a response (its time to the minute); null when there is no such piece. */
  respond(number: number, response: PieceResponse): Promise<StoredPiece | null>;
  /** Sets a piece's outcome; null when there is no such piece. */
  setOutcome(
    number: number,
    outcome: { outcome: Outcome; note: string | null; at: string },
  ): Promise<StoredPiece | null>;
  /** Every piece of a template made within [from, to) (ISO times; either left out is open), oldest first. */
  made(filter: { templateId?: string; from?: string; to?: string }): AsyncIterable<StoredPiece>;
  /** A piece's responses, oldest first. */
  responsesOf(number: number): Promise<PieceResponse[]>;
  /**
   * Cuts pieces made before `before` from their recipients: the recipient reference, the values
   * entered and the outcome note go, and the landing URL keeps only its origin; counts stay. Returns
   * the codes cut.
   */
  cutRecipients(before: string): Promise<string[]>;
  /** Removes every piece sent to a recipient, with its responses. Returns the codes removed. */
  eraseRecipient(ref: string): Promise<string[]>;
}

/** What a webhook can subscribe to: a piece made, a response to one, a rep's outcome for one. */
export const WEBHOOK_EVENTS = ['piece.created', 'piece.response', 'piece.outcome'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENTS)[number];

/** An address the organisation's CRM listens on, for the events it subscribed to. */
export interface Webhook {
  id: string;
  url: string;
  events: WebhookEventType[];
  createdAt: string;
  deletedAt: string | null;
}

export type DeliveryState = 'pending' | 'delivered' | 'failed';

/** One event for one webhook, in the outbox until it is delivered or given up on. */
export interface Delivery {
  id: number;
  webhookId: string;
  eventId: string;
  type: WebhookEventType;
  /** The JSON body, exactly as every attempt sends it. */
  body: string;
  /** Attempts made so far (finished ones: an attempt cut short by a crash is not counted). */
  attempts: number;
  /** When it is next due, ms since the epoch. */
  nextAttemptAt: number;
  state: DeliveryState;
  createdAt: string;
}

/** What follows an attempt at a delivery: delivered, failed for good, or a retry at `retryAt` (ms). */
export type NextStep = { state: 'delivered' | 'failed' } | { state: 'pending'; retryAt: number };

/** One attempt to deliver, as the delivery log keeps it. */
export interface DeliveryAttempt {
  eventId: string;
  type: WebhookEventType;
  /** 1 for the first attempt at this event, 2 for its first retry, … */
  attempt: number;
  at: string;
  /** The receiver's HTTP status; null when no answer came (a timeout, a refused connection). */
  status: number | null;
  /** Why no answer came; null when one did. */
  error: string | null;
  durationMs: number;
}

/**
 * Webhooks, their outbox and their delivery log. An event is stored in the outbox (one row per
 * subscribed webhook) before anything is sent, and a row leaves it only once delivered or given up
 * on: at least once, across restarts.
 */
export interface WebhookStore {
  /** Stores a new webhook (a fresh id) with the secret its deliveries are signed with. */
  create(input: { url: string; events: WebhookEventType[]; secret: string }): Promise<Webhook>;
  /** A webhook, deleted ones included, or null. */
  get(id: string): Promise<Webhook | null>;
  /** Live webhooks, oldest first. */
  list(): Promise<Webhook[]>;
  /** Where and how to deliver: a live webhook's URL and signing secret, or null. */
  target(id: string): Promise<{ url: string; secret: string } | null>;
  /**
   * Deletes a live webhook: it stays listed by `get` with its delivery log, its secret is forgotten
   * and its pending deliveries are dropped, in one step. False if it was not live.
   */
  delete(id: string): Promise<boolean>;
  /**
   * Puts events in the outbox for each of these webhooks, due now, in one step. Enqueueing the same
   * event id for the same webhook again is a no-op, so a caller may retry an enqueue it is unsure of.
   */
  enqueue(
    events: readonly { id: string; type: WebhookEventType; body: string }[],
    webhookIds: readonly string[],
  ): Promise<void>;
  /** Drops the pending deliveries of events about these pieces (by `data.code`): an erasure's. */
  dropPendingAbout(codes: readonly string[]): Promise<void>;
  /**
   * Takes up to `limit` pending deliveries due at `now` (ms since the epoch), oldest due first, and
   * leases them: each becomes due again only at `leaseUntil`, so that a delivery whose attempt a
   * crash cut short is retried then, and no other claim takes it meanwhile.
   */
  claimDue(now: number, limit: number, leaseUntil: number): Promise<Delivery[]>;
  /** When the next pending delivery is due (ms since the epoch), or null when none is pending. */
  nextDue(): Promise<number | null>;
  /**
   * Records an attempt at a claimed delivery in the delivery log and, in the same step, what follows
   * it: delivered, failed for good, or pending again until `retryAt`. A delivery that is over keeps
   * no body (what an event says of a piece is not kept beyond its delivery); its row stays, so that
   * the event is still enqueued only once. The attempt is logged even if its webhook was deleted
   * meanwhile.
   */
  attempted(
    delivery: Delivery,
    attempt: Omit<DeliveryAttempt, 'eventId' | 'type' | 'attempt'>,
    next: NextStep,
  ): Promise<void>;
  /** A webhook's delivery log, newest attempt first. */
  attempts(webhookId: string, limit: number): Promise<DeliveryAttempt[]>;
}

/**
 * Content-addressed blobs (rendered PDFs, photos, uploaded images): a blob's id is the SHA-256 of its
 * bytes (lowercase hex), so it is written once however often it is stored, and never changes after.
 * An id that is not 64 lowercase hex digits is refused (thrown), never looked up.
 */
export interface BlobStore {
  /** Stores the bytes (a no-op if they are stored already); returns their SHA-256. */
  put(bytes: Uint8Array): Promise<string>;
  /** The blob, or null if there is none; a failure to read it (an I/O error) is thrown. */
  get(sha256: string): Promise<Buffer | null>;
  /** The blob as a stream, or null if there is none: for blobs too big to hold in memory. */
  stream(sha256: string): Promise<Readable | null>;
  exists(sha256: string): Promise<boolean>;
  /** Removes a blob; removing one that is not there is no error. */
  delete(sha256: string): Promise<void>;
  /** Removes what writes a crash cut short; returns what was removed. */
  sweep(): Promise<string[]>;
}

/** Bytes `start` to `end` of an object, both included (as HTTP's Range counts them). */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * Named files that every node of the service shares (local files, or S3 when `PLATEN_BLOB_URL` is
 * set): template packages (`packages/<template>/<version>/…`) and jobs' lists, outputs and reports
 * (`jobs/<id>/input.csv`, `output.pdf` or `output.zip`, `errors.csv`). Keys are `/`-separated paths
 * of safe names. An object is whole or absent: a write that fails or is cut short leaves none, and
 * never a part of one. Objects are not rewritten in place: one read through a local copy (`localFile`,
 * `localFolder`) stays as it was while it exists.
 */
export interface ObjectStore {
  /**
   * Writes an object from a stream (`write` writes it, and may end it): it appears, replacing any
   * of that key, only once `write` has resolved and every byte is stored. When `write` throws, the
   * object is not stored, and the error is rethrown.
   */
  write<T>(key: string, write: (out: Writable) => Promise<T>): Promise<T>;
  /** Stores a local file as an object: the file is taken (moved, or removed once copied). */
  putFile(key: string, path: string): Promise<void>;
  /**
   * Stores a local folder's files as the objects under `prefix` (which ends in `/`), replacing what
   * was there: the folder is taken. Not atomic as a whole: a crash may leave some of them, which
   * `deleteAll` removes.
   */
  putFolder(prefix: string, dir: string): Promise<void>;
  /** The object's size in bytes, or null if there is none. */
  size(key: string): Promise<number | null>;
  /** The object's bytes (a range of them), or null if there is none. */
  read(key: string, range?: ByteRange): Promise<Readable | null>;
  /**
   * A local file holding the object, or null if there is none: the object itself where objects are
   * local files, else a copy fetched into a local cache (removed with the object).
   */
  localFile(key: string): Promise<string | null>;
  /** A local folder holding the objects under `prefix` (which ends in `/`), as `localFile` does. */
  localFolder(prefix: string): Promise<string>;
  /** Removes the local copy `localFile` fetched of an object, if any (a local file is the object: kept). */
  release(key: string): Promise<void>;
  /** The keys under a prefix, in no order; only those written before `writtenBefore` (epoch ms), if given. */
  list(prefix: string, writtenBefore?: number): Promise<string[]>;
  /** Removes an object; removing one that is not there is no error. */
  delete(key: string): Promise<void>;
  /** Removes every object under `prefix` (which ends in `/`). */
  deleteAll(prefix: string): Promise<void>;
  /** Removes what writes a crash cut short (temporary files, unfinished uploads); returns what was removed. */
  sweep(): Promise<string[]>;
}

/**
 * The role policy, tested on both faces from one table: every route of `/openapi.json` and every
 * signed-in page route, against every kind of caller (no key, two reps, marketing, an admin, a
 * revoked key, a malformed key), each with the status class the README's role rules give. The
 * tables are written out by hand, so the test cannot pass by the policy and the app agreeing on
 * something wrong, and a route that has no entry here fails it. Then the services themselves: the
 * policy holds for a caller that reaches them without going through a face's route.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ForbiddenError, NotFoundError } from '../../src/errors.js';
import type { ApiKey } from '../../src/service/policy.js';
import { cleanup } from '../support/files.js';
import { gradientJpeg } from '../support/images.js';
import { makePackage } from '../support/packages.js';
import { postcardFormValues, postcardRender } from '../support/records.js';
import {
  call,
  client,
  type CreatedKey,
  createKey,
  problem,
  profileForm,
  type Role,
  startTestServer,
  type TestServer,
  uploadZip,
} from '../support/server.js';
import { zipFolder } from '../support/zips.js';
import { csrfOf, pageRequest, pageRoutes, type PageSession, signInPages } from '../support/pages.js';

/** Signed-in callers with live keys. */
type Person = 'repA' | 'repB' | 'marketing' | 'admin';
/**
 * People who sign in through the identity provider (the pages only): one an admin made rep A, who
 * must get exactly what rep A's key gets, and one still waiting for a role, who gets nowhere.
 */
type SignedOnPerson = 'personA' | 'waiting';
/** Every caller: the people, and those who must get nowhere. */
type Caller = Person | SignedOnPerson | 'none' | 'revoked' | 'malformed';
const PEOPLE: Person[] = ['repA', 'repB', 'marketing', 'admin'];
const CALLERS: Caller[] = ['none', ...PEOPLE, 'revoked', 'malformed'];
const PAGE_CALLERS: Caller[] = [...CALLERS, 'personA', 'waiting'];
const ROLE: Record<Person, Role> = { repA: 'rep', repB: 'rep', marketing: 'marketing', admin: 'admin' };

const ALL = PEOPLE;
const REPS: Person[] = ['repA', 'repB'];
const DESK: Person[] = ['marketing', 'admin'];
const ADMIN: Person[] = ['admin'];
/** Rep A's things: rep A and the desk see them; to rep B they do not exist. */
const A_OWNS = { ok: ['repA', 'marketing', 'admin'] as Person[], hidden: ['repB'] as Person[] };

interface Req {
  url: string;
  json?: unknown;
  body?: FormData | Uint8Array;
  headers?: Record<string, string>;
  form?: Record<string, string>;
}

interface Case {
  /** Who the route serves. */
  ok: readonly Person[];
  /** Who may use the route but must not learn that what it names exists: 404. */
  hidden?: readonly Person[];
  req: (who: Caller) => Req;
}

interface PageCase extends Case {
  /** Answers the pages' scripts: signed-out callers get 401 rather than the sign-in page. */
  json?: boolean;
  /** Served with a redirect (303) somewhere other than the sign-in page. */
  redirects?: boolean;
  /** Served with a redirect to the sign-in page (signing out). */
  signsOut?: boolean;
}

const TEMPLATE = 'postcard-6x4';
const MATRIX = 'matrix-postcard';
const LIST =
  'First Name,Last Name,Street Address,City,State,ZIP\r\nPat,Lee,1 Main St,Portland,ME,04101\r\nSam,Roe,2 Main St,Portland,Maine,04101\r\n';
const FORM_VALUES = postcardFormValues();
/** Marketing and admins try a template with rep details typed by hand. */
const HAND_TYPED_REP = {
  'rep.name': 'Hand Typed',
  'rep.phone': '(207) 555-0100',
  'rep.email': 'hand.typed@agency.example',
};

let server: TestServer;
let image: Buffer;
let zip: Buffer;
/** The matrix template's manifest, as the designer's routes take it. */
let manifest: Record<string, unknown>;
const keys = {} as Record<Person | 'revoked', CreatedKey>;
const sessions = {} as Record<Person | 'revoked', PageSession>;
const personSessions = {} as Record<SignedOnPerson, { cookie: string; csrf: string }>;
/** People the admin gives a role to, and turns off. */
const people = { assigned: '', disabled: '', withPassword: '' };
let victim: CreatedKey;
/** A key for the admin pages to revoke. */
let pageVictim: CreatedKey;
/** Webhooks: one for the API and one for the pages to delete, one whose delivery log they read. */
const webhooks = { victim: '', pageVictim: '', kept: '' };
let renderId: string;
/** The response code of rep A's render. */
let pieceCode: string;
let jobId: string;
/** Draft versions of the matrix template, one per desk caller for each route that changes one. */
const drafts = {} as Record<
  'publish' | 'retire' | 'pageRetire' | 'approve' | 'designerRetire',
  Record<string, number>
>;

const isDesk = (who: Caller) => who === 'marketing' || who === 'admin';
const versionFor = (route: keyof typeof drafts, who: Caller) => drafts[route]?.[who] ?? 1;

function multipart(fields: Record<string, string>, files: Record<string, [Buffer, string, string]> = {}) {
  const data = new FormData();
  for (const [name, value] of Object.entries(fields)) data.set(name, value);
  for (const [name, [bytes, type, filename]] of Object.entries(files))
    data.set(name, new Blob([new Uint8Array(bytes)], { type }), filename);
  return data;
}
const csvFile = (): Record<string, [Buffer, string, string]> => ({
  csv: [Buffer.from(LIST), 'text/csv', 'list.csv'],
});
const jobForm = (who: Caller, output: string) =>
  multipart({ templateId: TEMPLATE, output, ...(isDesk(who) ? { repId: 'rep-a' } : {}) }, csvFile());

/** Every operation of the API: who it serves, and a request that it would serve. */
const API: Record<string, Case & { public?: true }> = {
  'get /healthz': { public: true, ok: ALL, req: () => ({ url: '/healthz' }) },
  'get /openapi.json': { public: true, ok: ALL, req: () => ({ url: '/openapi.json' }) },
  'get /api/v1/templates': { ok: ALL, req: () => ({ url: '/api/v1/templates' }) },
  'get /api/v1/templates/{id}': { ok: ALL, req: () => ({ url: `/api/v1/templates/${TEMPLATE}` }) },
  'get /api/v1/templates/{id}/versions': {
    ok: DESK,
    req: () => ({ url: `/api/v1/templates/${MATRIX}/versions` }),
  },
  'post /api/v1/templates': {
    ok: DESK,
    req: () => ({
      url: '/api/v1/templates',
      body: new Uint8Array(zip),
      headers: { 'content-type': 'application/zip' },
    }),
  },
  'post /api/v1/templates/{id}/versions/{n}/publish': {
    ok: DESK,
    req: (who) => ({ url: `/api/v1/templates/${MATRIX}/versions/${versionFor('publish', who)}/publish` }),
  },
  'post /api/v1/templates/{id}/versions/{n}/retire': {
    ok: DESK,
    req: (who) => ({ url: `/api/v1/templates/${MATRIX}/versions/${versionFor('retire', who)}/retire` }),
  },
  'post /api/v1/templates/{id}/drafts': {
    ok: DESK,
    req: () => ({
      url: `/api/v1/templates/${MATRIX}/drafts?from=1`,
      body: multipart({ manifest: JSON.stringify(manifest) }),
    }),
  },
  'post /api/v1/templates/{id}/drafts/preview': {
    ok: DESK,
    req: () => ({
      url: `/api/v1/templates/${MATRIX}/drafts/preview?page=1&scale=0.25`,
      json: { manifest, from: 1 },
    }),
  },
  'post /api/v1/templates/{id}/assets': {
    ok: DESK,
    req: () => ({
      url: `/api/v1/templates/${MATRIX}/assets`,
      body: multipart({ path: 'images/matrix.jpg' }, { file: [image, 'image/jpeg', 'matrix.jpg'] }),
    }),
  },
  'get /api/v1/templates/{id}/versions/{n}/package': {
    ok: DESK,
    req: () => ({ url: `/api/v1/templates/${MATRIX}/versions/1/package` }),
  },
  'get /api/v1/templates/{id}/versions/{n}/changes': {
    ok: DESK,
    req: () => ({ url: `/api/v1/templates/${MATRIX}/versions/2/changes` }),
  },
  'post /api/v1/templates/{id}/versions/{n}/approve': {
    ok: DESK,
    req: (who) => ({ url: `/api/v1/templates/${MATRIX}/versions/${versionFor('approve', who)}/approve` }),
  },
  'get /api/v1/element-kinds': { ok: ALL, req: () => ({ url: '/api/v1/element-kinds' }) },
  'get /api/v1/reps/me': { ok: REPS, req: () => ({ url: '/api/v1/reps/me' }) },
  'put /api/v1/reps/me': { ok: REPS, req: () => ({ url: '/api/v1/reps/me', body: profileForm() }) },
  'get /api/v1/reps/me/photo': { ok: REPS, req: () => ({ url: '/api/v1/reps/me/photo' }) },
  'get /api/v1/reps': { ok: ADMIN, req: () => ({ url: '/api/v1/reps' }) },
  'get /api/v1/reps/{id}': { ok: ADMIN, req: () => ({ url: '/api/v1/reps/rep-a' }) },
  'put /api/v1/reps/{id}': { ok: ADMIN, req: () => ({ url: '/api/v1/reps/rep-a', body: profileForm() }) },
  'get /api/v1/reps/{id}/photo': { ok: ADMIN, req: () => ({ url: '/api/v1/reps/rep-a/photo' }) },
  'post /api/v1/renders': { ok: REPS, req: () => ({ url: '/api/v1/renders', json: postcardRender() }) },
  'get /api/v1/renders': { ok: ALL, req: () => ({ url: '/api/v1/renders' }) },
  'get /api/v1/renders/{id}': { ...A_OWNS, req: () => ({ url: `/api/v1/renders/${renderId}` }) },
  'get /api/v1/renders/{id}/pdf': { ...A_OWNS, req: () => ({ url: `/api/v1/renders/${renderId}/pdf` }) },
  'get /api/v1/pieces': { ok: ALL, req: () => ({ url: '/api/v1/pieces' }) },
  'get /api/v1/pieces/{code}': { ...A_OWNS, req: () => ({ url: `/api/v1/pieces/${pieceCode}` }) },
  'post /api/v1/pieces/{code}/outcome': {
    ...A_OWNS,
    req: () => ({ url: `/api/v1/pieces/${pieceCode}/outcome`, json: { outcome: 'contacted' } }),
  },
  'post /api/v1/previews': {
    ok: ALL,
    req: () => ({ url: '/api/v1/previews', json: { templateId: TEMPLATE, sample: 0 } }),
  },
  'post /api/v1/previews/fit': {
    ok: ALL,
    req: () => ({ url: '/api/v1/previews/fit', json: { templateId: TEMPLATE, sample: 0 } }),
  },
  'get /api/v1/keys': { ok: ADMIN, req: () => ({ url: '/api/v1/keys' }) },
  'post /api/v1/keys': {
    ok: ADMIN,
    req: () => ({ url: '/api/v1/keys', json: { role: 'marketing', name: 'made by the matrix' } }),
  },
  'delete /api/v1/keys/{id}': { ok: ADMIN, req: () => ({ url: `/api/v1/keys/${victim.id}` }) },
  'delete /api/v1/recipients/{ref}': { ok: ADMIN, req: () => ({ url: '/api/v1/recipients/P-nobody' }) },
  'get /api/v1/webhooks': { ok: ADMIN, req: () => ({ url: '/api/v1/webhooks' }) },
  'post /api/v1/webhooks': {
    ok: ADMIN,
    req: () => ({
      url: '/api/v1/webhooks',
      json: { url: 'https://crm.example/hooks/platen', events: ['piece.created'] },
    }),
  },
  'delete /api/v1/webhooks/{id}': { ok: ADMIN, req: () => ({ url: `/api/v1/webhooks/${webhooks.victim}` }) },
  'get /api/v1/webhooks/{id}/deliveries': {
    ok: ADMIN,
    req: () => ({ url: `/api/v1/webhooks/${webhooks.kept}/deliveries` }),
  },
  'get /api/v1/settings': { ok: ADMIN, req: () => ({ url: '/api/v1/settings' }) },
  // Approval stays required, as this server started: the matrix's publishing routes count on it.
  'put /api/v1/settings': {
    ok: ADMIN,
    req: () => ({ url: '/api/v1/settings', json: { requireApproval: true, retentionDays: 730 } }),
  },
  'post /api/v1/jobs': { ok: ALL, req: (who) => ({ url: '/api/v1/jobs', body: jobForm(who, 'check') }) },
  'post /api/v1/jobs/columns': {
    ok: ALL,
    req: () => ({ url: '/api/v1/jobs/columns', body: multipart({ templateId: TEMPLATE }, csvFile()) }),
  },
  'get /api/v1/templates/{id}/sample.csv': {
    ok: ALL,
    req: () => ({ url: `/api/v1/templates/${TEMPLATE}/sample.csv` }),
  },
  'post /api/v1/jobs/{id}/rerun': {
    ...A_OWNS,
    req: () => ({ url: `/api/v1/jobs/${jobId}/rerun`, body: multipart({}, csvFile()) }),
  },
  'get /api/v1/jobs': { ok: ALL, req: () => ({ url: '/api/v1/jobs' }) },
  'get /api/v1/jobs/{id}': { ...A_OWNS, req: () => ({ url: `/api/v1/jobs/${jobId}` }) },
  'get /api/v1/jobs/{id}/events': { ...A_OWNS, req: () => ({ url: `/api/v1/jobs/${jobId}/events` }) },
  'get /api/v1/jobs/{id}/output': { ...A_OWNS, req: () => ({ url: `/api/v1/jobs/${jobId}/output` }) },
  'get /api/v1/jobs/{id}/errors.csv': {
    ...A_OWNS,
    req: () => ({ url: `/api/v1/jobs/${jobId}/errors.csv` }),
  },
  'delete /api/v1/jobs/{id}': { ...A_OWNS, req: () => ({ url: `/api/v1/jobs/${jobId}` }) },
  'get /api/v1/results': { ok: DESK, req: () => ({ url: `/api/v1/results?template=${TEMPLATE}&by=rep` }) },
  'get /api/v1/results/responses.csv': {
    ok: DESK,
    req: () => ({ url: `/api/v1/results/responses.csv?template=${TEMPLATE}` }),
  },
};

/** Page routes anyone may ask for: the start page, signing in, and the tracked links pieces print. */
const PUBLIC_PAGES = [
  'get /',
  'get /sign-in',
  'post /sign-in',
  'get /auth/sign-in',
  'get /auth/callback',
  'post /sign-in/password',
  'get /set-password/:token',
  'post /set-password/:token',
  'get /r/:code',
];

/** Every signed-in page route: who it serves, and a request that it would serve. Signing out is last. */
const PAGES: Record<string, PageCase> = {
  'get /gallery': { ok: REPS, req: () => ({ url: '/gallery' }) },
  'get /gallery/:id': { ok: REPS, req: () => ({ url: `/gallery/${TEMPLATE}` }) },
  'get /make/:id': { ok: ALL, req: () => ({ url: `/make/${TEMPLATE}` }) },
  'post /make/:id/pdf': {
    ok: REPS,
    req: () => ({ url: `/make/${TEMPLATE}/pdf`, form: { version: '1', ...FORM_VALUES } }),
  },
  'post /make/:id/preview': {
    ok: ALL,
    json: true,
    req: (who) => ({
      url: `/make/${TEMPLATE}/preview`,
      json: { version: 1, page: 1, values: { ...FORM_VALUES, ...(isDesk(who) ? HAND_TYPED_REP : {}) } },
    }),
  },
  'post /uploads': {
    ok: ALL,
    json: true,
    req: () => ({ url: '/uploads', body: multipart({}, { image: [image, 'image/jpeg', 'street.jpg'] }) }),
  },
  'get /samples/:id/:n/:sample/:page': {
    ok: ALL,
    req: () => ({ url: `/samples/${TEMPLATE}/1/0/1?size=thumb` }),
  },
  'get /pieces/:id.pdf': { ...A_OWNS, req: () => ({ url: `/pieces/${renderId}.pdf` }) },
  'get /pieces': { ok: ALL, req: () => ({ url: '/pieces' }) },
  'get /pieces/:code/thumbnail.png': {
    ...A_OWNS,
    req: () => ({ url: `/pieces/${pieceCode}/thumbnail.png` }),
  },
  'post /pieces/:code/outcome': {
    ...A_OWNS,
    redirects: true,
    req: () => ({ url: `/pieces/${pieceCode}/outcome`, form: { outcome: 'contacted' } }),
  },
  'get /profile': { ok: REPS, req: () => ({ url: '/profile' }) },
  'post /profile': { ok: REPS, req: () => ({ url: '/profile', body: profileForm() }) },
  'get /profile/photo': { ok: REPS, req: () => ({ url: '/profile/photo' }) },
  'get /marketing': { ok: DESK, req: () => ({ url: '/marketing' }) },
  'post /marketing/templates': {
    ok: DESK,
    redirects: true,
    req: () => ({
      url: '/marketing/templates',
      body: multipart({}, { file: [zip, 'application/zip', 'package.zip'] }),
    }),
  },
  'get /marketing/templates/:id': { ok: DESK, req: () => ({ url: `/marketing/templates/${MATRIX}` }) },
  'get /marketing/templates/:id/versions/:n': {
    ok: DESK,
    req: () => ({ url: `/marketing/templates/${MATRIX}/versions/1` }),
  },
  'post /marketing/templates/:id/versions/:n/:action': {
    ok: DESK,
    redirects: true,
    req: (who) => ({
      url: `/marketing/templates/${MATRIX}/versions/${versionFor('pageRetire', who)}/retire`,
      form: {},
    }),
  },
  'get /batch': { ok: ALL, req: () => ({ url: '/batch' }) },
  'post /batch/columns': {
    ok: ALL,
    json: true,
    req: () => ({ url: '/batch/columns', body: multipart({ templateId: TEMPLATE }, csvFile()) }),
  },
  'post /batch/jobs': {
    ok: ALL,
    json: true,
    req: (who) => ({ url: '/batch/jobs', body: jobForm(who, 'check') }),
  },
  'get /batch/sample.csv': { ok: ALL, req: () => ({ url: `/batch/sample.csv?template=${TEMPLATE}` }) },
  'post /batch/preview': {
    ok: ALL,
    json: true,
    req: (who) => ({
      url: '/batch/preview?page=2',
      body: multipart({ templateId: TEMPLATE, ...(isDesk(who) ? { repId: 'rep-a' } : {}) }, csvFile()),
    }),
  },
  'get /batch/jobs/:id': { ...A_OWNS, req: () => ({ url: `/batch/jobs/${jobId}` }) },
  'get /batch/jobs/:id/cancel': { ...A_OWNS, req: () => ({ url: `/batch/jobs/${jobId}/cancel` }) },
  'post /batch/jobs/:id/fix': {
    ...A_OWNS,
    redirects: true,
    req: () => ({ url: `/batch/jobs/${jobId}/fix`, form: { row: '2', column: 'State', value: 'ME' } }),
  },
  'get /batch/jobs/:id/events': { ...A_OWNS, req: () => ({ url: `/batch/jobs/${jobId}/events` }) },
  'get /batch/jobs/:id/rejections': {
    ...A_OWNS,
    json: true,
    req: () => ({ url: `/batch/jobs/${jobId}/rejections` }),
  },
  'get /batch/jobs/:id/output': { ...A_OWNS, req: () => ({ url: `/batch/jobs/${jobId}/output` }) },
  'get /batch/jobs/:id/errors.csv': { ...A_OWNS, req: () => ({ url: `/batch/jobs/${jobId}/errors.csv` }) },
  'post /batch/jobs/:id/rerun': {
    ...A_OWNS,
    redirects: true,
    req: () => ({ url: `/batch/jobs/${jobId}/rerun`, body: multipart({}, csvFile()) }),
  },
  'post /batch/jobs/:id/cancel': {
    ...A_OWNS,
    redirects: true,
    req: () => ({ url: `/batch/jobs/${jobId}/cancel`, form: {} }),
  },
  'get /results': { ok: DESK, req: () => ({ url: '/results' }) },
  'get /results/:id': { ok: DESK, req: () => ({ url: `/results/${TEMPLATE}?by=channel` }) },
  'get /results/:id/groups.csv': { ok: DESK, req: () => ({ url: `/results/${TEMPLATE}/groups.csv` }) },
  'get /results/:id/responses.csv': {
    ok: DESK,
    req: () => ({ url: `/results/${TEMPLATE}/responses.csv` }),
  },
  'get /designer': { ok: DESK, req: () => ({ url: '/designer' }) },
  'post /designer/new': {
    ok: DESK,
    redirects: true,
    req: (who) => ({
      url: '/designer/new',
      form: {
        id: `designed-${who}`,
        name: 'Designed card',
        kind: 'postcard',
        size: 'postcard-6x4',
        unit: 'in',
        bleed: '0.125',
        pages: 'front, back',
      },
    }),
  },
  'post /designer/import': {
    ok: DESK,
    redirects: true,
    req: () => ({
      url: '/designer/import',
      body: multipart({}, { file: [zip, 'application/zip', 'package.zip'] }),
    }),
  },
  'get /designer/:id/:n': { ok: DESK, req: () => ({ url: `/designer/${MATRIX}/1` }) },
  'post /designer/:id/check': {
    ok: DESK,
    json: true,
    req: () => ({ url: `/designer/${MATRIX}/check`, json: { manifest: manifest, from: 1 } }),
  },
  'post /designer/:id/preview': {
    ok: DESK,
    json: true,
    req: () => ({
      url: `/designer/${MATRIX}/preview`,
      json: { manifest: manifest, from: 1, page: 1, scale: 0.25, sample: 0 },
    }),
  },
  'post /designer/:id/assets': {
    ok: DESK,
    json: true,
    req: () => ({
      url: `/designer/${MATRIX}/assets`,
      body: multipart({ path: 'images/photo.jpg' }, { file: [image, 'image/jpeg', 'photo.jpg'] }),
    }),
  },
  'post /designer/:id/save': {
    ok: DESK,
    json: true,
    req: () => ({ url: `/designer/${MATRIX}/save`, json: { manifest: manifest, from: 1 } }),
  },
  'get /designer/:id/:n/changes': {
    ok: DESK,
    json: true,
    req: () => ({ url: `/designer/${MATRIX}/2/changes` }),
  },
  'get /designer/:id/:n/package.zip': { ok: DESK, req: () => ({ url: `/designer/${MATRIX}/1/package.zip` }) },
  'post /designer/:id/:n/:action': {
    ok: DESK,
    json: true,
    req: (who) => ({
      url: `/designer/${MATRIX}/${versionFor('designerRetire', who)}/retire`,
      form: {},
    }),
  },
  'get /admin': { ok: ADMIN, req: () => ({ url: '/admin' }) },
  'get /admin/keys': { ok: ADMIN, req: () => ({ url: '/admin/keys' }) },
  'post /admin/keys': {
    ok: ADMIN,
    req: () => ({
      url: '/admin/keys',
      form: { name: 'made by the matrix page', role: 'marketing', repId: '' },
    }),
  },
  'get /admin/keys/:id/revoke': { ok: ADMIN, req: () => ({ url: `/admin/keys/${pageVictim.id}/revoke` }) },
  'post /admin/keys/:id/revoke': {
    ok: ADMIN,
    redirects: true,
    req: () => ({ url: `/admin/keys/${pageVictim.id}/revoke`, form: {} }),
  },
  'get /admin/reps': { ok: ADMIN, req: () => ({ url: '/admin/reps' }) },
  'get /admin/reps/:id': { ok: ADMIN, req: () => ({ url: '/admin/reps/rep-a' }) },
  'post /admin/reps/:id': {
    ok: ADMIN,
    redirects: true,
    req: () => ({ url: '/admin/reps/rep-a', body: profileForm() }),
  },
  'get /admin/reps/:id/photo': { ok: ADMIN, req: () => ({ url: '/admin/reps/rep-a/photo' }) },
  'get /admin/webhooks': { ok: ADMIN, req: () => ({ url: '/admin/webhooks' }) },
  'post /admin/webhooks': {
    ok: ADMIN,
    req: () => ({
      url: '/admin/webhooks',
      form: { url: 'https://crm.example/hooks/page', events: 'piece.created' },
    }),
  },
  'get /admin/webhooks/:id': { ok: ADMIN, req: () => ({ url: `/admin/webhooks/${webhooks.kept}` }) },
  'get /admin/webhooks/:id/delete': {
    ok: ADMIN,
    req: () => ({ url: `/admin/webhooks/${webhooks.pageVictim}/delete` }),
  },
  'post /admin/webhooks/:id/delete': {
    ok: ADMIN,
    redirects: true,
    req: () => ({ url: `/admin/webhooks/${webhooks.pageVictim}/delete`, form: {} }),
  },
  'get /admin/settings': { ok: ADMIN, req: () => ({ url: '/admin/settings' }) },
  'post /admin/settings': {
    ok: ADMIN,
    redirects: true,
    req: () => ({ url: '/admin/settings', form: { requireApproval: 'yes', retentionDays: '730' } }),
  },
  'get /waiting': { ok: ALL, redirects: true, req: () => ({ url: '/waiting' }) },
  'get /admin/people': { ok: ADMIN, req: () => ({ url: '/admin/people' }) },
  'post /admin/people': {
    ok: ADMIN,
    req: () => ({
      url: '/admin/people',
      form: { name: 'Added', email: 'added@harbor.example', role: 'marketing', repId: '' },
    }),
  },
  'post /admin/people/:id/password-link': {
    ok: ADMIN,
    req: () => ({ url: `/admin/people/${people.withPassword}/password-link`, form: {} }),
  },
  'post /admin/people/:id': {
    ok: ADMIN,
    redirects: true,
    req: () => ({ url: `/admin/people/${people.assigned}`, form: { role: 'marketing', repId: '' } }),
  },
  'post /admin/people/:id/disable': {
    ok: ADMIN,
    redirects: true,
    req: () => ({ url: `/admin/people/${people.disabled}/disable`, form: {} }),
  },
  'post /sign-out': { ok: ALL, signsOut: true, req: () => ({ url: '/sign-out', form: {} }) },
};

/** What a caller gets: served (2xx, or a redirect elsewhere), sent to sign in, or refused. */
type Outcome = '2xx' | '3xx' | 'sign-in' | '401' | '403' | '404';

/** The outcome the role rules give a caller of a route: the table's, or the refusal it implies. */
function expected(c: (Case & { public?: true }) | PageCase, who: Caller, page: boolean): Outcome {
  const { json, redirects, signsOut } = c as PageCase;
  if ('public' in c) return '2xx';
  if (who === 'personA') return expected(c, 'repA', page);
  // Signed in, with no role yet: every page but signing out sends them to wait (their own page).
  if (who === 'waiting')
    return signsOut ? 'sign-in' : c === PAGES['get /waiting'] ? '2xx' : json ? '403' : '3xx';
  if (who === 'none' || who === 'revoked' || who === 'malformed') return page && !json ? 'sign-in' : '401';
  if (c.ok.includes(who)) return signsOut ? 'sign-in' : redirects ? '3xx' : '2xx';
  if (c.hidden?.includes(who)) return '404';
  return '403';
}

function outcome(status: number, location: string | null): Outcome | string {
  if (status >= 200 && status < 300) return '2xx';
  if (status === 303 && location === '/sign-in') return 'sign-in';
  if (status >= 300 && status < 400) return '3xx';
  return String(status);
}

const API_AUTH: Record<Caller, Record<string, string>> = {} as Record<Caller, Record<string, string>>;

async function apiCall(op: string, who: Caller) {
  const [method] = op.split(' ') as [string];
  const req = API[op]!.req(who);
  return call(server.url, method, req.url, {
    headers: { ...API_AUTH[who], ...req.headers },
    ...(req.json === undefined ? {} : { json: req.json }),
    ...(req.body === undefined ? {} : { body: req.body }),
  });
}

async function pageCall(route: string, who: Caller) {
  const [method] = route.split(' ') as [string];
  const { url, ...options } = PAGES[route]!.req(who);
  const session: { cookie?: string; csrf?: string } =
    who === 'none'
      ? {}
      : who === 'malformed'
        ? { cookie: 'platen_session=not%20a%20session' }
        : who === 'personA' || who === 'waiting'
          ? personSessions[who]
          : { cookie: sessions[who].cookie, csrf: sessions[who].csrf };
  // Forms post their token as a field, as the pages' forms do; scripts send it as a header.
  const form = options.form && { ...options.form, ...(session.csrf ? { _csrf: session.csrf } : {}) };
  return pageRequest(server.url, method, url, {
    ...session,
    ...(form ? { form } : {}),
    ...(options.json === undefined ? {} : { json: options.json }),
    ...(options.body instanceof FormData ? { body: options.body } : {}),
  });
}

/** The page routes the router has, as `method path`. */
const pageOperations = async (): Promise<string[]> =>
  (await pageRoutes(server.running.services)).flatMap(({ path, methods }) =>
    methods.map((m) => `${m} ${path}`),
  );

interface Operation {
  responses?: Record<string, { description?: string; content?: Record<string, { schema?: unknown }> }>;
  requestBody?: { content?: Record<string, { schema?: Record<string, unknown> }> };
  parameters?: { name: string; in: string; required?: boolean }[];
  security?: unknown[];
  'x-roles'?: string[];
}
let doc: { openapi: string; info: { title: string }; paths: Record<string, Record<string, Operation>> };

/** Every operation of the document as `method path`. */
function operations() {
  return Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({
      op: `${method} ${path}`,
      method,
      path,
      operation,
    })),
  );
}

async function waitForJob(id: string, key: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const job = (await call(server.url, 'get', `/api/v1/jobs/${id}`, { key })).json as { state: string };
    if (job.state === 'done') return;
    if (job.state === 'failed' || job.state === 'cancelled') throw new Error(`job ${id} ${job.state}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`job ${id} did not finish`);
}

beforeAll(async () => {
  // With approval required, the approve route serves marketing and admins like every other.
  server = await startTestServer({
    env: { PLATEN_BATCH_WORKERS: '1', PLATEN_REQUIRE_APPROVAL: 'true', PLATEN_PASSWORD_SIGN_IN: '1' },
  });
  image = await gradientJpeg(320, 320);
  const matrixPackage = await makePackage(MATRIX, 'Matrix postcard');
  zip = await zipFolder(matrixPackage);
  manifest = JSON.parse(await readFile(join(matrixPackage, 'template.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  keys.admin = { id: '', key: server.adminKey, role: 'admin', name: 'first admin', repId: null };
  keys.repA = await createKey(server, 'rep', 'Rep A', 'rep-a');
  keys.repB = await createKey(server, 'rep', 'Rep B', 'rep-b');
  keys.marketing = await createKey(server, 'marketing', 'Marketing');
  keys.revoked = await createKey(server, 'rep', 'Rep A, an old key', 'rep-a');
  victim = await createKey(server, 'marketing', 'key to revoke');
  pageVictim = await createKey(server, 'marketing', 'key to revoke on the pages');
  for (const which of ['victim', 'pageVictim', 'kept'] as const) {
    const made = await call(server.url, 'post', '/api/v1/webhooks', {
      key: server.adminKey,
      json: { url: `https://crm.example/hooks/${which}`, events: ['piece.outcome'] },
    });
    expect(made.status).toBe(201);
    webhooks[which] = (made.json as { id: string }).id;
  }
  for (const who of [...PEOPLE, 'revoked'] as const) {
    API_AUTH[who] = { authorization: `Bearer ${keys[who].key}` };
    sessions[who] = await signInPages(server.url, keys[who].key);
  }
  // People, as the identity provider's callback makes them; rep A's role given as an admin gives it.
  const store = server.running.platen.store.people;
  const signOn = (subject: string) =>
    store.signIn({ issuer: 'https://id.example', subject, name: subject, email: `${subject}@id.example` });
  const personA = await signOn('person-a');
  await store.assign(personA.id, 'rep', 'rep-a');
  people.assigned = (await signOn('assigned')).id;
  people.disabled = (await signOn('disabled')).id;
  people.withPassword = (await store.create({
    name: 'With a password',
    email: 'password@harbor.example',
    role: 'rep',
    repId: 'rep-b',
  }))!.id;
  for (const [who, person, page] of [
    ['personA', personA, '/pieces'],
    ['waiting', await signOn('waiting'), '/waiting'],
  ] as const) {
    const { token } = await server.running.services.sessions.start({ personId: person.id });
    const cookie = `platen_session=${token}`;
    const home = await pageRequest(server.url, 'get', page, { cookie });
    expect(home.status, home.text).toBe(200);
    personSessions[who] = { cookie, csrf: csrfOf(home.text) };
  }
  API_AUTH.none = {};
  API_AUTH.malformed = { authorization: 'Bearer not a key' };
  const revoke = await call(server.url, 'delete', `/api/v1/keys/${keys.revoked.id}`, {
    key: server.adminKey,
  });
  expect(revoke.status).toBe(204);

  for (const who of REPS) {
    const profile = await call(server.url, 'put', '/api/v1/reps/me', {
      key: keys[who].key,
      body: profileForm(undefined, image),
    });
    expect(profile.status).toBe(200);
  }
  const render = await call(server.url, 'post', '/api/v1/renders', {
    key: keys.repA.key,
    json: postcardRender(),
  });
  expect(render.status).toBe(201);
  renderId = render.headers.get('location')!.split('/').pop()!;
  pieceCode = render.headers.get('platen-piece-code')!;
  const job = await call(server.url, 'post', '/api/v1/jobs', {
    key: keys.repA.key,
    body: jobForm('repA', 'pdf'),
  });
  expect(job.status).toBe(202);
  jobId = (job.json as { id: string }).id;

  const marketing = client(server.url, keys.marketing.key);
  let version = 0;
  const admin = client(server.url, keys.admin.key);
  for (const route of ['publish', 'retire', 'pageRetire', 'approve', 'designerRetire'] as const) {
    drafts[route] = {};
    for (const who of DESK) {
      // A version is approved by someone other than its creator: each approves the other's.
      const creator = route === 'approve' && who === 'marketing' ? admin : marketing;
      const upload = await uploadZip(creator, zip);
      expect(upload.status).toBe(201);
      drafts[route][who] = ++version;
      if (route === 'publish') {
        expect((await admin('post', `/api/v1/templates/${MATRIX}/versions/${version}/approve`)).status).toBe(
          200,
        );
      }
    }
  }
  await waitForJob(jobId, keys.repA.key);

  const res = await call(server.url, 'get', '/openapi.json');
  expect(res.status).toBe(200);
  doc = res.json as typeof doc;
});

afterAll(async () => {
  await server?.close();
  await cleanup();
});

describe('every route has an entry in the matrix', () => {
  test('the API: every operation of /openapi.json, and nothing else', () => {
    expect(
      operations()
        .map((o) => o.op)
        .sort(),
    ).toEqual(Object.keys(API).sort());
  });

  test('the pages: every route of the pages’ router, and nothing else', async () => {
    expect((await pageOperations()).sort()).toEqual([...PUBLIC_PAGES, ...Object.keys(PAGES)].sort());
  });

  test('the documented x-roles are the roles the matrix serves', () => {
    for (const { op, operation } of operations()) {
      const c = API[op]!;
      if ('public' in c) {
        expect(operation['x-roles'], op).toBeUndefined();
        expect(operation.security, op).toEqual([]);
        continue;
      }
      const roles = new Set([...c.ok, ...(c.hidden ?? [])].map((p) => ROLE[p]));
      expect([...(operation['x-roles'] ?? [])].sort(), op).toEqual([...roles].sort());
      expect(operation.security, op).toEqual([{ bearer: [] }]);
    }
  });
});

describe('the matrix', () => {
  test('the API: every operation × every caller', async () => {
    const wrong: string[] = [];
    for (const op of Object.keys(API)) {
      for (const who of CALLERS) {
        const want = expected(API[op]!, who, false);
        const res = await apiCall(op, who);
        const got = outcome(res.status, null);
        if (got !== want)
          wrong.push(
            `${op} as ${who}: want ${want}, got ${res.status} ${res.bytes.toString().slice(0, 160)}`,
          );
        if (want === '401' && res.headers.get('www-authenticate') !== 'Bearer')
          wrong.push(`${op} as ${who}: a 401 without the Bearer challenge`);
        if (want === '403' && (problem(res).code !== 'forbidden' || !problem(res).detail))
          wrong.push(`${op} as ${who}: a 403 that is not a forbidden problem`);
      }
    }
    expect(wrong).toEqual([]);
  });

  test('the pages: every signed-in route × every caller', async () => {
    const wrong: string[] = [];
    for (const route of Object.keys(PAGES)) {
      for (const who of PAGE_CALLERS) {
        const want = expected(PAGES[route]!, who, true);
        const res = await pageCall(route, who);
        const got = outcome(res.status, res.location);
        if (got !== want)
          wrong.push(`${route} as ${who}: want ${want}, got ${res.status} ${res.text.slice(0, 160)}`);
        // Refusals are pages for people (or a message for the scripts), never a bare status.
        if (want === '403' && !/not allowed|only/i.test(res.text))
          wrong.push(`${route} as ${who}: a 403 without a message`);
      }
    }
    expect(wrong).toEqual([]);
    // Signing out, last, ended each person's session.
    for (const who of PEOPLE) {
      const after = await pageRequest(server.url, 'get', '/batch', { cookie: sessions[who].cookie });
      expect(outcome(after.status, after.location), who).toBe('sign-in');
    }
    for (const who of ['personA', 'waiting'] as const) {
      const after = await pageRequest(server.url, 'get', '/batch', { cookie: personSessions[who].cookie });
      expect(outcome(after.status, after.location), who).toBe('sign-in');
    }
  });

  test('public page routes answer everyone', async () => {
    // Without an identity provider configured there is no single sign-on to start or finish.
    for (const path of ['/auth/sign-in', '/auth/callback?code=c&state=s'])
      expect((await pageRequest(server.url, 'get', path)).status, path).toBe(404);
    // A link to set a password that was never made is no page.
    const link = await pageRequest(server.url, 'get', `/set-password/${'A'.repeat(43)}`);
    expect(link.status).toBe(404);
    for (const who of CALLERS) {
      const cookie =
        who === 'none' || who === 'malformed'
          ? undefined
          : who === 'personA' || who === 'waiting'
            ? personSessions[who].cookie
            : sessions[who].cookie;
      expect((await pageRequest(server.url, 'get', '/sign-in', { cookie })).status).toBe(200);
      const start = await pageRequest(server.url, 'get', '/', { cookie });
      expect(start.status).toBe(303);
      // A tracked link leads on whoever follows it, and never starts or touches a session.
      const link = await pageRequest(server.url, 'get', `/r/${pieceCode}`, { cookie });
      expect(link.status).toBe(302);
      expect(link.headers.getSetCookie()).toEqual([]);
    }
  });
});

describe('the services enforce the policy themselves', () => {
  const callerOf = async (key: string): Promise<ApiKey> =>
    (await server.running.services.keys.authenticate(key))!;

  test('a rep cannot manage templates, keys, webhooks, settings or other reps’ profiles, nor read results, whatever face calls', async () => {
    const s = server.running.services;
    const rep = await callerOf(keys.repB.key);
    const zipFile = join(server.dataDir, 'matrix-package.zip');
    await writeFile(zipFile, zip);
    await expect(s.templates.upload(rep, zipFile)).rejects.toBeInstanceOf(ForbiddenError);
    await expect(s.templates.publish(rep, MATRIX, 1)).rejects.toBeInstanceOf(ForbiddenError);
    await expect(s.templates.retire(rep, MATRIX, 1)).rejects.toBeInstanceOf(ForbiddenError);
    await expect(s.keys.list(rep)).rejects.toBeInstanceOf(ForbiddenError);
    await expect(s.people.list(rep)).rejects.toBeInstanceOf(ForbiddenError);
    await expect(s.people.assign(rep, people.assigned, { role: 'admin' })).rejects.toBeInstanceOf(
      ForbiddenError,
    );
    await expect(s.people.disable(rep, people.assigned)).rejects.toBeInstanceOf(ForbiddenError);
    await expect(
      s.people.create(rep, { name: 'Me again', email: 'me@harbor.example', role: 'admin' }),
    ).rejects.toBeInstanceOf(ForbiddenError);
    await expect(s.people.passwordLink(rep, people.withPassword)).rejects.toBeInstanceOf(ForbiddenError);
    await expect(s.webhooks.list(rep)).rejects.toBeInstanceOf(ForbiddenError);
    await expect(
      s.webhooks.create(rep, { url: 'https://crm.example/', events: ['piece.created'] }),
    ).rejects.toBeInstanceOf(ForbiddenError);
    await expect(s.profiles.get(rep, 'rep-a')).rejects.toBeInstanceOf(ForbiddenError);
    await expect(s.settings.get(rep)).rejects.toBeInstanceOf(ForbiddenError);
    await expect(s.settings.update(rep, { requireApproval: false })).rejects.toBeInstanceOf(ForbiddenError);
    await expect(s.results.results(rep, { templateId: TEMPLATE, by: 'rep' })).rejects.toBeInstanceOf(
      ForbiddenError,
    );
    await expect(s.results.responses(rep, { templateId: TEMPLATE })).rejects.toBeInstanceOf(ForbiddenError);
    const draft = { manifest, from: 1 };
    const d = s.designer;
    await expect(d.check(rep, MATRIX, draft)).rejects.toBeInstanceOf(ForbiddenError);
    await expect(d.saveDraft(rep, MATRIX, draft)).rejects.toBeInstanceOf(ForbiddenError);
    await expect(
      d.preview(rep, MATRIX, { ...draft, page: 1, scale: 1, sample: 0 }, new AbortController().signal),
    ).rejects.toBeInstanceOf(ForbiddenError);
    await expect(d.storeAsset(rep, MATRIX, 'images/x.jpg', image)).rejects.toBeInstanceOf(ForbiddenError);
    await expect(d.packageZip(rep, MATRIX, 1)).rejects.toBeInstanceOf(ForbiddenError);
    await expect(d.changes(rep, MATRIX, 1)).rejects.toBeInstanceOf(ForbiddenError);
    await expect(d.approve(rep, MATRIX, 1)).rejects.toBeInstanceOf(ForbiddenError);
  });

  test('a rep sees only their own renders and jobs; marketing and admins see every rep’s', async () => {
    const s = server.running.services;
    const repB = await callerOf(keys.repB.key);
    await expect(s.renders.get(repB, renderId)).rejects.toBeInstanceOf(NotFoundError);
    await expect(s.renders.pdf(repB, renderId)).rejects.toBeInstanceOf(NotFoundError);
    expect((await s.renders.list(repB, { limit: 50 })).map((r) => r.id)).not.toContain(renderId);
    expect(await s.renders.list(repB, { repId: 'rep-a', limit: 50 })).toEqual([]);
    await expect(s.jobs.get(repB, jobId)).rejects.toBeInstanceOf(NotFoundError);
    await expect(s.pieces.get(repB, pieceCode)).rejects.toBeInstanceOf(NotFoundError);
    await expect(s.pieces.setOutcome(repB, pieceCode, 'won', null)).rejects.toBeInstanceOf(NotFoundError);
    expect(await s.pieces.list(repB, { repId: 'rep-a', limit: 50 })).toEqual([]);
    for (const who of ['repA', 'marketing', 'admin'] as const) {
      const caller = await callerOf(keys[who].key);
      expect((await s.pieces.get(caller, pieceCode)).piece.repId).toBe('rep-a');
      expect((await s.renders.get(caller, renderId)).repId).toBe('rep-a');
      expect((await s.renders.list(caller, { limit: 50 })).map((r) => r.id)).toContain(renderId);
      expect((await s.jobs.get(caller, jobId)).id).toBe(jobId);
    }
  });
});

describe('the OpenAPI document', () => {
  test('is OpenAPI 3.1 with responses for every operation', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.title).toBe('Platen API');
    for (const { op, method, path, operation } of operations()) {
      expect(['get', 'post', 'put', 'delete', 'patch'], op).toContain(method);
      const responses = Object.entries(operation.responses ?? {});
      expect(
        responses.some(([status]) => /^2\d\d$/.test(status)),
        `${op} documents a success response`,
      ).toBe(true);
      for (const [status, response] of responses) {
        expect(typeof response.description, `${op} ${status} description`).toBe('string');
      }
      // Every {param} of the path is a required path parameter.
      for (const [, name] of path.matchAll(/\{(\w+)\}/g)) {
        const param = operation.parameters?.find((p) => p.name === name && p.in === 'path');
        expect(param?.required, `${op} declares {${name}}`).toBe(true);
      }
    }
  });

  test('JSON routes document their request body schema', () => {
    const jsonRoutes = operations().filter(
      ({ operation }) => operation.requestBody?.content?.['application/json'],
    );
    expect(jsonRoutes.map((o) => o.op)).toEqual(
      expect.arrayContaining([
        'post /api/v1/renders',
        'post /api/v1/previews',
        'post /api/v1/previews/fit',
        'post /api/v1/keys',
        'post /api/v1/webhooks',
      ]),
    );
    for (const { op, operation } of jsonRoutes) {
      const schema = operation.requestBody!.content!['application/json']!.schema;
      expect(schema?.type, `${op} body schema`).toBe('object');
      expect(Object.keys((schema?.properties as object | undefined) ?? {}).length, op).toBeGreaterThan(0);
    }
    for (const { op, operation } of operations()) {
      for (const [media, content] of Object.entries(operation.requestBody?.content ?? {}))
        expect(content.schema, `${op} ${media} schema`).toBeTypeOf('object');
    }
    const upload = doc.paths['/api/v1/templates']!.post!.requestBody!.content!;
    expect(Object.keys(upload)).toEqual(expect.arrayContaining(['application/zip', 'multipart/form-data']));
  });

  test('the renders body schema is the one that validates: no additional properties', async () => {
    const schema = doc.paths['/api/v1/renders']!.post!.requestBody!.content!['application/json']!.schema!;
    expect(schema.additionalProperties).toBe(false);
    expect(Object.keys(schema.properties as object).sort()).toEqual(
      ['fields', 'prospect', 'templateId', 'version'].sort(),
    );
    expect(schema.required).toEqual(['templateId']);
    // What the document forbids, the route refuses, naming the key.
    const rep = client(server.url, keys.repA.key);
    const extra = await rep('post', '/api/v1/renders', {
      json: { ...postcardRender(), rep: { name: 'Someone Else' } },
    });
    expect(extra.status).toBe(422);
    expect(problem(extra).errors).toContainEqual(
      expect.objectContaining({ path: 'rep', rule: 'unknown_key' }),
    );
    const noId = await rep('post', '/api/v1/renders', { json: { prospect: {} } });
    expect(noId.status).toBe(422);
    expect(problem(noId).errors?.map((e) => e.path)).toContain('templateId');
  });

  test('a revoked key stays listed, marked revoked, and cannot be revoked twice', async () => {
    const admin = client(server.url, server.adminKey);
    const list = await admin('get', '/api/v1/keys');
    expect(list.status).toBe(200);
    const listed = (list.json as { keys: { id: string; revokedAt: string | null }[] }).keys;
    expect(listed.find((k) => k.id === keys.revoked.id)?.revokedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(listed.find((k) => k.id === keys.repA.id)?.revokedAt).toBeNull();
    // Secrets are never listed.
    expect(list.bytes.toString()).not.toContain(keys.repA.key);
    const again = await admin('delete', `/api/v1/keys/${keys.revoked.id}`);
    expect(again.status).toBe(404);
    expect(problem(again).code).toBe('not_found');
  });
});

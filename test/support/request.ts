/**
 * The same requests as server.ts's call(), for tests that read replies as text: the body as bytes and
 * text, JSON parsed on demand whatever the response's type says, and a reply in a few words.
 */
import { profileForm, type Photo, type ProfileForm, send, type TestServer } from './server.js';

export interface Reply {
  status: number;
  headers: Headers;
  body: Buffer;
  /** The body as text. */
  text: string;
  /** The body parsed as JSON (throws if it is not JSON). */
  json: <T = JsonObject>() => T;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are inspected loosely
export type JsonObject = Record<string, any>;

export interface RequestOptions {
  key?: string;
  /** A JSON body (serialized here) */
  json?: unknown;
  /** A raw body, sent as is (with `headers` naming its type). */
  body?: string | Buffer | FormData;
  headers?: Record<string, string>;
}

/** One request to the server; never throws for an HTTP error status. */
export async function request(
  server: { url: string },
  method: string,
  urlPath: string,
  options: RequestOptions = {},
): Promise<Reply> {
  const reply = await send(server.url, method, urlPath, options);
  const text = reply.bytes.toString('utf8');
  return {
    status: reply.status,
    headers: reply.headers,
    body: reply.bytes,
    text,
    json: <T = JsonObject>() => JSON.parse(text) as T,
  };
}

/** PUT /api/v1/reps/me (or `/api/v1/reps/:id` with an admin key when `repPath` is given). */
export function putProfile(
  server: TestServer,
  key: string,
  fields: ProfileForm,
  photo?: Photo,
  repPath = '/api/v1/reps/me',
): Promise<Reply> {
  return request(server, 'PUT', repPath, { key, body: profileForm(fields, photo) });
}

/** A reply in a few words, for assertion messages: JSON bodies as text, binary ones by type and size. */
export function brief(reply: Reply): string {
  const type = reply.headers.get('content-type') ?? '';
  if (/json|text/.test(type)) return `${reply.status} ${reply.text.slice(0, 2000)}`;
  return `${reply.status} ${type}, ${reply.body.length} bytes, location ${reply.headers.get('location')}`;
}

/** A phone's browser, as a tracked link's visitor (Node's own fetch is counted as a bot, not a response). */
export const PHONE_BROWSER =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';

import type { Db } from './db.js';
import { now } from './db.js';

/** How long an uploaded image may be used: longer than a session, so none expires mid-session. */
export const UPLOAD_HOURS = 24;

/**
 * Who uploaded which image, until when. The image itself is a blob; this row is what lets its
 * uploader, and only them, name it in a piece. Expired rows are deleted as new uploads come in.
 */
export class UploadStore {
  constructor(private readonly db: Db) {}

  /** Records (or renews) an upload of `sha256` by `owner` for UPLOAD_HOURS from now. */
  add(sha256: string, owner: string): void {
    const at = Date.now();
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM uploads WHERE expires_at <= ?').run(at);
      this.db
        .prepare(
          `INSERT INTO uploads (sha256, owner, created_at, expires_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (sha256, owner) DO UPDATE SET created_at = excluded.created_at, expires_at = excluded.expires_at`,
        )
        .run(sha256, owner, now(), at + UPLOAD_HOURS * 3_600_000);
    })();
  }

  /** Whether `owner` uploaded `sha256` and the upload has not expired. */
  owns(sha256: string, owner: string): boolean {
    return (
      this.db
        .prepare('SELECT 1 FROM uploads WHERE sha256 = ? AND owner = ? AND expires_at > ?')
        .get(sha256, owner, Date.now()) !== undefined
    );
  }
}

/**
 * API key rows for authentication, read on every request: a primary-key lookup that
 * leaves out revoked keys, so `key revoke` (in this process or any other sharing the
 * database) refuses the very next request — no cache period to wait out. The read is one
 * constant statement on the hot-path connection, which keeps it prepared (a few µs), not
 * a query built and prepared anew per request. Concurrent requests with one key share one
 * read.
 *
 * "Last used" is written at most once a minute per key, off the request's path: a write
 * per request would cost more than the minute of precision is worth.
 */
import { eq } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import type { Sql } from "../db/raw.ts";
import { apiKeys } from "../db/schema.ts";
import { loadsShared } from "../util/cached.ts";

const TOUCH_EVERY_MS = 60_000;
const MAX_TRACKED = 10_000;
// The same read says whether the account has anything on its suppression list: most have
// nothing, and then a submission need not look its recipients up (one statement less).
const LIVE_ROW = `SELECT k.account_id, k.key_hash, EXISTS (SELECT 1 FROM suppressions s WHERE s.account_id = k.account_id) AS listed
  FROM api_keys k WHERE k.id = ? AND k.revoked_at IS NULL`;

export interface ApiKeyRow {
  id: string;
  accountId: string;
  keyHash: string;
  /** The account had at least one suppression entry (in force or expired) at the time of the read. */
  suppressionsListed: boolean;
}

export class ApiKeyRows {
  private readonly inFlight = new Map<string, Promise<ApiKeyRow | null>>();
  private readonly touched = new Map<string, number>();
  private readonly recent = new Map<string, { row: ApiKeyRow | null; at: number }>();

  /**
   * `sql` reads (the hot-path connection); `db` writes "last used" outside any group commit.
   * `keepMs` > 0 (a remote database): a row read is reused that long (db/client.ts).
   */
  constructor(
    private readonly sql: Sql,
    private readonly db: () => Db,
    private readonly keepMs = 0,
    private readonly now: () => number = Date.now,
  ) {}

  /** The key's row unless it is revoked or unknown. */
  async get(id: string): Promise<ApiKeyRow | null> {
    if (this.keepMs <= 0) return this.read(id);
    const hit = this.recent.get(id);
    if (hit && this.now() - hit.at < this.keepMs) return hit.row;
    const at = this.now();
    const row = await this.read(id);
    if (this.recent.size >= MAX_TRACKED) this.recent.clear();
    this.recent.set(id, { row, at });
    return row;
  }

  private read(id: string): Promise<ApiKeyRow | null> {
    let p = loadsShared() ? this.inFlight.get(id) : undefined;
    if (!p) {
      p = this.sql.execute({ sql: LIVE_ROW, args: [id] }).then(
        (rs) => {
          this.inFlight.delete(id);
          const r = rs.rows[0];
          return r ? { id, accountId: String(r.account_id), keyHash: String(r.key_hash), suppressionsListed: Number(r.listed) !== 0 } : null;
        },
        (err: unknown) => {
          this.inFlight.delete(id);
          throw err;
        },
      );
      if (loadsShared()) this.inFlight.set(id, p);
    }
    return p;
  }

  /** Records a successful use (after the key matched), at most once a minute per key. */
  used(id: string, now: number): void {
    const last = this.touched.get(id) ?? -Infinity;
    if (now - last < TOUCH_EVERY_MS) return;
    if (this.touched.size >= MAX_TRACKED) this.touched.clear();
    this.touched.set(id, now);
    void this.db().update(apiKeys).set({ lastUsedAt: now }).where(eq(apiKeys.id, id)).catch(() => this.touched.delete(id));
  }
}

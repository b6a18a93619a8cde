/**
 * API key rows for authentication, read on every request: a primary-key lookup that
 * leaves out revoked keys, so `key revoke` (in this process or any other sharing the
 * database) refuses the very next request — no cache period to wait out. Concurrent
 * requests with one key share one read.
 *
 * "Last used" is written at most once a minute per key, off the request's path: a write
 * per request would cost more than the minute of precision is worth.
 */
import { and, eq, isNull } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { apiKeys } from "../db/schema.ts";

const TOUCH_EVERY_MS = 60_000;
const MAX_TRACKED = 10_000;

export interface ApiKeyRow {
  id: string;
  accountId: string;
  keyHash: string;
}

export class ApiKeyRows {
  private readonly inFlight = new Map<string, Promise<ApiKeyRow | null>>();
  private readonly touched = new Map<string, number>();

  constructor(private readonly database: () => Db) {}

  private get db(): Db {
    return this.database();
  }

  /** The key's row unless it is revoked or unknown. */
  get(id: string): Promise<ApiKeyRow | null> {
    let p = this.inFlight.get(id);
    if (!p) {
      p = this.db
        .select({ id: apiKeys.id, accountId: apiKeys.accountId, keyHash: apiKeys.keyHash })
        .from(apiKeys)
        .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
        .then((rows) => rows[0] ?? null)
        .finally(() => this.inFlight.delete(id));
      this.inFlight.set(id, p);
    }
    return p;
  }

  /** Records a successful use (after the key matched), at most once a minute per key. */
  used(id: string, now: number): void {
    const last = this.touched.get(id) ?? -Infinity;
    if (now - last < TOUCH_EVERY_MS) return;
    if (this.touched.size >= MAX_TRACKED) this.touched.clear();
    this.touched.set(id, now);
    void this.db.update(apiKeys).set({ lastUsedAt: now }).where(eq(apiKeys.id, id)).catch(() => this.touched.delete(id));
  }
}

/** `key list|revoke`: HTTP API keys by their visible id; the secret part is never stored. */
import { eq } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { accounts, apiKeys } from "../db/schema.ts";
import { apiKeyId } from "../policy/api-keys.ts";
import { accountIdByName } from "./accounts.ts";
import { Failure } from "../core/failure.ts";

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export interface KeyRow {
  id: string;
  account: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

export async function listKeys(db: Db, account?: string): Promise<KeyRow[]> {
  const accountId = account === undefined ? null : await accountIdByName(db, account);
  const rows = await db
    .select({ id: apiKeys.id, account: accounts.name, createdAt: apiKeys.createdAt, lastUsedAt: apiKeys.lastUsedAt, revokedAt: apiKeys.revokedAt })
    .from(apiKeys)
    .innerJoin(accounts, eq(accounts.id, apiKeys.accountId))
    .where(accountId === null ? undefined : eq(apiKeys.accountId, accountId))
    .orderBy(accounts.name, apiKeys.createdAt);
  return rows.map((r) => ({ id: r.id, account: r.account, created_at: iso(r.createdAt)!, last_used_at: iso(r.lastUsedAt), revoked_at: iso(r.revokedAt) }));
}

/**
 * Marks the key revoked. The gateway reads the row on every request (api-key-rows.ts), so
 * the very next request with it gets 401, in this process or any other. Takes the id
 * (the `sh_<id>_` part) or, for convenience, the whole key.
 */
export async function revokeKey(db: Db, idOrKey: string, now: number): Promise<KeyRow> {
  const id = apiKeyId(idOrKey) ?? idOrKey;
  const [row] = await db.select({ revokedAt: apiKeys.revokedAt }).from(apiKeys).where(eq(apiKeys.id, id));
  if (!row) throw new Failure("not-found", `no API key with id "${id}"`);
  if (row.revokedAt !== null) throw new Failure("conflict", `API key ${id} is already revoked`);
  await db.update(apiKeys).set({ revokedAt: now }).where(eq(apiKeys.id, id));
  return (await listKeys(db)).find((k) => k.id === id)!;
}

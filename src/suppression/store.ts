/**
 * The suppression list in SQL: look-ups at RCPT and at HTTP submission, bounce entries
 * written with the bounce, manual entries, removal. Every change is an account event
 * (`suppression.added` / `suppression.removed`) in the same transaction.
 */
import type { Sql } from "../db/raw.ts";
import { placeholders } from "../db/raw.ts";
import { appendEvent } from "../events/append.ts";
import type { UpstreamReply } from "../events/types.ts";
import { BOUNCE_SUPPRESSION_MS } from "./policy.ts";

export type SuppressionReason = "bounce" | "complaint" | "manual" | "unsubscribe";

export interface Suppression {
  id: number;
  address: string;
  reason: SuppressionReason;
  messageId: string | null;
  createdAt: number;
  expiresAt: number | null;
}

const COLUMNS = "id, address, reason, message_id, created_at, expires_at";
const ACTIVE = "(expires_at IS NULL OR expires_at > ?)";

function rowOf(r: Record<string, unknown>): Suppression {
  return {
    id: Number(r.id),
    address: String(r.address),
    reason: r.reason as SuppressionReason,
    messageId: (r.message_id as string | null) ?? null,
    createdAt: Number(r.created_at),
    expiresAt: r.expires_at === null || r.expires_at === undefined ? null : Number(r.expires_at),
  };
}

/** "user@example.com" or "*@example.com", lower-cased; null when it is neither. */
export function normalizeSuppressionAddress(input: string): string | null {
  const s = input.trim().toLowerCase();
  const at = s.lastIndexOf("@");
  if (at < 1 || at === s.length - 1 || s.length > 320) return null;
  const local = s.slice(0, at);
  const domain = s.slice(at + 1);
  if (!/^[a-z0-9.-]+$/u.test(domain) && !/^[\p{L}\p{N}.-]+$/u.test(domain)) return null;
  if (local === "*") return s;
  return /[\s<>*]/.test(local) ? null : s;
}

const domainOf = (address: string) => address.slice(address.lastIndexOf("@") + 1);

/** The entries in force for these recipients (exact or `*@domain`), by lower-cased address. */
export async function activeSuppressions(sql: Sql, accountId: string, addresses: string[], now: number): Promise<Map<string, Suppression>> {
  const wanted = [...new Set(addresses.flatMap((a) => [a.toLowerCase(), `*@${domainOf(a.toLowerCase())}`]))];
  const out = new Map<string, Suppression>();
  if (wanted.length === 0) return out;
  const rs = await sql.execute({
    sql: `SELECT ${COLUMNS} FROM suppressions WHERE account_id = ? AND address IN (${placeholders(wanted.length)}) AND ${ACTIVE}`,
    args: [accountId, ...wanted, now],
  });
  const byAddress = new Map(rs.rows.map((r) => [String(r.address), rowOf(r)]));
  for (const a of addresses) {
    const lower = a.toLowerCase();
    const hit = byAddress.get(lower) ?? byAddress.get(`*@${domainOf(lower)}`);
    if (hit) out.set(lower, hit);
  }
  return out;
}

// A bounce renews a bounce entry or replaces an expired one; a manual or complaint entry stays.
// created_at moves only when the entry starts anew, which is when the event is due.
const UPSERT_BOUNCE = `INSERT INTO suppressions (account_id, address, reason, message_id, created_at, expires_at) VALUES (?, ?, 'bounce', ?, ?, ?)
  ON CONFLICT (account_id, address) DO UPDATE SET
    created_at = CASE WHEN suppressions.expires_at IS NOT NULL AND suppressions.expires_at <= excluded.created_at THEN excluded.created_at ELSE suppressions.created_at END,
    reason = 'bounce', message_id = excluded.message_id, expires_at = excluded.expires_at
  WHERE suppressions.reason = 'bounce' OR (suppressions.expires_at IS NOT NULL AND suppressions.expires_at <= excluded.created_at)
  RETURNING created_at`;

export async function addBounceSuppression(sql: Sql, b: { accountId: string; account: string; address: string; messageId: string; reply: UpstreamReply; now: number }): Promise<void> {
  const address = b.address.toLowerCase();
  const expiresAt = b.now + BOUNCE_SUPPRESSION_MS;
  const rs = await sql.execute({ sql: UPSERT_BOUNCE, args: [b.accountId, address, b.messageId, b.now, expiresAt] });
  if (rs.rows.length === 0 || Number(rs.rows[0]!.created_at) !== b.now) return;
  await appendEvent(sql, {
    accountId: b.accountId,
    type: "suppression.added",
    messageId: b.messageId,
    data: { account: b.account, address, reason: "bounce", message_id: b.messageId, reply: b.reply, expires_at: new Date(expiresAt).toISOString() },
    now: b.now,
  });
}

const UPSERT_MANUAL = `INSERT INTO suppressions (account_id, address, reason, message_id, created_at, expires_at) VALUES (?, ?, ?, NULL, ?, NULL)
  ON CONFLICT (account_id, address) DO UPDATE SET reason = excluded.reason, message_id = NULL, created_at = excluded.created_at, expires_at = NULL`;

/** A manual (or complaint) entry: no expiry, replaces a bounce entry. `address` is already normalized. */
export async function addSuppression(sql: Sql, accountId: string, account: string, address: string, reason: "manual" | "complaint", now: number): Promise<void> {
  await sql.execute({ sql: UPSERT_MANUAL, args: [accountId, address, reason, now] });
  await appendEvent(sql, { accountId, type: "suppression.added", data: { account, address, reason }, now });
}

/** Removing re-activates the address at once. Returns false when there was no entry. */
export async function removeSuppression(sql: Sql, accountId: string, account: string, address: string, now: number): Promise<boolean> {
  const rs = await sql.execute({ sql: "DELETE FROM suppressions WHERE account_id = ? AND address = ? RETURNING reason", args: [accountId, address.toLowerCase()] });
  if (rs.rows.length === 0) return false;
  await appendEvent(sql, { accountId, type: "suppression.removed", data: { account, address: address.toLowerCase(), reason: String(rs.rows[0]!.reason) }, now });
  return true;
}

export async function getSuppression(sql: Sql, accountId: string, address: string, now: number): Promise<Suppression | null> {
  const rs = await sql.execute({ sql: `SELECT ${COLUMNS} FROM suppressions WHERE account_id = ? AND address = ? AND ${ACTIVE}`, args: [accountId, address.toLowerCase(), now] });
  return rs.rows[0] ? rowOf(rs.rows[0]) : null;
}

/** Entries in force, oldest first; `after` is the last id of the previous page. */
export async function listSuppressions(sql: Sql, accountId: string | null, q: { reason?: SuppressionReason; after?: number; limit: number; now: number }): Promise<(Suppression & { accountId: string })[]> {
  const where = [`${ACTIVE}`, "id > ?"];
  const args: (string | number)[] = [q.now, q.after ?? 0];
  if (accountId !== null) {
    where.push("account_id = ?");
    args.push(accountId);
  }
  if (q.reason) {
    where.push("reason = ?");
    args.push(q.reason);
  }
  const rs = await sql.execute({ sql: `SELECT ${COLUMNS}, account_id FROM suppressions WHERE ${where.join(" AND ")} ORDER BY id LIMIT ?`, args: [...args, q.limit] });
  return rs.rows.map((r) => ({ ...rowOf(r), accountId: String(r.account_id) }));
}

/** The JSON form of an entry (API and `--json`). */
export function suppressionJson(s: Suppression) {
  return {
    address: s.address,
    reason: s.reason,
    message_id: s.messageId,
    created_at: new Date(s.createdAt).toISOString(),
    expires_at: s.expiresAt === null ? null : new Date(s.expiresAt).toISOString(),
  };
}

/**
 * Committing an accepted message: idempotency claim, rate-limit count, message, its
 * recipients and the "accepted" event, all in one write transaction (shared with other
 * messages by group commit). Either all of it is durable when this returns, or none of it.
 */
import { placeholders, type Sql } from "../db/raw.ts";
import type { Writer } from "../db/shared-commit.ts";
import { recordMessageEvent } from "./message-events.ts";
import { groupsOf, type Lease } from "./handoff.ts";
import type { DeliveryGroup } from "./lease.ts";
import { scheduledRecipient } from "./schedule.ts";

export const IDEMPOTENCY_WINDOW_MS = 24 * 3600_000;

export interface NewRecipient {
  address: string;
  domain: string;
  notify?: string;
  orcpt?: string;
}

export interface NewMessage {
  id: string;
  accountId: string;
  source: "smtp" | "http" | "dsn";
  mailFrom: string;
  raw: Uint8Array;
  recipients: NewRecipient[];
  envid?: string;
  ret?: string;
  smtputf8: boolean;
  idempotencyKey?: string;
  /** Lease the recipients to this process's worker in the same transaction (src/queue/handoff.ts). */
  lease?: Lease | null;
  /** Not to be delivered before this time (ms): its recipients wait scheduled (queue/schedule.ts). */
  sendAt?: number;
}

/** `leased`: the recipients leased by `NewMessage.lease`, grouped for delivery. */
export type EnqueueOutcome = { id: string; duplicate: boolean; leased?: DeliveryGroup[] };

/**
 * `admit` runs inside the transaction after the idempotency check and before the inserts
 * (the rate limit); throwing from it rolls this message back.
 */
export async function enqueueMessage(writer: Writer, m: NewMessage, now: number, admit: ((sql: Sql) => Promise<void | "over_quota">) | null): Promise<EnqueueOutcome> {
  // Only a message with an idempotency key or a limit to check can be refused in the transaction.
  const isolated = m.idempotencyKey !== undefined || admit !== null;
  return writer.write(async (sql) => {
    if (m.idempotencyKey) {
      const existing = await claimIdempotencyKey(sql, m.accountId, m.idempotencyKey, m.id, now);
      if (existing) return { id: existing, duplicate: true };
    }
    // "over_quota": accepted, but its recipients wait held (src/shaping/over-limit.ts).
    const hold = await admit?.(sql);
    const leased = await insertMessage(sql, hold ? { ...m, holdReason: hold } : m, now);
    return { id: m.id, duplicate: false, leased };
  }, { isolated });
}

const INSERT_MESSAGE = `INSERT INTO messages (id, account_id, source, mail_from, raw, size, envid, ret, smtputf8, idempotency_key, created_at, send_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
const RECIPIENT_COLUMNS = "(message_id, address, domain, notify, orcpt, state, hold_reason, last_reply, next_attempt_at, updated_at, lease_until, lease_owner, waited_ms)";
// What `queue --state held` and the status API show for a recipient held over quota.
const OVER_QUOTA_TEXT = "held: over_quota (the account is over its limit; released as its windows allow)";

/**
 * The message, its recipients and its "accepted" event, inside the caller's transaction.
 * Returns the recipients leased by `m.lease` (none when held).
 */
export async function insertMessage(sql: Sql, m: NewMessage & { holdReason?: "over_quota" }, now: number): Promise<DeliveryGroup[] | undefined> {
  const sendAt = m.sendAt !== undefined && m.sendAt > now ? m.sendAt : null;
  await sql.execute({
    sql: INSERT_MESSAGE,
    args: [m.id, m.accountId, m.source, m.mailFrom, m.raw, m.raw.byteLength, m.envid ?? null, m.ret ?? null, m.smtputf8 ? 1 : 0, m.idempotencyKey ?? null, now, m.sendAt ?? null],
  });
  const lease = m.holdReason || sendAt !== null ? null : (m.lease ?? null);
  // Held over quota wins: the release keeps the schedule (shaping/over-limit.ts).
  const wait = m.holdReason ? { state: "held", reason: m.holdReason, text: OVER_QUOTA_TEXT, due: now, waited: 0 } : sendAt !== null ? scheduledRecipient(sendAt, now) : null;
  const rows = m.recipients.map(() => `(${placeholders(13)})`).join(", ");
  const inserted = await sql.execute({
    sql: `INSERT INTO recipients ${RECIPIENT_COLUMNS} VALUES ${rows}${lease ? " RETURNING id, address, domain, notify, orcpt" : ""}`,
    args: m.recipients.flatMap((r) => [
      m.id,
      r.address,
      r.domain.toLowerCase(),
      r.notify ?? null,
      r.orcpt ?? null,
      wait?.state ?? "queued",
      wait?.reason ?? null,
      wait?.text ?? null,
      wait?.due ?? now,
      now,
      lease?.until ?? 0,
      lease?.owner ?? null,
      wait?.waited ?? 0,
    ]),
  });
  await recordMessageEvent(sql, { messageId: m.id, trace: "accepted", detail: `${m.source}, ${m.recipients.length} recipient(s)${sendAt !== null ? `, scheduled for ${new Date(sendAt).toISOString()}` : ""}`, now });
  return lease ? groupsOf(m.id, inserted.rows) : undefined;
}

/** Returns the id of an earlier message with this key (within 24 h), or null once claimed for `id`. */
async function claimIdempotencyKey(sql: Sql, accountId: string, key: string, id: string, now: number): Promise<string | null> {
  await sql.execute({ sql: "DELETE FROM idempotency_keys WHERE account_id = ? AND key = ? AND created_at < ?", args: [accountId, key, now - IDEMPOTENCY_WINDOW_MS] });
  const claimed = await sql.execute({
    sql: "INSERT INTO idempotency_keys (account_id, key, message_id, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (account_id, key) DO NOTHING RETURNING message_id",
    args: [accountId, key, id, now],
  });
  if (claimed.rows.length > 0) return null;
  const rows = await sql.execute({ sql: "SELECT message_id FROM idempotency_keys WHERE account_id = ? AND key = ?", args: [accountId, key] });
  return (rows.rows[0]?.message_id as string | undefined) ?? null;
}

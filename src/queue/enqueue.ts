/**
 * Committing an accepted message: idempotency claim, rate-limit count, message, its
 * recipients and the "accepted" event, all in one write transaction (shared with other
 * messages by group commit). Either all of it is durable when this returns, or none of it.
 */
import type { InStatement, InValue } from "@libsql/client";
import { placeholders, type Plan, type Sql } from "../db/raw.ts";
import { consumeRate, rateInPlan, readCounters, refusalFrom, unlimited, type Limits, type RateRefusal } from "../policy/rate-limit.ts";
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

/** The account's limits, and what to do with a message they refuse. */
export interface Admission {
  limits: Limits;
  /** Throws the refusal (451 / 429): the message is not stored. */
  refuse(refusal: RateRefusal): never;
  /**
   * Over the limits with `--over-limit hold`: true when the message may wait held (inside
   * the write, shaping/over-limit.ts); false refuses it. Absent: refused at once.
   */
  hold?: (sql: Sql, refusal: RateRefusal) => Promise<boolean>;
}

type Planned = { kind: "stored"; outcome: EnqueueOutcome } | { kind: "refused"; refusal: RateRefusal };

/**
 * Stores a message unless its idempotency key was used or the limits refuse it. The usual
 * case is one plan (one request to a remote database, shared with concurrent messages by
 * group commit): every decision is made in SQL inside it. Only a message over its limits
 * on an account that holds instead of refusing takes a second, interactive write.
 */
export async function enqueueMessage(writer: Writer, m: NewMessage, now: number, admission: Admission | null): Promise<EnqueueOutcome> {
  const planned = await writer.writePlan(acceptPlan(m, now, admission?.limits ?? null));
  if (planned.kind === "stored") return planned.outcome;
  const { hold, refuse } = admission!;
  if (!hold) refuse(planned.refusal);
  return writer.write(async (sql) => {
    if (m.idempotencyKey) {
      const existing = await claimIdempotencyKey(sql, m.accountId, m.idempotencyKey, m.id, now);
      if (existing) return { id: existing, duplicate: true };
    }
    const rate = await consumeRate(sql, m.accountId, admission!.limits, now, m.recipients.length);
    if (!rate.ok && !(await hold!(sql, rate))) refuse(rate);
    // "over_quota": accepted, but its recipients wait held (src/shaping/over-limit.ts).
    const leased = await insertMessage(sql, rate.ok ? m : { ...m, holdReason: "over_quota" }, now);
    return { id: m.id, duplicate: false, leased };
  }, { isolated: true });
}

const MESSAGE_INTO = "INSERT INTO messages (id, account_id, source, mail_from, raw, size, envid, ret, smtputf8, idempotency_key, created_at, send_at)";
const INSERT_MESSAGE = `${MESSAGE_INTO} VALUES (${placeholders(12)})`;
const RECIPIENT_COLUMNS = "(message_id, address, domain, notify, orcpt, state, hold_reason, last_reply, next_attempt_at, updated_at, lease_until, lease_owner, waited_ms)";
const LEASED_COLUMNS = " RETURNING id, address, domain, notify, orcpt";
// What `queue --state held` and the status API show for a recipient held over quota.
const OVER_QUOTA_TEXT = "held: over_quota (the account is over its limit; released as its windows allow)";

const messageArgs = (m: NewMessage, now: number): InValue[] => [m.id, m.accountId, m.source, m.mailFrom, m.raw, m.raw.byteLength, m.envid ?? null, m.ret ?? null, m.smtputf8 ? 1 : 0, m.idempotencyKey ?? null, now, m.sendAt ?? null];

/** The recipient rows' values (13 per row), and the lease they are taken with, if any. */
function recipientRows(m: NewMessage & { holdReason?: "over_quota" }, now: number) {
  const sendAt = m.sendAt !== undefined && m.sendAt > now ? m.sendAt : null;
  const lease = m.holdReason || sendAt !== null ? null : (m.lease ?? null);
  // Held over quota wins: the release keeps the schedule (shaping/over-limit.ts).
  const wait = m.holdReason ? { state: "held", reason: m.holdReason, text: OVER_QUOTA_TEXT, due: now, waited: 0 } : sendAt !== null ? scheduledRecipient(sendAt, now) : null;
  const values = m.recipients.map(() => `(${placeholders(13)})`).join(", ");
  const args = m.recipients.flatMap((r): InValue[] => [
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
  ]);
  const detail = `${m.source}, ${m.recipients.length} recipient(s)${sendAt !== null ? `, scheduled for ${new Date(sendAt).toISOString()}` : ""}`;
  return { values, args, lease, detail };
}

/**
 * The whole acceptance as statements decided in SQL: the message row is inserted only when
 * the idempotency key is unused and every rate window has room, and every later statement
 * only when that row exists — so a refused or duplicate message writes nothing, and the
 * plan shares its transaction with other messages' plans without failing them.
 */
export function acceptPlan(m: NewMessage, now: number, limits: Limits | null): Plan<Planned> {
  const statements: InStatement[] = [];
  const conditions: string[] = [];
  const conditionArgs: InValue[] = [];
  const key = m.idempotencyKey;
  if (key) {
    statements.push({ sql: "DELETE FROM idempotency_keys WHERE account_id = ? AND key = ? AND created_at < ?", args: [m.accountId, key, now - IDEMPOTENCY_WINDOW_MS] });
    conditions.push("NOT EXISTS (SELECT 1 FROM idempotency_keys WHERE account_id = ? AND key = ?)");
    conditionArgs.push(m.accountId, key);
  }
  const rate = limits && !unlimited(limits) ? rateInPlan(m.accountId, limits, now, m.recipients.length) : null;
  if (rate) {
    conditions.push(rate.room.sql);
    conditionArgs.push(...rate.room.args);
  }
  const where = conditions.length > 0 ? ` WHERE ${conditions.join(" AND ")}` : "";
  const iMessage = statements.push({ sql: `${MESSAGE_INTO} SELECT ${placeholders(12)}${where} RETURNING id`, args: [...messageArgs(m, now), ...conditionArgs] }) - 1;
  // Without a condition the message is stored or the plan fails: nothing later needs a gate.
  const admitted = "EXISTS (SELECT 1 FROM messages WHERE id = ?)";
  const gate = conditions.length > 0 ? { sql: ` WHERE ${admitted}`, args: [m.id] } : { sql: "", args: [] };
  // A rate (a condition) always has the gate.
  if (rate) statements.push(rate.count(admitted, gate.args));
  if (key) statements.push({ sql: `INSERT INTO idempotency_keys (account_id, key, message_id, created_at) SELECT ?, ?, ?, ?${gate.sql}`, args: [m.accountId, key, m.id, now, ...gate.args] });
  const rows = recipientRows(m, now);
  const recipients = gate.sql ? `SELECT * FROM (VALUES ${rows.values})${gate.sql}` : `VALUES ${rows.values}`;
  const iRecipients = statements.push({ sql: `INSERT INTO recipients ${RECIPIENT_COLUMNS} ${recipients}${rows.lease ? LEASED_COLUMNS : ""}`, args: [...rows.args, ...gate.args] }) - 1;
  statements.push({ sql: `INSERT INTO events (message_id, type, detail, created_at) ${gate.sql ? `SELECT ?, 'accepted', ?, ?${gate.sql}` : "VALUES (?, 'accepted', ?, ?)"}`, args: [m.id, rows.detail, now, ...gate.args] });
  const iKey = key ? statements.push({ sql: "SELECT message_id FROM idempotency_keys WHERE account_id = ? AND key = ?", args: [m.accountId, key] }) - 1 : -1;
  const iCounters = rate ? statements.push(readCounters(m.accountId)) - 1 : -1;
  return {
    statements,
    decode: (results): Planned => {
      if (results[iMessage]!.rows.length > 0) return { kind: "stored", outcome: { id: m.id, duplicate: false, leased: rows.lease ? groupsOf(m.id, results[iRecipients]!.rows) : undefined } };
      const earlier = iKey >= 0 ? (results[iKey]!.rows[0]?.message_id as string | undefined) : undefined;
      if (earlier) return { kind: "stored", outcome: { id: earlier, duplicate: true } };
      const refusal = iCounters >= 0 ? refusalFrom(results[iCounters]!, limits!, now, m.recipients.length) : null;
      return { kind: "refused", refusal: refusal ?? { ok: false, window: "minute", retryAfterSeconds: 1 } };
    },
  };
}

/**
 * The message, its recipients and its "accepted" event, inside the caller's transaction.
 * Returns the recipients leased by `m.lease` (none when held).
 */
export async function insertMessage(sql: Sql, m: NewMessage & { holdReason?: "over_quota" }, now: number): Promise<DeliveryGroup[] | undefined> {
  await sql.execute({ sql: INSERT_MESSAGE, args: messageArgs(m, now) });
  const rows = recipientRows(m, now);
  const inserted = await sql.execute({ sql: `INSERT INTO recipients ${RECIPIENT_COLUMNS} VALUES ${rows.values}${rows.lease ? LEASED_COLUMNS : ""}`, args: rows.args });
  await recordMessageEvent(sql, { messageId: m.id, trace: "accepted", detail: rows.detail, now });
  return rows.lease ? groupsOf(m.id, inserted.rows) : undefined;
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

/**
 * Recording what an attempt did, per recipient, by the worker holding the lease: the new
 * state, the attempt count, the upstream's reply (as values and as one line), an event —
 * and the message's DSN, queued in the same transaction, so a bounce is never recorded
 * without its report.
 *
 * One DSN per message, not per recipient domain: bounced recipients wait (dsn_due) until
 * no other recipient of the message is still in its first attempt or being tried right
 * now; whoever records that last outcome sends one DSN covering every bounce not yet
 * reported. A recipient that bounces days later, after a retry, gets its own later DSN.
 *
 * Like Postfix removing a delivered queue file, recording an outcome does not wait for the
 * disk: at worst a power loss has the message delivered again.
 */
import type { InStatement, InValue } from "@libsql/client";
import type { Sql, SqlCondition } from "../db/raw.ts";
import { consumeRate } from "../policy/rate-limit.ts";
import { insertMessage, type NewMessage } from "./enqueue.ts";
import type { GroupCommit } from "../db/group-commit.ts";
import { contextOf, outcomeEventStatements, recordMessageEvent } from "./message-events.ts";
import type { TlsRecord } from "../core/tls-record.ts";

/** An SMTP reply as stored: RFC 5321 code, RFC 3463 enhanced code, text. */
export interface StoredReply {
  code: number;
  enhanced: string | null;
  text: string;
}

export const replyLine = (r: StoredReply) => `${r.code}${r.enhanced ? ` ${r.enhanced}` : ""} ${r.text}`.trim();

export interface RecipientUpdate {
  id: number;
  address: string;
  state: "delivered" | "deferred" | "bounced";
  /** For deferred: when to try again. */
  nextAttemptAt?: number;
  /** The upstream's reply (or the local reason). */
  reply: StoredReply;
  /** Where it was tried (route or MX host), for the event. */
  via: string;
  /** The host that answered, when one did. */
  remoteMta: string | null;
  /** Bounced, and the sender asked for (or did not refuse) a failure DSN. */
  dsnDue: boolean;
  /** The attempt's TLS outcome, when a session got that far. */
  tls?: TlsRecord;
}

/** A bounced recipient awaiting its report, as the DSN builder needs it. */
export interface DueBounce {
  address: string;
  orcpt: string | null;
  reply: StoredReply;
  remoteMta: string | null;
  at: number;
}

/**
 * Limits no count reaches: a DSN is counted in the account's windows but never refused
 * (RFC 5321 §6.1: once a message is accepted, its failure must be reported).
 */
const NEVER_REFUSED = { perMinute: Number.MAX_SAFE_INTEGER, perDay: Number.MAX_SAFE_INTEGER, recipientsPerDay: Number.MAX_SAFE_INTEGER };

const UPDATE_HELD = `UPDATE recipients SET state = ?, attempts = attempts + 1, next_attempt_at = ?, last_reply = ?,
  last_code = ?, last_enhanced = ?, last_text = ?, remote_mta = ?, dsn_due = ?, last_tls = ?,
  lease_until = 0, lease_owner = NULL, updated_at = ? WHERE id = ? AND lease_owner = ?`;
const UPDATE = `${UPDATE_HELD} RETURNING id, attempts`;

// smarthost_delivery_tls_total, counted with the attempt it counts (metrics.ts reads it).
const COUNT_TLS = `INSERT INTO delivery_tls_counts (outcome, result_type, n) VALUES (?, ?, 1)
  ON CONFLICT (outcome, result_type) DO UPDATE SET n = n + 1`;

// Still to be decided in this pass: never tried yet, or being tried by a worker now.
const UNDECIDED = `SELECT 1 FROM recipients WHERE message_id = ? AND state IN ('queued', 'deferred')
  AND (state = 'queued' OR lease_until > ?) LIMIT 1`;

const CLAIM_DUE = `UPDATE recipients SET dsn_due = 0 WHERE message_id = ? AND dsn_due = 1
  RETURNING id, address, orcpt, last_code, last_enhanced, last_text, remote_mta, updated_at`;

/** Returns the ids whose lease this owner still held (only those were recorded). */
export async function recordOutcomes(
  writer: GroupCommit,
  owner: string,
  messageId: string,
  updates: RecipientUpdate[],
  now: number,
  dsn: (due: DueBounce[]) => NewMessage | null,
): Promise<number[]> {
  // Delivered or deferred, with no bounce of the message awaiting its DSN: one plan. A bounce
  // now, or an earlier one still to report, needs the DSN built in this transaction.
  if (updates.every((u) => u.state !== "bounced")) {
    const planned = await recordPlanned(writer, owner, messageId, updates as PlannedUpdate[], now);
    if (planned !== DSN_PENDING) return planned;
  }
  return writer.write(async (sql: Sql) => {
    const recorded: number[] = [];
    for (const u of updates) {
      const line = replyLine(u.reply);
      const changed = await sql.execute({ sql: UPDATE, args: updateArgs(u, owner, now) });
      if (changed.rows.length === 0) continue; // the lease ran out and another worker has it
      recorded.push(u.id);
      if (u.tls) await sql.execute({ sql: COUNT_TLS, args: [u.tls.outcome, u.tls.result_type ?? ""] });
      await recordMessageEvent(sql, { messageId, recipient: u.address, trace: u.state, detail: `${line} (via ${u.via})`, now, reply: u.reply, via: u.via, attempt: Number(changed.rows[0]!.attempts), tls: u.tls });
    }
    if (recorded.length > 0) await reportBounces(sql, messageId, now, dsn);
    return recorded;
    // Not durable (src/db/group-commit.ts): an outcome a power loss forgets is tried
    // again; its DSN and events are in the same transaction, so they go or stay with it.
  }, { durable: false });
}

type PlannedUpdate = RecipientUpdate & { state: "delivered" | "deferred" };

/** recordPlanned wrote nothing: another recipient's bounce awaits its DSN. */
const DSN_PENDING = Symbol("dsn pending");

/**
 * The usual outcome (delivered or deferred, no DSN due) as one plan: every row is written
 * only while this owner still holds the recipient's lease and no bounce of the message
 * awaits its DSN, so it travels in one request with the others' (group commit) and needs no
 * answer midway. Nothing in the plan sets dsn_due: the guard reads the same in every statement.
 */
async function recordPlanned(writer: GroupCommit, owner: string, messageId: string, updates: PlannedUpdate[], now: number): Promise<number[] | typeof DSN_PENDING> {
  // Read before the write, outside the lock: known already for a message handed over.
  const ctx = await contextOf(writer.connection, messageId);
  const noDsnDue: SqlCondition = { sql: "NOT EXISTS (SELECT 1 FROM recipients WHERE message_id = ? AND dsn_due = 1)", args: [messageId] };
  const statements: InStatement[] = [];
  const updated: number[] = [];
  for (const u of updates) {
    const held: SqlCondition = { sql: `EXISTS (SELECT 1 FROM recipients WHERE id = ? AND lease_owner = ?) AND ${noDsnDue.sql}`, args: [u.id, owner, ...noDsnDue.args] };
    const line = replyLine(u.reply);
    if (u.tls) statements.push({ sql: `INSERT INTO delivery_tls_counts (outcome, result_type, n) SELECT ?, ?, 1 WHERE ${held.sql} ON CONFLICT (outcome, result_type) DO UPDATE SET n = n + 1`, args: [u.tls.outcome, u.tls.result_type ?? "", ...held.args] });
    const event = { messageId, recipient: u.address, trace: u.state, detail: `${line} (via ${u.via})`, now, reply: u.reply, via: u.via, tls: u.tls };
    statements.push(...outcomeEventStatements(ctx, event, held, { sql: "(SELECT attempts + 1 FROM recipients WHERE id = ?)", args: [u.id] }));
    updated.push(statements.push({ sql: `${UPDATE_HELD} AND ${noDsnDue.sql} RETURNING id`, args: [...updateArgs(u, owner, now), ...noDsnDue.args] }) - 1);
  }
  const pending = statements.push({ sql: `SELECT NOT (${noDsnDue.sql}) AS pending`, args: noDsnDue.args }) - 1;
  return writer.writePlan(
    {
      statements,
      decode: (results) => (Number(results[pending]!.rows[0]?.pending ?? 0) !== 0 ? DSN_PENDING : updated.flatMap((i) => results[i]!.rows.map((r) => Number(r.id)))),
    },
    { durable: false },
  );
}

const updateArgs = (u: RecipientUpdate, owner: string, now: number): InValue[] => {
  const r = u.reply;
  return [u.state, u.nextAttemptAt ?? now, replyLine(r), r.code, r.enhanced, r.text, u.remoteMta, u.dsnDue ? 1 : 0, u.tls ? JSON.stringify(u.tls) : null, now, u.id, owner];
};

/** Queues one DSN for the message's unreported bounces once nothing else is pending. */
async function reportBounces(sql: Sql, messageId: string, now: number, dsn: (due: DueBounce[]) => NewMessage | null): Promise<void> {
  if ((await sql.execute({ sql: UNDECIDED, args: [messageId, now] })).rows.length > 0) return;
  const rows = (await sql.execute({ sql: CLAIM_DUE, args: [messageId] })).rows;
  if (rows.length === 0) return;
  const due = rows
    .map((x) => ({
      id: Number(x.id),
      address: x.address as string,
      orcpt: (x.orcpt as string | null) ?? null,
      reply: { code: Number(x.last_code), enhanced: (x.last_enhanced as string | null) ?? null, text: (x.last_text as string | null) ?? "" },
      remoteMta: (x.remote_mta as string | null) ?? null,
      at: Number(x.updated_at),
    }))
    .sort((a, b) => a.id - b.id);
  const bounce = dsn(due.map(({ id: _, ...b }) => b));
  if (!bounce) return;
  await insertMessage(sql, bounce, now);
  // A DSN is sent whatever the limits say, but it counts: the account pays for it next.
  await consumeRate(sql, bounce.accountId, NEVER_REFUSED, now);
}

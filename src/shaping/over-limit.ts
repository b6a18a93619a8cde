/**
 * Over the account's limit, wait instead of failing (`account update NAME --over-limit
 * hold`): the message is accepted and its recipients held with reason over_quota; the
 * delivery loop releases them, oldest message first, as the account's windows allow — the
 * limit applies to what goes out. A backlog cap keeps a runaway sender from filling the
 * disk: past it, new mail is refused as before (451 4.7.1 / 429).
 *
 * Operator holds (`queue hold`) have no hold_reason and are never released here; a
 * recipient an operator released by hand (state no longer held) is no longer counted.
 */
import type { Sql } from "../db/raw.ts";
import { appendEvent } from "../events/append.ts";
import { consumeRate, type Limits } from "../policy/rate-limit.ts";
import type { GroupCommit } from "../db/group-commit.ts";

export const DEFAULT_HOLD_BACKLOG = 10_000;

const BACKLOG = `SELECT count(DISTINCT r.message_id) AS n FROM recipients r INDEXED BY recipients_over_quota
  JOIN messages m ON m.id = r.message_id WHERE r.hold_reason = 'over_quota' AND r.state = 'held' AND m.account_id = ?`;

/**
 * Inside the accepting transaction, for a message the limits refused: true when it may be
 * held (and its message.held event is appended), false when the backlog is full.
 */
export async function holdOverLimit(sql: Sql, m: { accountId: string; messageId: string; mailFrom: string; recipients: number; backlog: number | null; retryAfterSeconds: number }, now: number): Promise<boolean> {
  const held = Number((await sql.execute({ sql: BACKLOG, args: [m.accountId] })).rows[0]?.n ?? 0);
  if (held >= (m.backlog ?? DEFAULT_HOLD_BACKLOG)) return false;
  const name = (await sql.execute({ sql: "SELECT name FROM accounts WHERE id = ?", args: [m.accountId] })).rows[0]?.name;
  await appendEvent(sql, {
    accountId: m.accountId,
    type: "message.held",
    messageId: m.messageId,
    data: { message_id: m.messageId, account: name === undefined ? m.accountId : String(name), from: m.mailFrom, reason: "over_quota", recipients: m.recipients, release_after: new Date(now + m.retryAfterSeconds * 1000).toISOString() },
    now,
  });
  return true;
}

const HOLDING_ACCOUNTS = `SELECT DISTINCT m.account_id, a.per_minute, a.per_day, a.recipients_per_day
  FROM recipients r INDEXED BY recipients_over_quota JOIN messages m ON m.id = r.message_id
  JOIN accounts a ON a.id = m.account_id WHERE r.hold_reason = 'over_quota' AND r.state = 'held'`;

const OLDEST = `SELECT m.id, count(*) AS n FROM recipients r INDEXED BY recipients_over_quota JOIN messages m ON m.id = r.message_id
  WHERE r.hold_reason = 'over_quota' AND r.state = 'held' AND m.account_id = ? GROUP BY m.id ORDER BY m.created_at, m.id LIMIT 1`;

// A message also scheduled (send_at ahead) goes back to waiting for it (queue/schedule.ts).
const RELEASE = `UPDATE recipients SET state = 'queued', updated_at = ?2,
    next_attempt_at = max(?2, coalesce((SELECT send_at FROM messages WHERE id = ?1), 0)),
    hold_reason = CASE WHEN (SELECT send_at FROM messages WHERE id = ?1) > ?2 THEN 'scheduled' END
  WHERE message_id = ?1 AND hold_reason = 'over_quota' AND state = 'held' RETURNING address`;

/**
 * One release pass: for each account with held mail, its oldest held messages while its
 * windows have room, each counted by the same UPSERT that counts accepted mail. Each
 * message is released in its own write transaction (which SQLite serializes across
 * nodes), so two nodes never release one message twice or past the limit.
 */
export async function releaseOverLimit(writer: GroupCommit, read: Sql, now: number, maxPerAccount = 1000): Promise<number> {
  // A plain read first: an idle pass opens no write transaction.
  const holding = await read.execute(HOLDING_ACCOUNTS);
  let released = 0;
  for (const row of holding.rows) {
    const accountId = String(row.account_id);
    const limits: Limits = { perMinute: num(row.per_minute), perDay: num(row.per_day), recipientsPerDay: num(row.recipients_per_day) };
    for (let i = 0; i < maxPerAccount; i++) {
      const went = await writer.write(async (sql) => {
        const oldest = (await sql.execute({ sql: OLDEST, args: [accountId] })).rows[0];
        if (!oldest) return false;
        const rate = await consumeRate(sql, accountId, limits, now, Number(oldest.n));
        if (!rate.ok) return false;
        const rs = await sql.execute({ sql: RELEASE, args: [String(oldest.id), now] });
        for (const r of rs.rows) {
          await sql.execute({ sql: "INSERT INTO events (message_id, recipient, type, detail, created_at) VALUES (?, ?, 'released', 'over_quota: the account has room again', ?)", args: [String(oldest.id), String(r.address), now] });
        }
        return true;
      });
      if (!went) break;
      released++;
    }
  }
  return released;
}

const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

/** Messages held over quota per account (dashboard, account show). */
export async function heldOverLimitCounts(sql: Sql): Promise<{ account_id: string; messages: number; recipients: number }[]> {
  const rs = await sql.execute(`SELECT m.account_id, count(DISTINCT r.message_id) AS messages, count(*) AS recipients
    FROM recipients r INDEXED BY recipients_over_quota JOIN messages m ON m.id = r.message_id WHERE r.hold_reason = 'over_quota' AND r.state = 'held' GROUP BY m.account_id`);
  return rs.rows.map((r) => ({ account_id: String(r.account_id), messages: Number(r.messages), recipients: Number(r.recipients) }));
}

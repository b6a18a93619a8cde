/**
 * Scheduled sends: a message accepted with `"send_at"` is stored at once (the 2xx means
 * committed, as always) and its recipients wait queued with hold_reason 'scheduled' and
 * next_attempt_at at send_at, so the lease (queue/lease.ts) takes none of them before
 * then and `queue` lists them with when they are due. The wait is counted as waited_ms,
 * so the queue lifetime runs from send_at, not from acceptance.
 *
 * Until the first attempt the sender may move send_at (PATCH /v1/messages/{id}, `queue
 * reschedule`) or cancel what is not sent yet (DELETE /v1/messages/{id}): recipients
 * become 'canceled', final, with an event each.
 */
import { Failure } from "../core/failure.ts";
import type { Sql } from "../db/raw.ts";
import type { Writer } from "../db/shared-commit.ts";

/** How far ahead a message may be scheduled. */
export const MAX_SCHEDULE_AHEAD_MS = 30 * 86_400_000;

// RFC 3339 §5.6 date-time: full-date "T" full-time with a required offset (Z or ±hh:mm).
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

/**
 * `send_at` as ms since the epoch: an RFC 3339 date-time, in the future (a minute's grace
 * for clock skew: anything within it is sent at once) and at most 30 days ahead.
 */
export function parseSendAt(value: unknown, now: number, field = "send_at"): number {
  const bad = (message: string) => new Failure("invalid", `${field}: ${message}`, { code: "invalid_send_at", field });
  if (typeof value !== "string") throw bad("must be an RFC 3339 date-time string");
  const m = RFC3339.exec(value);
  const at = m ? Date.parse(value.replace(/[t ]/, "T")) : NaN;
  // Date.parse rolls 2025-02-30 over to March: the fields must read back as given.
  if (!m || Number.isNaN(at) || Number(m[2]) > 12 || Number(m[3]) > 31 || Number(m[4]) > 23 || Number(m[5]) > 59 || Number(m[6]) > 60) {
    throw bad("must be an RFC 3339 date-time, e.g. 2030-01-01T09:00:00Z");
  }
  if (at < now - 60_000) throw bad("is in the past");
  if (at > now + MAX_SCHEDULE_AHEAD_MS) throw bad(`is more than ${MAX_SCHEDULE_AHEAD_MS / 86_400_000} days ahead`);
  return at;
}

/** How a recipient of a message scheduled for `sendAt` is inserted (queue/enqueue.ts). */
export function scheduledRecipient(sendAt: number, now: number) {
  return { state: "queued", reason: "scheduled", text: scheduledText(sendAt), due: sendAt, waited: sendAt - now } as const;
}

const scheduledText = (sendAt: number) => `scheduled: not sent before ${new Date(sendAt).toISOString()}`;

/** A message's owner check: an account's own messages (HTTP), or any (the operator: accountId null). */
async function requireOwned(sql: Sql, id: string, accountId: string | null): Promise<{ createdAt: number }> {
  const rs = await sql.execute({ sql: "SELECT account_id, created_at FROM messages WHERE id = ?", args: [id] });
  const row = rs.rows[0];
  if (!row || (accountId !== null && row.account_id !== accountId)) throw new Failure("not-found", "No such message", { code: "not_found" });
  return { createdAt: Number(row.created_at) };
}

/**
 * Moves a message's send_at (or schedules a message still waiting unsent). 409 once any
 * recipient was attempted, delivered, canceled or is being delivered.
 */
export async function rescheduleMessage(writer: Writer, o: { id: string; accountId: string | null; sendAt: number; now: number }): Promise<void> {
  await writer.write(
    async (sql) => {
      const { createdAt } = await requireOwned(sql, o.id, o.accountId);
      const rs = await sql.execute({
        sql: `UPDATE recipients SET next_attempt_at = ?1, hold_reason = 'scheduled', last_reply = ?2, waited_ms = max(0, ?1 - ?3), updated_at = ?4
              WHERE message_id = ?5
                -- Nothing sent: every recipient still waits for its first attempt, none in delivery.
                AND NOT EXISTS (SELECT 1 FROM recipients WHERE message_id = ?5 AND NOT (state = 'queued' AND attempts = 0 AND lease_until <= ?4))
              RETURNING address`,
        args: [o.sendAt, scheduledText(o.sendAt), createdAt, o.now, o.id],
      });
      if (rs.rows.length === 0) throw new Failure("conflict", "send_at can only change while every recipient waits for its first attempt: this message is already being sent", { code: "already_sent" });
      await sql.execute({ sql: "UPDATE messages SET send_at = ? WHERE id = ?", args: [o.sendAt, o.id] });
      await sql.execute({ sql: "INSERT INTO events (message_id, recipient, type, detail, created_at) VALUES (?, NULL, 'rescheduled', ?, ?)", args: [o.id, `send_at ${new Date(o.sendAt).toISOString()}`, o.now] });
    },
    { isolated: true },
  );
}

export interface Canceled {
  canceled: number;
  /** Recipients being delivered at this moment, left as they are. */
  in_delivery: number;
}

/**
 * Cancels every recipient not sent yet (queued, deferred, held — scheduled or not). 409
 * when nothing is left to cancel: everything was delivered, bounced or already canceled.
 */
export async function cancelMessage(writer: Writer, o: { id: string; accountId: string | null; now: number; by: string }): Promise<Canceled> {
  return writer.write(
    async (sql) => {
      await requireOwned(sql, o.id, o.accountId);
      const rs = await sql.execute({
        sql: `UPDATE recipients SET state = 'canceled', last_reply = ?, updated_at = ?
              WHERE message_id = ? AND state IN ('queued', 'deferred', 'held') AND lease_until <= ? RETURNING address`,
        args: [`canceled by the ${o.by}`, o.now, o.id, o.now],
      });
      const busy = await sql.execute({ sql: "SELECT count(*) AS n FROM recipients WHERE message_id = ? AND state IN ('queued', 'deferred') AND lease_until > ?", args: [o.id, o.now] });
      const inDelivery = Number(busy.rows[0]?.n ?? 0);
      if (rs.rows.length === 0) {
        throw new Failure("conflict", inDelivery > 0 ? "The message is being delivered now: nothing left to cancel" : "Nothing left to cancel: every recipient was already sent or canceled", { code: "already_sent" });
      }
      for (const r of rs.rows) {
        await sql.execute({ sql: "INSERT INTO events (message_id, recipient, type, detail, created_at) VALUES (?, ?, 'canceled', ?, ?)", args: [o.id, String(r.address), `canceled by the ${o.by}`, o.now] });
      }
      return { canceled: rs.rows.length, in_delivery: inDelivery };
    },
    { isolated: true },
  );
}

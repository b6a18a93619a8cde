/**
 * One message as its readers see it — the HTTP API (GET /v1/messages/:id), and the trace
 * behind `queue show` and the dashboard: envelope, per-recipient state with the last reply
 * and TLS outcome (decoded once, core/tls-record.ts), and the events in order.
 */
import { and, asc, eq } from "drizzle-orm";
import { Failure } from "../core/failure.ts";
import { decodeTlsRecord } from "../core/tls-record.ts";
import type { Db } from "../db/client.ts";
import { events, messages, recipients } from "../db/schema.ts";

const tlsField = (stored: unknown) => {
  const tls = decodeTlsRecord(stored);
  return tls ? { tls } : {};
};

/** The status view of one message, for its own account only. */
export async function messageView(db: Db, accountId: string, id: string) {
  // Everything but the message bytes, which can be megabytes and are not shown.
  const rows = await db
    .select({ id: messages.id, source: messages.source, mailFrom: messages.mailFrom, size: messages.size, createdAt: messages.createdAt, sendAt: messages.sendAt })
    .from(messages)
    .where(and(eq(messages.id, id), eq(messages.accountId, accountId)));
  const m = rows[0];
  if (!m) throw new Failure("not-found", "No such message", { code: "not_found" });
  const rcpts = await db.select().from(recipients).where(eq(recipients.messageId, id)).orderBy(asc(recipients.id));
  const evs = await db.select().from(events).where(eq(events.messageId, id)).orderBy(asc(events.id));
  const states = new Set(rcpts.map((r) => r.state));
  const status = states.size === 1 ? [...states][0]! : states.has("queued") || states.has("deferred") || states.has("held") ? "partially_delivered" : "completed";
  return {
    id: m.id,
    status,
    source: m.source,
    mail_from: m.mailFrom,
    size: m.size,
    created_at: new Date(m.createdAt).toISOString(),
    // Scheduled sends (queue/schedule.ts): when it goes, null when sent at once.
    send_at: m.sendAt === null ? null : new Date(m.sendAt).toISOString(),
    recipients: rcpts.map((r) => ({
      address: r.address,
      state: r.state,
      attempts: r.attempts,
      next_attempt_at: r.state === "queued" || r.state === "deferred" ? new Date(r.nextAttemptAt).toISOString() : null,
      last_reply: r.lastReply,
      ...(r.lastCode !== null ? { reply: { code: r.lastCode, enhanced: r.lastEnhanced, text: r.lastText ?? "" } } : {}),
      ...tlsField(r.lastTls),
    })),
    events: evs.map((e) => ({ type: e.type, recipient: e.recipient, detail: e.detail, ...(e.reply ? { reply: e.reply } : {}), ...tlsField(e.tls), at: new Date(e.createdAt).toISOString() })),
  };
}

/**
 * Every message event goes through here, inside the transaction that changes the
 * message: the trace row (GET /v1/messages/:id), and for outcomes the account's event
 * with its webhook deliveries and, for a bounce that is the recipient's fault, the
 * suppression entry. One function, so no call site can store an event without the rest.
 */
import type { InStatement, InValue } from "@libsql/client";
import type { Sql, SqlCondition } from "../db/raw.ts";
import { headerValues } from "../mime/headers.ts";
import { addBounceSuppression } from "../suppression/store.ts";
import { suppressesRecipient } from "../suppression/policy.ts";
import { appendEvent, appendEventStatements, type NewEvent } from "../events/append.ts";
import { bounceClass, parseReplyLine } from "../events/reply.ts";
import type { EventData, UpstreamReply } from "../events/types.ts";
import type { TlsRecord } from "../core/tls-record.ts";

export type TraceType = "accepted" | "delivered" | "deferred" | "bounced";

export interface MessageEvent {
  messageId: string;
  recipient?: string | null;
  trace: TraceType;
  /** The trace row's text. */
  detail: string;
  now: number;
  /** For outcomes: the upstream's reply (typed, or its one-line form). */
  reply?: UpstreamReply | string;
  /** Where it was tried (route label or MX host). */
  via?: string;
  /** The attempt's number (the recipient row's count after this attempt). */
  attempt?: number;
  /** The attempt's TLS outcome (delivery/tls-outcome.ts). */
  tls?: TlsRecord;
  /** A bounce reported by a DSN after the message was handed over (inbound/act.ts). */
  late?: boolean;
}

export interface MessageContext {
  accountId: string;
  account: string | null;
  from: string;
  subject: string | null;
  /** DSNs the relay made: their fate is not the sender's business. */
  isDsn: boolean;
}

// A message's account, sender and subject never change: read once per message while it is being delivered.
const contexts = new Map<string, MessageContext>();
const CONTEXT_CACHE = 1024;
// The subject lives in the header block; the first bytes hold it without reading a large message.
const HEAD_BYTES = 16_384;

export async function contextOf(sql: Sql, messageId: string): Promise<MessageContext | null> {
  const hit = contexts.get(messageId);
  if (hit) return hit;
  const rs = await sql.execute({
    sql: `SELECT m.account_id, m.source, m.mail_from, a.name, substr(m.raw, 1, ${HEAD_BYTES}) AS head
      FROM messages m LEFT JOIN accounts a ON a.id = m.account_id WHERE m.id = ?`,
    args: [messageId],
  });
  const r = rs.rows[0];
  if (!r) return null;
  // A blob arrives as a Uint8Array (native driver) or an ArrayBuffer (@libsql/client).
  const head = r.head instanceof Uint8Array ? r.head : r.head instanceof ArrayBuffer ? new Uint8Array(r.head) : new TextEncoder().encode(String(r.head ?? ""));
  const ctx: MessageContext = {
    accountId: String(r.account_id),
    account: (r.name as string | null) ?? null,
    from: String(r.mail_from),
    subject: headerValues(head, "subject")[0] ?? null,
    isDsn: r.source === "dsn",
  };
  if (contexts.size >= CONTEXT_CACHE) contexts.delete(contexts.keys().next().value!);
  contexts.set(messageId, ctx);
  return ctx;
}

/**
 * What the accepting process already knows of a message it hands to its own worker
 * (src/queue/handoff.ts): its outcomes then need no read of the message back. The subject
 * is taken from the same first bytes contextOf reads.
 */
export function primeMessageContext(messageId: string, m: { accountId: string; account: string | null; from: string; raw: Uint8Array }): void {
  if (contexts.size >= CONTEXT_CACHE) contexts.delete(contexts.keys().next().value!);
  contexts.set(messageId, { accountId: m.accountId, account: m.account, from: m.from, subject: headerValues(m.raw.subarray(0, HEAD_BYTES), "subject")[0] ?? null, isDsn: false });
}

const OUTCOME_TYPES = { delivered: "message.delivered", deferred: "message.deferred", bounced: "message.bounced" } as const;

const TRACE = "INSERT INTO events (message_id, recipient, type, detail, reply, tls, created_at)";
const traceArgs = (e: MessageEvent): InValue[] => {
  // The trace row keeps the typed reply (JSON) next to its one-line text.
  const typed = e.reply !== undefined && typeof e.reply !== "string" ? JSON.stringify(e.reply) : null;
  return [e.messageId, e.recipient ?? null, e.trace, e.detail, typed, e.tls ? JSON.stringify(e.tls) : null, e.now];
};

/** An outcome's event for the account's feed (and its webhooks), as the sender sees it. */
function outcomeEvent(ctx: MessageContext, e: MessageEvent): NewEvent & { accountId: string; reply?: UpstreamReply } {
  const reply = e.reply === undefined ? undefined : typeof e.reply === "string" ? parseReplyLine(e.reply) : e.reply;
  const data: EventData = {
    message_id: e.messageId,
    account: ctx.account ?? ctx.accountId,
    from: ctx.from,
    recipient: e.recipient ?? undefined,
    subject: ctx.subject ?? undefined,
    reply,
    route: e.via,
    attempt: e.attempt,
  };
  if (e.trace === "bounced" && reply) data.bounce_class = bounceClass(reply);
  if (e.late) data.late = true;
  return { accountId: ctx.accountId, type: OUTCOME_TYPES[e.trace as keyof typeof OUTCOME_TYPES], messageId: e.messageId, data, now: e.now, reply };
}

export async function recordMessageEvent(sql: Sql, e: MessageEvent): Promise<void> {
  await sql.execute({ sql: `${TRACE} VALUES (?, ?, ?, ?, ?, ?, ?)`, args: traceArgs(e) });
  if (e.trace !== "delivered" && e.trace !== "deferred" && e.trace !== "bounced") return;
  const ctx = await contextOf(sql, e.messageId);
  if (!ctx || ctx.isDsn) return;
  const { reply, ...event } = outcomeEvent(ctx, e);
  await appendEvent(sql, event);
  if (e.trace === "bounced" && reply && e.recipient && suppressesRecipient(reply)) {
    await addBounceSuppression(sql, { accountId: ctx.accountId, account: event.data.account!, address: e.recipient, messageId: e.messageId, reply, now: e.now });
  }
}

/**
 * A delivered or deferred outcome's rows as statements for a plan, run only where `when`
 * holds: the trace row, the account's event and its webhook deliveries. The attempt number
 * is read in SQL (`attempt`); the context was read before (contextOf). A bounce, which may
 * add a suppression, goes through recordMessageEvent.
 */
export function outcomeEventStatements(ctx: MessageContext | null, e: MessageEvent & { trace: "delivered" | "deferred" }, when: SqlCondition, attempt: { sql: string; args: InValue[] }): InStatement[] {
  const trace: InStatement = { sql: `${TRACE} SELECT ?, ?, ?, ?, ?, ?, ? WHERE ${when.sql}`, args: [...traceArgs(e), ...when.args] };
  if (!ctx || ctx.isDsn) return [trace];
  // A placeholder keeps the field where the feed has it; the statement sets the number.
  const { reply: _, ...event } = outcomeEvent(ctx, { ...e, attempt: 0 });
  return [trace, ...appendEventStatements(event, when, { path: "$.attempt", ...attempt })];
}
